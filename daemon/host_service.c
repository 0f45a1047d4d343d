/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host_service.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "host_json.h"
#include "json_util.h"
#include "libvfio_errors.h"
#include "log.h"
#include "macro.h"
#include "mdev.h"
#include "pci_address.h"
#include "readiness.h"
#include "strv.h"
#include "varlink_message.h"

struct HostService {
	sd_event *event;
	SysfsRoot root;
	bool live; /* the root is the running system's: uevents describe it */
	PciNames *names; /* pci.ids, loaded once */
	QemuProbe *qemu;
	HostModel *model;
	HostOptions options; /* from the configuration */
	bool stale;
	int uevent_fd;
	sd_event_source *uevent_source;
};

/* ---- keeping the model fresh ---- */

static uint64_t now(clockid_t clock)
{
	struct timespec ts;
	(void)clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

int host_service_model(HostService *service, bool refresh, const HostModel **ret)
{
	if (refresh || service->stale || !service->live || !service->model) {
		HostModel *model = NULL;
		uint64_t start = now(CLOCK_MONOTONIC);
		int r = host_discover(&service->root, service->names, &service->options, &model);
		if (r < 0)
			return r;
		log_debug("Host model rebuilt%s: %zu PCI functions in %.1f ms",
			  service->stale ? " after a device change" : "", model->n_functions,
			  (double)(now(CLOCK_MONOTONIC) - start) / 1000.0);
		host_model_free(service->model);
		service->model = model;
		service->stale = false;
	}
	*ret = service->model;
	return 0;
}

/* True for a uevent ("ACTION@DEVPATH\0KEY=VALUE\0...") about a device we model. */
static bool uevent_is_relevant(const char *buffer, size_t size)
{
	static const char *const subsystems[] = { "SUBSYSTEM=pci", "SUBSYSTEM=mdev",
						  "SUBSYSTEM=vfio", "SUBSYSTEM=iommu_group" };
	for (size_t offset = 0; offset < size;
	     offset += strnlen(buffer + offset, size - offset) + 1)
		for (size_t i = 0; i < ELEMENTSOF(subsystems); i++)
			if (strncmp(buffer + offset, subsystems[i], size - offset) == 0)
				return true;
	return false;
}

static int on_uevent(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	HostService *service = userdata;
	char buffer[8192];

	for (;;) {
		struct sockaddr_nl sender;
		struct iovec iov = { buffer, sizeof(buffer) };
		struct msghdr message = { .msg_name = &sender,
					  .msg_namelen = sizeof(sender),
					  .msg_iov = &iov,
					  .msg_iovlen = 1 };
		ssize_t n = recvmsg(fd, &message, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS) {
				service->stale = true; /* events were lost: assume the worst */
				continue;
			}
			return 0;
		}
		/* Only the kernel (port 0) speaks for devices. */
		if (sender.nl_pid != 0 || (message.msg_flags & MSG_TRUNC))
			continue;
		if (uevent_is_relevant(buffer, (size_t)n) && !service->stale) {
			log_debug("A device changed; the host model will be rebuilt");
			service->stale = true;
		}
	}
}

static int watch_uevents(HostService *service)
{
	struct sockaddr_nl address = { .nl_family = AF_NETLINK, .nl_groups = 1 /* kernel */ };

	service->uevent_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
				    NETLINK_KOBJECT_UEVENT);
	if (service->uevent_fd < 0)
		return negative_errno();
	if (bind(service->uevent_fd, (struct sockaddr *)&address, sizeof(address)) < 0)
		return negative_errno();
	return sd_event_add_io(service->event, &service->uevent_source, service->uevent_fd, EPOLLIN,
			       on_uevent, service);
}

/* ---- methods ---- */

typedef struct RefreshParameter {
	bool refresh;
} RefreshParameter;

static const VarlinkField refresh_fields[] = {
	{ "refresh", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE,
	  offsetof(RefreshParameter, refresh) },
	{ 0 },
};

/* Checks the parameters; on a bad one replies InvalidParameter and returns false. */
static bool parameters_ok(VarlinkCall *call, json_object *parameters, const VarlinkField *fields,
			  void *target)
{
	const char *bad;
	if (varlink_parameters_dispatch(parameters, fields, target, &bad) >= 0)
		return true;
	(void)varlink_call_reply_invalid_parameter(call, bad);
	return false;
}

static int reply_or_oom(VarlinkCall *call, json_object *reply)
{
	return reply ? varlink_call_reply(call, reply) : -ENOMEM;
}

static int method_list_gpus(VarlinkCall *call, json_object *parameters, void *userdata)
{
	RefreshParameter p = { 0 };
	const HostModel *model;

	if (!parameters_ok(call, parameters, refresh_fields, &p))
		return 0;
	int r = host_service_model(userdata, p.refresh, &model);
	return r < 0 ? r : reply_or_oom(call, host_gpus_to_json(model));
}

static int reply_no_such_gpu(VarlinkCall *call, const char *text, bool is_address, bool exists)
{
	json_object *error = json_object_new_object();
	char message[256];

	snprintf(message, sizeof(message),
		 exists       ? "%s is not a GPU (PCI class 03, an mdev parent, or named in "
				"gpus.partitionable); 'vfioctl gpus' lists the GPUs."
		 : is_address ? "There is no PCI device at %s; 'vfioctl gpus' lists the GPUs."
			      : "There is no mdev parent named %s; 'vfioctl gpus' lists the GPUs "
				"and mdev parents.",
		 text);
	if (!error || json_add_string(error, "address", text) < 0 ||
	    json_add_string(error, "message", message) < 0) {
		json_object_put(error);
		return -ENOMEM;
	}
	return varlink_call_reply_error(call, LIBVFIO_ERROR_NO_SUCH_GPU, error);
}

static int method_get_gpu(VarlinkCall *call, json_object *parameters, void *userdata)
{
	struct {
		const char *address;
		bool refresh;
	} p = { 0 };
	static const VarlinkField fields[] = {
		{ "address", VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED, 0 },
		{ "refresh", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE, sizeof(const char *) },
		{ 0 },
	};
	const HostModel *model;
	PciAddress address;
	char text[PCI_ADDRESS_TEXT_SIZE];

	if (!parameters_ok(call, parameters, fields, &p))
		return 0;
	/* A PCI address, or the name of an mdev parent outside PCI. */
	bool is_address = pci_address_parse(p.address, &address) == 0;
	if (!is_address && !sysfs_name_is_plain(p.address))
		return varlink_call_reply_invalid_parameter(call, "address");
	int r = host_service_model(userdata, p.refresh, &model);
	if (r < 0)
		return r;

	json_object *o;
	if (is_address) {
		const PciFunction *gpu = host_find_function(model, &address);
		if (!gpu || !pci_function_is_gpu(gpu))
			return reply_no_such_gpu(call, pci_address_format(&address, text), true,
						 gpu != NULL);
		o = host_gpu_to_json(model, gpu);
	} else {
		const MdevParent *parent = host_find_mdev_parent(model, p.address);
		if (!parent)
			return reply_no_such_gpu(call, p.address, false, false);
		o = host_mdev_parent_to_json(model, parent);
	}
	json_object *reply = json_object_new_object();
	if (!reply || !o || json_object_object_add(reply, "gpu", o) < 0) {
		json_object_put(reply);
		json_object_put(o);
		return -ENOMEM;
	}
	return varlink_call_reply(call, reply);
}

static int method_list_iommu_groups(VarlinkCall *call, json_object *parameters, void *userdata)
{
	RefreshParameter p = { 0 };
	const HostModel *model;

	if (!parameters_ok(call, parameters, refresh_fields, &p))
		return 0;
	int r = host_service_model(userdata, p.refresh, &model);
	return r < 0 ? r : reply_or_oom(call, host_groups_to_json(model));
}

static int method_get_topology(VarlinkCall *call, json_object *parameters, void *userdata)
{
	static const VarlinkField fields[] = { { 0 } };
	const HostModel *model;

	if (!parameters_ok(call, parameters, fields, NULL))
		return 0;
	int r = host_service_model(userdata, true, &model);
	return r < 0 ? r : reply_or_oom(call, host_topology_to_json(model));
}

typedef struct CheckCall {
	VarlinkCall *call;
	HostService *service;
} CheckCall;

/* The QEMU probe answered: evaluate and reply. */
static void finish_check(const QemuInfo *qemu, void *userdata)
{
	CheckCall *check = userdata;
	const HostModel *model;
	Readiness readiness;

	int r = host_service_model(check->service, true, &model);
	if (r >= 0)
		r = readiness_evaluate(model, qemu, &readiness);
	if (r >= 0) {
		json_object *reply = readiness_to_json(&readiness);
		readiness_done(&readiness);
		r = reply ? varlink_call_reply(check->call, reply) : -ENOMEM;
	}
	if (r < 0 && r != -ECONNRESET)
		(void)varlink_call_reply_errorf(check->call, LIBVFIO_ERROR_INTERNAL,
						"The readiness checks failed: %s.", strerror(-r));
	varlink_call_unref(check->call);
	free(check);
}

static int method_check(VarlinkCall *call, json_object *parameters, void *userdata)
{
	static const VarlinkField fields[] = { { 0 } };

	if (!parameters_ok(call, parameters, fields, NULL))
		return 0;
	CheckCall *check = malloc(sizeof(*check));
	if (!check)
		return -ENOMEM;
	*check = (CheckCall){ varlink_call_ref(call), userdata };
	HostService *service = userdata;
	int r = qemu_probe_get(service->qemu, finish_check, check);
	if (r < 0) {
		varlink_call_unref(call);
		free(check);
	}
	return r;
}

static const VarlinkMethod host_methods[] = {
	{ "ListGPUs", method_list_gpus, 0 },
	{ "GetGPU", method_get_gpu, 0 },
	{ "ListIOMMUGroups", method_list_iommu_groups, 0 },
	{ "GetTopology", method_get_topology, 0 },
	{ "Check", method_check, 0 },
	{ 0 },
};

int host_service_register(HostService *service, Server *server)
{
	return server_add_interface(server, varlink_idl_find(libvfio_interfaces, "io.libvfio.Host"),
				    host_methods, service);
}

/* ---- life ---- */

int host_service_set_extra_gpus(HostService *service, char *const *extra_gpus)
{
	char **copy = NULL;
	for (char *const *e = extra_gpus; e && *e; e++)
		if (strv_append(&copy, *e) < 0) {
			strv_free(copy);
			return -ENOMEM;
		}
	strv_free(service->options.extra_gpus);
	service->options.extra_gpus = copy;
	service->stale = service->model != NULL; /* read anew with them */
	return 0;
}

int host_service_new(sd_event *event, const char *sysfs_root, char *const *extra_gpus,
		     QemuProbe *qemu, HostService **ret)
{
	HostService *service = calloc(1, sizeof(*service));
	if (!service)
		return -ENOMEM;
	service->event = sd_event_ref(event);
	service->qemu = qemu;
	service->uevent_fd = -1;

	int r = sysfs_root_init(&service->root, sysfs_root);
	if (r >= 0)
		r = pci_names_new(&service->names);
	if (r >= 0)
		r = host_service_set_extra_gpus(service, extra_gpus);
	if (r < 0) {
		host_service_free(service);
		return r;
	}
	service->live = service->root.path[0] == '\0';
	if (service->live) {
		r = watch_uevents(service);
		if (r < 0) {
			log_warning_errno(r,
					  "Cannot watch kernel uevents; the host model is rebuilt "
					  "on every request instead");
			service->live = false;
		}
	}

	const HostModel *model;
	r = host_service_model(service, true, &model);
	if (r < 0) {
		host_service_free(service);
		return r;
	}
	size_t gpus = 0;
	for (size_t i = 0; i < model->n_functions; i++)
		gpus += pci_function_is_gpu(&model->functions[i]) && !model->functions[i].is_vf;
	log_info("Host: %zu PCI functions, %zu GPU%s, %zu other mdev parent%s, %zu IOMMU groups, "
		 "%zu NUMA node%s",
		 model->n_functions, gpus, gpus == 1 ? "" : "s", model->n_mdev_parents,
		 model->n_mdev_parents == 1 ? "" : "s", model->n_groups, model->n_nodes,
		 model->n_nodes == 1 ? "" : "s");
	*ret = service;
	return 0;
}

HostService *host_service_free(HostService *service)
{
	if (!service)
		return NULL;
	sd_event_source_disable_unref(service->uevent_source);
	safe_close(service->uevent_fd);
	host_model_free(service->model);
	strv_free(service->options.extra_gpus);
	pci_names_free(service->names);
	sysfs_root_done(&service->root);
	sd_event_unref(service->event);
	free(service);
	return NULL;
}

const SysfsRoot *host_service_root(const HostService *service)
{
	return &service->root;
}
