/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.VMs over Varlink on top of the VM manager: parameters are
 * checked here, authorization asked of api/authz.h, outcomes become replies
 * through api/errors.h, and a Watch is a call kept open that gets one reply
 * per change.
 */
#include "api/vms_api.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/authz.h"
#include "api/errors.h"
#include "api/vm_logs_api.h"
#include "json_text.h"
#include "json_util.h"
#include "macro.h"
#include "parse_util.h"
#include "varlink_message.h"
#include "vm/vm_store.h"
#include "vm_definition.h"
#include "vm_definition_edit.h"

/* Stop's timeout: up to a day. */
#define MAX_STOP_TIMEOUT_SECONDS (24 * 3600)

/* A call waiting for the VM manager, with the VM name its errors carry. */
typedef struct PendingCall {
	VarlinkCall *call;
	char name[VM_NAME_MAX + 1];
} PendingCall;

static uint64_t now_usec(void)
{
	struct timespec now;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	return (uint64_t)now.tv_sec * USEC_PER_SEC + (uint64_t)now.tv_nsec / 1000;
}

/* `,"key":"value"`, nothing when value is NULL: a member without a value is left out. */
static void optional_string(JsonText *t, const char *member, const char *value)
{
	if (!value)
		return;
	json_text_literal(t, member);
	json_text_string(t, value);
}

/* `,"key":value`, nothing when value < 0. */
static void optional_int(JsonText *t, const char *member, int64_t value)
{
	if (value < 0)
		return;
	json_text_literal(t, member);
	json_text_int(t, value);
}

/*
 * One VM as JSON text: what List, Get, Watch and every reply about a VM say
 * of it (the one place that writes it). `now`: CLOCK_REALTIME in µs. The
 * optional members (pid, owner, problem...) are left out when they have no
 * value, as Varlink allows: it halves List's reply for VMs that do not run,
 * and the client's time to read it.
 */
static void vm_json_text(JsonText *t, const VmInfo *vm, uint64_t now)
{
	int64_t uptime = -1;
	if (vm->pid > 0 && vm->started_at_usec > 0)
		uptime = now > vm->started_at_usec
				 ? (int64_t)((now - vm->started_at_usec) / USEC_PER_SEC)
				 : 0;
	json_text_literal(t, "{\"name\":");
	json_text_string(t, vm->name);
	json_text_literal(t, ",\"uuid\":");
	json_text_string(t, vm->uuid);
	json_text_literal(t, ",\"state\":");
	json_text_string(t, vm_state_to_string(vm->state));
	optional_int(t, ",\"pid\":", vm->pid > 0 ? vm->pid : -1);
	optional_int(t, ",\"uptimeSeconds\":", uptime);
	json_text_literal(t, ",\"partitions\":");
	json_text_strv(t, vm->partitions);
	optional_string(t, ",\"qmpStatus\":", vm->qmp_status);
	json_text_literal(t, ",\"autostart\":");
	json_text_bool(t, vm->autostart);
	optional_string(t, ",\"owner\":", vm->owner);
	optional_string(t, ",\"problem\":", vm->problem);
	optional_string(t, ",\"display\":", vm->display);
	optional_string(t, ",\"console\":", vm->console);
	optional_string(t, ",\"lookingGlass\":", vm->looking_glass);
	/* What the VM's start added to a pool, left out when nothing. */
	const HugepageReservation *h = &vm->hugepages;
	if (h->active) {
		json_text_literal(t, ",\"hugepages\":{\"sizeKiB\":");
		json_text_int(t, (int64_t)h->size_kib);
		optional_int(t, ",\"node\":", h->node);
		json_text_literal(t, ",\"pagesAdded\":");
		json_text_int(t, (int64_t)h->added);
		json_text_literal(t, ",\"poolBefore\":");
		json_text_int(t, (int64_t)h->before);
		json_text_literal(t, "}");
	}
	json_text_literal(t, "}");
}

/* One VM as a json-c object, for the replies about one VM. */
static json_object *vm_json(const VmInfo *vm)
{
	JsonText t = { 0 };
	vm_json_text(&t, vm, now_usec());
	json_object *o = t.failed ? NULL : json_tokener_parse(t.data);
	json_text_done(&t);
	return o;
}

/* {"vm": …} plus, for Start, the phase, and for Stop and Kill how QEMU ended. */
static json_object *vm_reply(const VmInfo *vm, const char *phase, const char *ended)
{
	json_object *o = json_object_new_object();
	json_object *v = vm_json(vm);
	if (!o || !v || json_object_object_add(o, "vm", v) < 0 ||
	    (phase && json_add_string(o, "phase", phase) < 0) ||
	    (ended && json_add_string(o, "ended", ended) < 0)) {
		json_object_put(v);
		json_object_put(o);
		return NULL;
	}
	return o;
}

static void on_outcome(const VmOutcome *outcome, void *userdata)
{
	PendingCall *pending = userdata;

	if (outcome->failure != VM_OK)
		api_reply_vm_failure(pending->call, pending->name, outcome);
	else {
		json_object *reply = outcome->vm
					     ? vm_reply(outcome->vm, outcome->phase, outcome->ended)
					     : json_object_new_object();
		if (!reply)
			(void)api_reply_out_of_memory(pending->call);
		else if (!outcome->final) {
			if (varlink_call_wants_more(pending->call))
				(void)varlink_call_reply_continues(pending->call, reply);
			else
				json_object_put(reply);
			return;
		} else
			(void)varlink_call_reply(pending->call, reply);
	}
	if (outcome->final) {
		varlink_call_unref(pending->call);
		free(pending);
	}
}

static PendingCall *pending_new(VarlinkCall *call, const char *name)
{
	PendingCall *pending = calloc(1, sizeof(*pending));
	if (!pending)
		return NULL;
	pending->call = varlink_call_ref(call);
	if (name)
		snprintf(pending->name, sizeof(pending->name), "%s", name);
	return pending;
}

/*
 * The one string parameter `key` of a method (a VM name, a definition); the
 * dispatcher refuses a string with a NUL inside. Replies InvalidParameter
 * itself and returns -EINVAL when it is not there or not a string.
 */
typedef struct StringParameters {
	const char *value;
	bool interactive; /* allowInteractiveAuthentication, where the method takes it */
} StringParameters;

static int dispatch_string(VarlinkCall *call, json_object *parameters, const char *key,
			   bool mutating, StringParameters *ret)
{
	const VarlinkField fields[] = {
		{ key, VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED, 0 },
		mutating ? (VarlinkField){ "allowInteractiveAuthentication", VARLINK_FIELD_BOOL,
					   VARLINK_FIELD_NULLABLE,
					   offsetof(StringParameters, interactive) }
			 : (VarlinkField){ 0 },
		{ 0 },
	};
	const char *bad;
	*ret = (StringParameters){ 0 };
	if (varlink_parameters_dispatch(parameters, fields, ret, &bad) < 0) {
		(void)varlink_call_reply_invalid_parameter(call, bad);
		return -EINVAL;
	}
	return 0;
}

/* Parameters of the methods that take only a VM name. */
static int dispatch_name(VarlinkCall *call, json_object *parameters, bool mutating,
			 StringParameters *ret)
{
	if (dispatch_string(call, parameters, "name", mutating, ret) < 0)
		return -EINVAL;
	if (!vm_name_is_valid(ret->value)) {
		(void)varlink_call_reply_invalid_parameter(call, "name");
		return -EINVAL;
	}
	return 0;
}

typedef void (*NameOperation)(VmManager *manager, const char *name, VmCallback callback,
			      void *userdata);

static int call_with_name(VmsApi *api, VarlinkCall *call, json_object *parameters,
			  NameOperation operation, AuthzAction action)
{
	StringParameters p;
	if (dispatch_name(call, parameters, action != AUTHZ_READ, &p) < 0)
		return 0;
	const char *name = p.value;
	int r = authz_check(api->authz, call, action, name, p.interactive);
	if (r <= 0)
		return r;
	PendingCall *pending = pending_new(call, name);
	if (!pending)
		return -ENOMEM;
	operation(api->manager, name, on_outcome, pending);
	return 0;
}

/*
 * The VMs for List and Watch, which take no parameters. Returns 1 with the list,
 * 0 when the call was answered (a bad parameter), < 0 on failure.
 */
static int list_vms(VmsApi *api, VarlinkCall *call, json_object *parameters, VmInfo **ret,
		    size_t *ret_n)
{
	static const VarlinkField fields[] = { { 0 } };
	const char *bad;

	if (varlink_parameters_dispatch(parameters, fields, NULL, &bad) < 0) {
		(void)varlink_call_reply_invalid_parameter(call, bad);
		return 0;
	}
	int r = authz_check(api->authz, call, AUTHZ_READ, NULL, false);
	if (r <= 0)
		return r;
	r = vm_manager_list(api->manager, ret, ret_n);
	return r < 0 ? r : 1;
}

typedef struct ListText {
	JsonText text;
	uint64_t now;
	bool first;
} ListText;

static int add_to_list(const VmInfo *vm, void *userdata)
{
	ListText *list = userdata;
	if (!list->first)
		json_text_literal(&list->text, ",");
	list->first = false;
	vm_json_text(&list->text, vm, list->now);
	return list->text.failed ? -ENOMEM : 0;
}

/*
 * The reply is written as text straight from the VM table: no json-c object
 * per VM, a few allocations per call whatever the count.
 */
static int method_list(VarlinkCall *call, json_object *parameters, void *userdata)
{
	static const VarlinkField fields[] = { { 0 } };
	VmsApi *api = userdata;
	const char *bad;

	if (varlink_parameters_dispatch(parameters, fields, NULL, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);
	int r = authz_check(api->authz, call, AUTHZ_READ, NULL, false);
	if (r <= 0)
		return r;
	ListText list = { .now = now_usec(), .first = true };
	size_t n = vm_manager_count(api->manager);
	/* About 300 bytes a VM: one allocation, rarely a second. */
	if (n < SIZE_MAX / 512)
		(void)json_text_reserve(&list.text, 64 + n * 320);
	json_text_literal(&list.text, "{\"vms\":[");
	r = vm_manager_foreach(api->manager, add_to_list, &list);
	json_text_literal(&list.text, "]}");
	if (r >= 0 && list.text.failed)
		r = -ENOMEM;
	if (r >= 0)
		r = varlink_call_reply_text(call, list.text.data, list.text.size);
	json_text_done(&list.text);
	return r;
}

static int method_get(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return call_with_name(userdata, call, parameters, vm_manager_get, AUTHZ_READ);
}

static int method_define(VarlinkCall *call, json_object *parameters, void *userdata)
{
	StringParameters p;
	VmsApi *api = userdata;
	if (dispatch_string(call, parameters, "definition", true, &p) < 0)
		return 0;
	const char *text = p.value;
	int r = authz_check(api->authz, call, AUTHZ_VM_MANAGE, NULL, p.interactive);
	if (r <= 0)
		return r;
	PendingCall *pending = pending_new(call, NULL);
	if (!pending)
		return -ENOMEM;
	vm_manager_define(api->manager, text, strlen(text), on_outcome, pending);
	return 0;
}

static int method_undefine(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return call_with_name(userdata, call, parameters, vm_manager_undefine, AUTHZ_VM_MANAGE);
}

static int method_validate(VarlinkCall *call, json_object *parameters, void *userdata)
{
	StringParameters p;
	_cleanup_free_ char *error = NULL;
	VmDefinition definition;
	VmsApi *api = userdata;

	if (dispatch_string(call, parameters, "definition", false, &p) < 0)
		return 0;
	const char *text = p.value;
	int r = authz_check(api->authz, call, AUTHZ_READ, NULL, false);
	if (r <= 0)
		return r;
	r = vm_definition_load_string(text, strlen(text), "<definition>", &definition, &error);
	if (r < 0 && r != -ENOMEM) {
		api_reply_vm_error(call, API_ERROR_VMS_INVALID_DEFINITION, NULL, NULL, error);
		return 0;
	}
	if (r < 0)
		return r;
	json_object *reply = json_object_new_object();
	if (!reply || json_add_string(reply, "name", definition.name) < 0 ||
	    json_add_string(reply, "uuid", definition.uuid[0] ? definition.uuid : NULL) < 0) {
		json_object_put(reply);
		vm_definition_done(&definition);
		return -ENOMEM;
	}
	vm_definition_done(&definition);
	return varlink_call_reply(call, reply);
}

static int method_start(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return call_with_name(userdata, call, parameters, vm_manager_start, AUTHZ_VM_CONTROL);
}

typedef struct StopParameters {
	const char *name;
	bool force;
	int64_t timeout;
	bool interactive;
} StopParameters;

static int method_stop(VarlinkCall *call, json_object *parameters, void *userdata)
{
	static const VarlinkField fields[] = {
		{ "name", VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED,
		  offsetof(StopParameters, name) },
		{ "force", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE,
		  offsetof(StopParameters, force) },
		{ "timeoutSeconds", VARLINK_FIELD_INT, VARLINK_FIELD_NULLABLE,
		  offsetof(StopParameters, timeout) },
		{ "allowInteractiveAuthentication", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE,
		  offsetof(StopParameters, interactive) },
		{ 0 },
	};
	StopParameters p = { .timeout = -1 };
	const char *bad;
	VmsApi *api = userdata;

	if (varlink_parameters_dispatch(parameters, fields, &p, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);
	if (!vm_name_is_valid(p.name))
		return varlink_call_reply_invalid_parameter(call, "name");
	if (p.timeout < -1 || p.timeout > MAX_STOP_TIMEOUT_SECONDS)
		return varlink_call_reply_invalid_parameter(call, "timeoutSeconds");
	int r = authz_check(api->authz, call, AUTHZ_VM_CONTROL, p.name, p.interactive);
	if (r <= 0)
		return r;
	PendingCall *pending = pending_new(call, p.name);
	if (!pending)
		return -ENOMEM;
	vm_manager_stop(api->manager, p.name, p.force,
			p.timeout < 0 ? UINT64_MAX : (uint64_t)p.timeout * USEC_PER_SEC, on_outcome,
			pending);
	return 0;
}

static int method_kill(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return call_with_name(userdata, call, parameters, vm_manager_kill, AUTHZ_VM_CONTROL);
}

static int method_pause(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return call_with_name(userdata, call, parameters, vm_manager_pause, AUTHZ_VM_CONTROL);
}

static int method_resume(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return call_with_name(userdata, call, parameters, vm_manager_resume, AUTHZ_VM_CONTROL);
}

static int method_reboot(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return call_with_name(userdata, call, parameters, vm_manager_reboot, AUTHZ_VM_CONTROL);
}

static int method_reset(VarlinkCall *call, json_object *parameters, void *userdata)
{
	return call_with_name(userdata, call, parameters, vm_manager_reset, AUTHZ_VM_CONTROL);
}

/*
 * The stored text of VM `name`: 1 with it, 0 when the call was answered
 * (NoSuchVM, or a file libvfiod does not read), < 0 on failure.
 */
static int read_definition(VmsApi *api, VarlinkCall *call, const char *name, char **ret_text,
			   size_t *ret_size)
{
	_cleanup_free_ char *error = NULL;
	const char *directory = api->authz->config->vm_dir;

	int r = vm_store_read(directory, name, ret_text, ret_size, &error);
	if (r == -ENOENT) {
		char text[256];
		snprintf(text, sizeof(text),
			 "There is no definition of a VM named '%s'; 'vfioctl list' shows the VMs.",
			 name);
		api_reply_vm_error(call, API_ERROR_VMS_NO_SUCH_VM, name, NULL, text);
		return 0;
	}
	if (r == -EINVAL) {
		api_reply_vm_error(call, API_ERROR_VMS_INVALID_DEFINITION, NULL, NULL, error);
		return 0;
	}
	if (r < 0) {
		(void)api_reply_errorf(call, API_ERROR_INTERNAL, "Cannot read %s/%s.yaml: %s.",
				       directory, name, strerror(-r));
		return 0;
	}
	return 1;
}

static int method_get_definition(VarlinkCall *call, json_object *parameters, void *userdata)
{
	_cleanup_free_ char *text = NULL;
	StringParameters p;
	VmsApi *api = userdata;
	size_t size;

	if (dispatch_name(call, parameters, true, &p) < 0)
		return 0;
	/* As Logs: a definition names disks and arguments its owner may see, not everyone. */
	int r = authz_check(api->authz, call, AUTHZ_VM_CONTROL, p.value, p.interactive);
	if (r <= 0)
		return r;
	r = read_definition(api, call, p.value, &text, &size);
	if (r <= 0)
		return r;
	json_object *reply = json_object_new_object();
	if (!reply || json_add_string(reply, "definition", text) < 0) {
		json_object_put(reply);
		return -ENOMEM;
	}
	return varlink_call_reply(call, reply);
}

typedef struct AutostartParameters {
	const char *name;
	bool autostart;
	bool interactive;
} AutostartParameters;

static int method_set_autostart(VarlinkCall *call, json_object *parameters, void *userdata)
{
	static const VarlinkField fields[] = {
		{ "name", VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED,
		  offsetof(AutostartParameters, name) },
		{ "autostart", VARLINK_FIELD_BOOL, VARLINK_FIELD_REQUIRED,
		  offsetof(AutostartParameters, autostart) },
		{ "allowInteractiveAuthentication", VARLINK_FIELD_BOOL, VARLINK_FIELD_NULLABLE,
		  offsetof(AutostartParameters, interactive) },
		{ 0 },
	};
	_cleanup_free_ char *text = NULL, *changed = NULL;
	AutostartParameters p = { 0 };
	VmsApi *api = userdata;
	size_t size, changed_size;
	const char *bad;

	if (varlink_parameters_dispatch(parameters, fields, &p, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);
	if (!vm_name_is_valid(p.name))
		return varlink_call_reply_invalid_parameter(call, "name");
	/* It changes the definition: Define's right, not the owner's. */
	int r = authz_check(api->authz, call, AUTHZ_VM_MANAGE, p.name, p.interactive);
	if (r <= 0)
		return r;
	r = read_definition(api, call, p.name, &text, &size);
	if (r <= 0)
		return r;
	r = vm_definition_set_autostart(text, size, p.autostart, &changed, &changed_size);
	if (r == -EINVAL) {
		char message[512];
		snprintf(message, sizeof(message),
			 "%s/%s.yaml: autostart cannot be set in this text (not a mapping of keys, "
			 "or written in a form the change cannot be made in); change it with "
			 "'vfioctl edit %s'.",
			 api->authz->config->vm_dir, p.name, p.name);
		api_reply_vm_error(call, API_ERROR_VMS_INVALID_DEFINITION, NULL, NULL, message);
		return 0;
	}
	if (r < 0)
		return r;
	/* Stored as Define stores it (atomically, checked), and watchers hear of it. */
	PendingCall *pending = pending_new(call, p.name);
	if (!pending)
		return -ENOMEM;
	vm_manager_define(api->manager, changed, changed_size, on_outcome, pending);
	return 0;
}

/* A watcher's reply fails once its client is gone: then it is dropped. */
static int on_watch_change(const VmInfo *vm, void *userdata)
{
	json_object *reply = vm_reply(vm, NULL, NULL);
	if (!reply)
		return 0; /* this change is lost, the watch goes on */
	return varlink_call_reply_continues(userdata, reply);
}

static void on_watch_drop(void *userdata)
{
	varlink_call_unref(userdata);
}

static int method_watch(VarlinkCall *call, json_object *parameters, void *userdata)
{
	VmInfo *vms;
	size_t n;
	VmsApi *api = userdata;

	int r = list_vms(api, call, parameters, &vms, &n);
	if (r <= 0)
		return r;
	for (size_t i = 0; i < n && r >= 0; i++)
		r = on_watch_change(&vms[i], call);
	free(vms);
	if (r < 0) {
		/*
		 * The client left while the VMs were being sent: the call is ended
		 * here (the reply goes nowhere). Returning without ending it made the
		 * dispatcher answer it with an error, and free it while it still
		 * looked at it.
		 */
		(void)varlink_call_reply(call, NULL);
		return 0;
	}
	r = vm_manager_watch(api->manager, on_watch_change, on_watch_drop, varlink_call_ref(call));
	if (r < 0)
		varlink_call_unref(call);
	return r;
}

static const VarlinkMethod vm_methods[] = {
	{ "List", method_list, 0 },
	{ "Get", method_get, 0 },
	{ "Define", method_define, 0 },
	{ "Undefine", method_undefine, 0 },
	{ "Validate", method_validate, 0 },
	{ "Start", method_start, 0 },
	{ "Stop", method_stop, 0 },
	{ "Kill", method_kill, 0 },
	{ "Pause", method_pause, 0 },
	{ "Resume", method_resume, 0 },
	{ "Reboot", method_reboot, 0 },
	{ "Reset", method_reset, 0 },
	{ "Watch", method_watch, VARLINK_METHOD_REQUIRES_MORE },
	{ "Logs", vm_logs_api_call, 0 },
	{ "GetDefinition", method_get_definition, 0 },
	{ "SetAutostart", method_set_autostart, 0 },
	{ 0 },
};

int vms_api_register(VmsApi *api, Server *server)
{
	return server_add_interface(server, varlink_idl_find(libvfio_interfaces, "io.libvfio.VMs"),
				    vm_methods, api);
}
