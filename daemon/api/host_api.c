/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/host_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "api/host_json.h"
#include "host/readiness.h"
#include "json_util.h"
#include "macro.h"
#include "parse_util.h"
#include "pci_address.h"
#include "varlink_message.h"

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

/*
 * A read of the whole model: the parameters checked, then who asks, then the
 * model (read anew when asked, or always for figures no uevent reports) as
 * `to_json` makes it.
 */
static int reply_model(VarlinkCall *call, json_object *parameters, HostApi *api, bool takes_refresh,
		       bool always_fresh, json_object *(*to_json)(const HostModel *model))
{
	static const VarlinkField no_fields[] = { { 0 } };
	RefreshParameter p = { 0 };
	const HostModel *model;

	if (!parameters_ok(call, parameters, takes_refresh ? refresh_fields : no_fields, &p))
		return 0;
	int allowed = authz_check(api->authz, call, AUTHZ_READ, NULL, false);
	if (allowed <= 0)
		return allowed;
	int r = host_cache_model(api->cache, always_fresh || p.refresh, &model);
	return r < 0 ? r : reply_or_oom(call, to_json(model));
}

static int method_list_gpus(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return reply_model(call, parameters, userdata, true, false, host_gpus_to_json);
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
	return api_reply_error(call, API_ERROR_HOST_NO_SUCH_GPU, error);
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
	int allowed = authz_check(((HostApi *)userdata)->authz, call, AUTHZ_READ, NULL, false);
	if (allowed <= 0)
		return allowed;
	/* A PCI address, or the name of an mdev parent outside PCI. */
	bool is_address = pci_address_parse(p.address, &address) == 0;
	if (!is_address && !sysfs_name_is_plain(p.address))
		return varlink_call_reply_invalid_parameter(call, "address");
	int r = host_cache_model(((HostApi *)userdata)->cache, p.refresh, &model);
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
	return reply_model(call, parameters, userdata, true, false, host_groups_to_json);
}

/* Free memory and hugepages change without uevents: always read anew. */
/* Adds to each pool of `pools` "heldForVMs": the pages libvfio added there for VMs. */
static int add_held(json_object *pools, int node, const VmManager *vms)
{
	for (size_t i = 0; i < json_array_size(pools); i++) {
		json_object *pool = json_object_array_get_idx(pools, i);
		int64_t size_kib;
		if (json_get_int(pool, "sizeKiB", &size_kib) < 0 || size_kib <= 0)
			continue;
		uint64_t held = vm_manager_hugepages_held(vms, node, (uint64_t)size_kib);
		if (json_add_int(pool, "heldForVMs", (int64_t)held) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* The topology, each pool with what libvfio holds in it for VMs. */
static json_object *topology_with_held(const HostModel *model, const VmManager *vms)
{
	_cleanup_json_ json_object *o = host_topology_to_json(model);
	json_object *nodes = json_get_array(o, "nodes");

	if (!o || add_held(json_get_array(o, "hugepages"), -1, vms) < 0)
		return NULL;
	for (size_t i = 0; i < json_array_size(nodes); i++) {
		json_object *node = json_object_array_get_idx(nodes, i);
		int64_t id;
		if (json_get_int(node, "id", &id) < 0 || id < 0 || id > INT32_MAX ||
		    add_held(json_get_array(node, "hugepages"), (int)id, vms) < 0)
			return NULL;
	}
	return TAKE_PTR(o);
}

static int method_get_topology(VarlinkCall *call, json_object *parameters, void *userdata)
{
	static const VarlinkField no_fields[] = { { 0 } };
	HostApi *api = userdata;
	const HostModel *model;
	RefreshParameter p = { 0 };

	if (!parameters_ok(call, parameters, no_fields, &p))
		return 0;
	int allowed = authz_check(api->authz, call, AUTHZ_READ, NULL, false);
	if (allowed <= 0)
		return allowed;
	int r = host_cache_model(api->cache, true, &model);
	return r < 0 ? r : reply_or_oom(call, topology_with_held(model, api->vms));
}

typedef struct CheckCall {
	VarlinkCall *call;
	HostApi *api;
} CheckCall;

/* The QEMU probe answered: evaluate and reply. */
static void finish_check(const QemuInfo *qemu, void *userdata)
{
	CheckCall *check = userdata;
	const HostModel *model;
	Readiness readiness;

	int r = host_cache_model(check->api->cache, true, &model);
	if (r >= 0)
		r = readiness_evaluate(model, qemu, &readiness);
	if (r >= 0) {
		json_object *reply = readiness_to_json(&readiness);
		readiness_done(&readiness);
		r = reply ? varlink_call_reply(check->call, reply) : -ENOMEM;
	}
	if (r < 0 && r != -ECONNRESET)
		(void)api_reply_errorf(check->call, API_ERROR_INTERNAL,
				       "The readiness checks failed: %s.", strerror(-r));
	varlink_call_unref(check->call);
	free(check);
}

static int method_check(VarlinkCall *call, json_object *parameters, void *userdata)
{
	static const VarlinkField fields[] = { { 0 } };

	if (!parameters_ok(call, parameters, fields, NULL))
		return 0;
	int allowed = authz_check(((HostApi *)userdata)->authz, call, AUTHZ_READ, NULL, false);
	if (allowed <= 0)
		return allowed;
	CheckCall *check = malloc(sizeof(*check));
	if (!check)
		return -ENOMEM;
	*check = (CheckCall){ varlink_call_ref(call), userdata };
	HostApi *api = userdata;
	int r = qemu_probe_get(api->qemu, finish_check, check);
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

int host_api_register(HostApi *api, Server *server)
{
	return server_add_interface(server, varlink_idl_find(libvfio_interfaces, "io.libvfio.Host"),
				    host_methods, api);
}
