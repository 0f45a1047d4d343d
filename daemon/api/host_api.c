/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/host_api.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "api/host_json.h"
#include "host/readiness.h"
#include "json_text.h"
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

/* Replies with `text` (written by host_json.h), or -ENOMEM when writing it failed. Frees it. */
static int reply_text(VarlinkCall *call, JsonText *text)
{
	int r = text->failed ? -ENOMEM : varlink_call_reply_text(call, text->data, text->size);
	json_text_done(text);
	return r;
}

/*
 * A call answered from the model. Without refresh from the one kept, at
 * once; with refresh from one read after the call, built off the loop while
 * the daemon serves everyone else, and answered when it is there.
 */
typedef struct ModelCall ModelCall;
struct ModelCall {
	VarlinkCall *call;
	HostApi *api;
	int (*reply)(const ModelCall *mc, const HostModel *model);
	void (*to_text)(JsonText *text, const HostModel *model);
	/* GetGPU: what was asked for, an address or the name of an mdev parent */
	bool is_address;
	PciAddress address;
	char *name;
};

static void model_call_free(ModelCall *mc)
{
	varlink_call_unref(mc->call);
	free(mc->name);
	free(mc);
}

static void on_fresh_model(const HostModel *model, int result, void *userdata)
{
	ModelCall *mc = userdata;
	if (result >= 0)
		result = mc->reply(mc, model);
	if (result < 0 && result != -ECONNRESET && result != -ECANCELED)
		(void)api_reply_errorf(mc->call, API_ERROR_INTERNAL, "The host cannot be read: %s.",
				       strerror(-result));
	model_call_free(mc);
}

/* Answers `mc` (a template: copied when it must wait) with the model. */
static int reply_with_model(VarlinkCall *call, HostApi *api, bool refresh, ModelCall *mc)
{
	const HostModel *model;

	mc->call = call;
	mc->api = api;
	if (!refresh && host_cache_ready(api->cache)) {
		int r = host_cache_model(api->cache, false, &model);
		return r < 0 ? r : mc->reply(mc, model);
	}
	ModelCall *waiting = malloc(sizeof(*waiting));
	if (!waiting)
		return -ENOMEM;
	*waiting = *mc;
	waiting->name = NULL;
	if (mc->name && !(waiting->name = strdup(mc->name))) {
		free(waiting);
		return -ENOMEM;
	}
	waiting->call = varlink_call_ref(call);
	/* Just after start, the first model may still be read: the call waits for it. */
	int r = refresh ? host_cache_refresh(api->cache, on_fresh_model, waiting, NULL)
			: host_cache_first_model(api->cache, on_fresh_model, waiting, NULL);
	if (r < 0)
		model_call_free(waiting);
	return r;
}

static int reply_whole_model(const ModelCall *mc, const HostModel *model)
{
	JsonText text = { 0 };
	mc->to_text(&text, model);
	return reply_text(mc->call, &text);
}

/*
 * A read of the whole model: the parameters checked, then who asks, then the
 * model (read anew when asked, or always for figures no uevent reports) as
 * `to_text` writes it.
 */
static int reply_model(VarlinkCall *call, json_object *parameters, HostApi *api, bool takes_refresh,
		       bool always_fresh, void (*to_text)(JsonText *text, const HostModel *model))
{
	static const VarlinkField no_fields[] = { { 0 } };
	RefreshParameter p = { 0 };

	if (!parameters_ok(call, parameters, takes_refresh ? refresh_fields : no_fields, &p))
		return 0;
	int allowed = authz_check(api->authz, call, AUTHZ_READ, NULL, false);
	if (allowed <= 0)
		return allowed;
	ModelCall mc = { .reply = reply_whole_model, .to_text = to_text };
	return reply_with_model(call, api, always_fresh || p.refresh, &mc);
}

static int method_list_gpus(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return reply_model(call, parameters, userdata, true, false, host_gpus_json_text);
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

static int reply_gpu(const ModelCall *mc, const HostModel *model)
{
	char address[PCI_ADDRESS_TEXT_SIZE];
	JsonText text = { 0 };

	if (mc->is_address) {
		const PciFunction *gpu = host_find_function(model, &mc->address);
		if (!gpu || !pci_function_is_gpu(gpu))
			return reply_no_such_gpu(mc->call,
						 pci_address_format(&mc->address, address), true,
						 gpu != NULL);
		json_text_literal(&text, "{\"gpu\":");
		host_gpu_json_text(&text, model, gpu);
	} else {
		const MdevParent *parent = host_find_mdev_parent(model, mc->name);
		if (!parent)
			return reply_no_such_gpu(mc->call, mc->name, false, false);
		json_text_literal(&text, "{\"gpu\":");
		host_mdev_parent_json_text(&text, model, parent);
	}
	json_text_literal(&text, "}");
	return reply_text(mc->call, &text);
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
	ModelCall mc = { .reply = reply_gpu };

	if (!parameters_ok(call, parameters, fields, &p))
		return 0;
	int allowed = authz_check(((HostApi *)userdata)->authz, call, AUTHZ_READ, NULL, false);
	if (allowed <= 0)
		return allowed;
	/* A PCI address, or the name of an mdev parent outside PCI. */
	mc.is_address = pci_address_parse(p.address, &mc.address) == 0;
	if (!mc.is_address && !sysfs_name_is_plain(p.address))
		return varlink_call_reply_invalid_parameter(call, "address");
	mc.name = (char *)p.address; /* copied when the call must wait */
	return reply_with_model(call, userdata, p.refresh, &mc);
}

static int method_list_iommu_groups(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return reply_model(call, parameters, userdata, true, false, host_groups_json_text);
}

static uint64_t held_for_vms(int node, uint64_t size_kib, void *userdata)
{
	return vm_manager_hugepages_held(userdata, node, size_kib);
}

/* The topology, each pool with what libvfio holds in it for VMs. */
static int reply_topology(const ModelCall *mc, const HostModel *model)
{
	JsonText text = { 0 };
	host_topology_json_text(&text, model, held_for_vms, mc->api->vms);
	return reply_text(mc->call, &text);
}

/* Free memory and hugepages change without uevents: always read anew. */
static int method_get_topology(VarlinkCall *call, json_object *parameters, void *userdata)
{
	static const VarlinkField no_fields[] = { { 0 } };
	RefreshParameter p = { 0 };
	ModelCall mc = { .reply = reply_topology };

	if (!parameters_ok(call, parameters, no_fields, &p))
		return 0;
	int allowed = authz_check(((HostApi *)userdata)->authz, call, AUTHZ_READ, NULL, false);
	if (allowed <= 0)
		return allowed;
	return reply_with_model(call, userdata, true, &mc);
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

	/* The model read anew for this call (check_with_model()), or a later one. */
	int r = host_cache_model(check->api->cache, false, &model);
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

/* The host is read anew (off the loop): now ask the QEMU probe. */
static int check_with_model(const ModelCall *mc, const HostModel *model)
{
	CheckCall *check = malloc(sizeof(*check));
	if (!check)
		return -ENOMEM;
	*check = (CheckCall){ varlink_call_ref(mc->call), mc->api };
	int r = qemu_probe_get(mc->api->qemu, finish_check, check);
	if (r < 0) {
		varlink_call_unref(mc->call);
		free(check);
	}
	return r;
}

static int method_check(VarlinkCall *call, json_object *parameters, void *userdata)
{
	static const VarlinkField fields[] = { { 0 } };
	ModelCall mc = { .reply = check_with_model };

	if (!parameters_ok(call, parameters, fields, NULL))
		return 0;
	int allowed = authz_check(((HostApi *)userdata)->authz, call, AUTHZ_READ, NULL, false);
	if (allowed <= 0)
		return allowed;
	return reply_with_model(call, userdata, true, &mc);
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
