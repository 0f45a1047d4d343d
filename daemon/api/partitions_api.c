/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.Partitions over Varlink: List, Create, Destroy and SetVFCount on
 * top of the partition engine. This is where a request becomes a
 * PartitionRequest; authorization is api/authz.h's, and a refusal becomes its
 * io.libvfio error through api/errors.h.
 */
#include "api/partitions_api.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/authz.h"
#include "api/errors.h"
#include "host/mdev.h"
#include "json_util.h"
#include "macro.h"
#include "strv.h"
#include "varlink_message.h"

/* ---- List ---- */

/* `gpu`: a PCI address, or the name of an mdev parent outside PCI. */
static json_object *partition_json(const char *id, PartitionModeKind mode, const char *gpu,
				   const char *device, const char *type, const char *holder)
{
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || json_add_string(o, "id", id) < 0 ||
	    json_add_string(o, "mode", partition_mode_to_string(mode)) < 0 ||
	    json_add_string(o, "gpu", gpu) < 0 || json_add_string(o, "device", device) < 0 ||
	    json_add_string(o, "type", type) < 0 || json_add_string(o, "holder", holder) < 0)
		return NULL;
	return TAKE_PTR(o);
}

/* One of libvfio's partitions: what its steps made. */
static json_object *record_json(const PartitionRecord *record)
{
	char device[PCI_ADDRESS_TEXT_SIZE], gpu[PCI_ADDRESS_TEXT_SIZE];
	const char *what = NULL, *type = NULL;

	pci_address_format(&record->gpu, device);
	for (size_t i = 0; i < record->n_steps; i++) {
		const RecordStep *s = &record->steps[i];
		if (s->kind == STEP_MDEV_CREATE) {
			what = s->uuid;
			type = s->type;
		} else if (s->kind == STEP_BIND_VFIO && record->mode == PARTITION_SRIOV)
			what = pci_address_format(&s->device, device);
		else if (s->kind == STEP_NVIDIA_VGPU) {
			what = pci_address_format(&s->device, device);
			type = s->type;
		}
	}
	if (record->mode == PARTITION_PASSTHROUGH)
		what = device;
	return partition_json(record->id, record->mode, partition_record_gpu_text(record, gpu),
			      what, type, record->holder);
}

/* True when one of libvfio's records names this mdev or device. */
static bool ours(const PartitionRecord *records, size_t n, const char *uuid,
		 const PciAddress *device)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < records[i].n_steps; k++) {
			const RecordStep *s = &records[i].steps[k];
			if (uuid && s->uuid && strcmp(s->uuid, uuid) == 0)
				return true;
			if (device && (s->kind == STEP_BIND_VFIO || s->kind == STEP_NVIDIA_VGPU) &&
			    pci_address_compare(&s->device, device) == 0)
				return true;
		}
	return false;
}

static int add(json_object *array, json_object *item)
{
	if (!item || json_object_array_add(array, item) < 0) {
		json_object_put(item);
		return -ENOMEM;
	}
	return 0;
}

/* The mdevs of one parent that libvfio does not hold. */
static int add_other_mdevs(json_object *array, const char *parent, const MdevType *types,
			   size_t n_types, const PartitionRecord *records, size_t n)
{
	for (size_t t = 0; t < n_types; t++)
		for (char **u = types[t].instances; u && *u; u++)
			if (!ours(records, n, *u, NULL) &&
			    add(array, partition_json(NULL, PARTITION_MDEV, parent, *u, types[t].id,
						      NULL)) < 0)
				return -ENOMEM;
	return 0;
}

/* A VF given an NVIDIA vGPU type by someone else (nvidia_vgpu.h). */
static int add_other_vgpu(json_object *array, const PciFunction *vf)
{
	char physfn[PCI_ADDRESS_TEXT_SIZE], type[16];
	snprintf(type, sizeof(type), "%u", vf->nvidia_vgpu_current);
	return add(array,
		   partition_json(NULL, PARTITION_SRIOV, pci_address_format(&vf->physfn, physfn),
				  vf->address_text, type, NULL));
}

/* The partitions on the host that libvfio does not hold: made by hand or by other tools. */
static int add_others(json_object *array, const HostModel *model, const PartitionRecord *records,
		      size_t n)
{
	for (size_t i = 0; i < model->n_functions; i++) {
		const PciFunction *f = &model->functions[i];
		char physfn[PCI_ADDRESS_TEXT_SIZE];
		if (!pci_function_is_gpu(f))
			continue;
		if (add_other_mdevs(array, f->address_text, f->mdev_types, f->n_mdev_types, records,
				    n) < 0)
			return -ENOMEM;
		if (f->driver && strcmp(f->driver, "vfio-pci") == 0 &&
		    !ours(records, n, NULL, &f->address) &&
		    add(array,
			partition_json(NULL, f->is_vf ? PARTITION_SRIOV : PARTITION_PASSTHROUGH,
				       f->is_vf ? pci_address_format(&f->physfn, physfn)
						: f->address_text,
				       f->address_text, NULL, NULL)) < 0)
			return -ENOMEM;
		if (f->nvidia_vgpu && f->nvidia_vgpu_current != 0 &&
		    f->nvidia_vgpu_current != UINT32_MAX && !ours(records, n, NULL, &f->address) &&
		    add_other_vgpu(array, f) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < model->n_mdev_parents; i++) {
		const MdevParent *p = &model->mdev_parents[i];
		if (add_other_mdevs(array, p->name, p->mdev_types, p->n_mdev_types, records, n) < 0)
			return -ENOMEM;
	}
	return 0;
}

typedef struct ListCall {
	VarlinkCall *call;
	PartitionsApi *api;
} ListCall;

static int reply_list(VarlinkCall *call, PartitionsApi *api, const HostModel *model)
{
	size_t n;
	const PartitionRecord *records = partition_engine_records(api->engine, &n);

	_cleanup_json_ json_object *reply = json_object_new_object();
	json_object *array = json_object_new_array();
	if (!reply || !array || json_object_object_add(reply, "partitions", array) < 0) {
		json_object_put(array);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++)
		if (add(array, record_json(&records[i])) < 0)
			return -ENOMEM;
	if (add_others(array, model, records, n) < 0)
		return -ENOMEM;
	return varlink_call_reply(call, TAKE_PTR(reply));
}

static void on_list_model(const HostModel *model, int result, void *userdata)
{
	ListCall *list = userdata;
	if (result >= 0)
		result = reply_list(list->call, list->api, model);
	if (result < 0 && result != -ECONNRESET && result != -ECANCELED)
		(void)api_reply_errorf(list->call, API_ERROR_INTERNAL,
				       "The host cannot be read: %s.", strerror(-result));
	varlink_call_unref(list->call);
	free(list);
}

/*
 * The partitions others made (mdevs, NVIDIA vGPU types) come and go without
 * uevents that say so: the host is read anew for each List, off the loop.
 */
static int method_list(VarlinkCall *call, json_object *parameters, void *userdata)
{
	PartitionsApi *api = userdata;
	static const VarlinkField fields[] = { { 0 } };
	const char *bad;

	if (varlink_parameters_dispatch(parameters, fields, NULL, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);
	int r = authz_check(api->authz, call, AUTHZ_READ, NULL, false);
	if (r <= 0)
		return r;
	ListCall *list = malloc(sizeof(*list));
	if (!list)
		return -ENOMEM;
	*list = (ListCall){ varlink_call_ref(call), api };
	r = host_cache_refresh(api->host, on_list_model, list, NULL);
	if (r < 0) {
		varlink_call_unref(call);
		free(list);
	}
	return r;
}

/* ---- Create, Destroy ---- */

static void on_created(const PartitionOutcome *outcome, void *userdata)
{
	VarlinkCall *call = userdata;

	if (outcome->result >= 0) {
		json_object *reply = json_object_new_object();
		json_object *partition = record_json(outcome->record);
		if (reply && partition &&
		    json_object_object_add(reply, "partition", partition) >= 0)
			(void)varlink_call_reply(call, reply);
		else {
			json_object_put(reply);
			json_object_put(partition);
			(void)api_reply_out_of_memory(call);
		}
	} else
		api_reply_partition_failure(call, outcome);
	varlink_call_unref(call);
}

typedef struct CreateParameters {
	const char *mode, *gpu, *vendor, *type;
	int64_t min_framebuffer, max_instances, node, vfs;
	bool force;
	bool interactive;
} CreateParameters;
#define CREATE(field) offsetof(CreateParameters, field)

static int method_create(VarlinkCall *call, json_object *parameters, void *userdata)
{
	PartitionsApi *api = userdata;
	CreateParameters p = { .node = -1 };
	static const VarlinkField fields[] = {
		{ "mode", VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED, CREATE(mode) },
		{ "gpu", VARLINK_FIELD_STRING, VARLINK_FIELD_NULLABLE, CREATE(gpu) },
		{ "vendor", VARLINK_FIELD_STRING, VARLINK_FIELD_NULLABLE, CREATE(vendor) },
		{ "type", VARLINK_FIELD_STRING, VARLINK_FIELD_NULLABLE, CREATE(type) },
		{ "minFramebufferMiB", VARLINK_FIELD_INT, VARLINK_FIELD_NULLABLE,
		  CREATE(min_framebuffer) },
		{ "maxInstances", VARLINK_FIELD_INT, VARLINK_FIELD_NULLABLE,
		  CREATE(max_instances) },
		{ "node", VARLINK_FIELD_INT, VARLINK_FIELD_NULLABLE, CREATE(node) },
		{ "vfs", VARLINK_FIELD_INT, VARLINK_FIELD_NULLABLE, CREATE(vfs) },
		{ "force", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE, CREATE(force) },
		{ "allowInteractiveAuthentication", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE,
		  CREATE(interactive) },
		{ 0 },
	};
	PartitionRequest request = { .preferred_node = -1 };
	const char *bad;

	if (varlink_parameters_dispatch(parameters, fields, &p, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);
	int mode = partition_mode_from_string(p.mode);
	if (mode < 0)
		return varlink_call_reply_invalid_parameter(call, "mode");
	request.mode = (PartitionModeKind)mode;
	/* A PCI address, or the name of an mdev parent outside PCI ("mbochs"). */
	request.has_address = p.gpu && pci_address_parse(p.gpu, &request.address) == 0;
	if (p.gpu && !request.has_address) {
		if (!sysfs_name_is_plain(p.gpu))
			return varlink_call_reply_invalid_parameter(call, "gpu");
		request.parent = p.gpu;
	}
	if (p.vendor &&
	    pci_vendor_selector_parse(p.vendor, &request.vendor_id, &request.device_id) < 0)
		return varlink_call_reply_invalid_parameter(call, "vendor");
	if (p.type && (strlen(p.type) > 128 || !p.type[0]))
		return varlink_call_reply_invalid_parameter(call, "type");
	if (p.min_framebuffer < 0 || p.min_framebuffer > (INT64_C(1) << 30))
		return varlink_call_reply_invalid_parameter(call, "minFramebufferMiB");
	if (p.max_instances < 0 || p.max_instances > 4096)
		return varlink_call_reply_invalid_parameter(call, "maxInstances");
	if (p.node < -1 || p.node > 1023)
		return varlink_call_reply_invalid_parameter(call, "node");
	if (p.vfs < 0 || p.vfs > 4096)
		return varlink_call_reply_invalid_parameter(call, "vfs");
	request.type = p.type;
	request.min_framebuffer_mib = (uint64_t)p.min_framebuffer;
	request.max_instances = (uint64_t)p.max_instances;
	request.preferred_node = (int)p.node;
	request.vfs_to_enable = (unsigned)p.vfs;
	request.force = p.force;

	int r = authz_check(api->authz, call, AUTHZ_PARTITION_CREATE, NULL, p.interactive);
	if (r <= 0)
		return r;

	r = partition_engine_create(api->engine, &request, "manual", on_created,
				    varlink_call_ref(call));
	if (r < 0)
		varlink_call_unref(call);
	return r;
}

static void on_destroyed(const PartitionOutcome *outcome, void *userdata)
{
	VarlinkCall *call = userdata;
	if (outcome->result >= 0)
		(void)varlink_call_reply(call, NULL);
	else
		(void)api_reply_errorf(call, API_ERROR_PARTITIONS_FAILED, "%s", outcome->message);
	varlink_call_unref(call);
}

static int method_destroy(VarlinkCall *call, json_object *parameters, void *userdata)
{
	PartitionsApi *api = userdata;
	struct IdParameters {
		const char *id;
		bool interactive;
	} p = { 0 };
	static const VarlinkField fields[] = {
		{ "id", VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED, 0 },
		{ "allowInteractiveAuthentication", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE,
		  offsetof(struct IdParameters, interactive) },
		{ 0 },
	};
	const char *bad;

	if (varlink_parameters_dispatch(parameters, fields, &p, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);
	if (!partition_id_is_valid(p.id))
		return varlink_call_reply_invalid_parameter(call, "id");
	int r = authz_check(api->authz, call, AUTHZ_PARTITION_DESTROY, NULL, p.interactive);
	if (r <= 0)
		return r;

	r = partition_engine_destroy(api->engine, p.id, on_destroyed, varlink_call_ref(call));
	if (r >= 0)
		return 0;
	varlink_call_unref(call);
	if (r != -ENOENT)
		return r;
	json_object *error = json_object_new_object();
	if (!error || json_add_string(error, "id", p.id) < 0 ||
	    json_add_string(error, "message",
			    "libvfio holds no partition of that id; 'vfioctl partitions' lists "
			    "them.") < 0) {
		json_object_put(error);
		return -ENOMEM;
	}
	return api_reply_error(call, API_ERROR_PARTITIONS_NO_SUCH_PARTITION, error);
}

static void on_vfs_set(const PartitionOutcome *outcome, void *userdata)
{
	VarlinkCall *call = userdata;

	if (outcome->result >= 0)
		(void)varlink_call_reply(call, NULL);
	else
		api_reply_partition_failure(call, outcome);
	varlink_call_unref(call);
}

static int method_set_vf_count(VarlinkCall *call, json_object *parameters, void *userdata)
{
	PartitionsApi *api = userdata;
	struct VfCountParameters {
		const char *gpu;
		int64_t count;
		bool interactive;
	} p = { 0 };
	static const VarlinkField fields[] = {
		{ "gpu", VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED, 0 },
		{ "count", VARLINK_FIELD_INT, VARLINK_FIELD_REQUIRED,
		  offsetof(struct VfCountParameters, count) },
		{ "allowInteractiveAuthentication", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE,
		  offsetof(struct VfCountParameters, interactive) },
		{ 0 },
	};
	PciAddress gpu;
	const char *bad;

	if (varlink_parameters_dispatch(parameters, fields, &p, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);
	if (pci_address_parse(p.gpu, &gpu) < 0)
		return varlink_call_reply_invalid_parameter(call, "gpu");
	if (p.count < 0 || p.count > 65535)
		return varlink_call_reply_invalid_parameter(call, "count");
	int r = authz_check(api->authz, call, AUTHZ_VF_COUNT_SET, NULL, p.interactive);
	if (r <= 0)
		return r;
	r = partition_engine_set_vf_count(api->engine, &gpu, (unsigned)p.count, on_vfs_set,
					  varlink_call_ref(call));
	if (r < 0)
		varlink_call_unref(call);
	return r;
}

static const VarlinkMethod partition_methods[] = {
	{ "List", method_list, 0 },
	{ "Create", method_create, 0 },
	{ "Destroy", method_destroy, 0 },
	{ "SetVFCount", method_set_vf_count, 0 },
	{ 0 },
};

int partitions_api_register(PartitionsApi *api, Server *server)
{
	return server_add_interface(server,
				    varlink_idl_find(libvfio_interfaces, "io.libvfio.Partitions"),
				    partition_methods, api);
}
