/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/manager_api.h"

#include <errno.h>
#include <sys/utsname.h>

#include "api/errors.h"
#include "build-config.h"
#include "macro.h"
#include "varlink_message.h"

static json_object *string_or_null(const char *value)
{
	return value ? json_object_new_string(value) : NULL;
}

/* Called when the QEMU probe has an answer; finishes the GetVersion call. */
static void reply_version(const QemuInfo *info, void *userdata)
{
	VarlinkCall *call = userdata;
	struct utsname uts;
	json_object *reply = json_object_new_object();
	json_object *qemu = json_object_new_object();

	if (uname(&uts) < 0)
		uts = (struct utsname){ .release = "unknown" };
	if (reply && qemu) {
		json_object_object_add(qemu, "binary", string_or_null(info->binary));
		json_object_object_add(qemu, "version", string_or_null(info->version));
		json_object_object_add(qemu, "problem", string_or_null(info->problem));
		json_object_object_add(reply, "version", json_object_new_string(PROJECT_VERSION));
		json_object_object_add(reply, "protocolVersion",
				       json_object_new_string(PROTOCOL_VERSION));
		json_object_object_add(reply, "kernelRelease", json_object_new_string(uts.release));
		json_object_object_add(reply, "qemu", TAKE_PTR(qemu));
	}
	json_object_put(qemu);
	if (reply)
		(void)varlink_call_reply(call, reply);
	else
		(void)api_reply_out_of_memory(call);
	varlink_call_unref(call);
}

static int method_get_version(VarlinkCall *call, json_object *parameters, void *userdata)
{
	ManagerApi *api = userdata;
	const char *bad;

	int r = authz_check(api->authz, call, AUTHZ_READ, NULL, false);
	if (r <= 0)
		return r;

	static const VarlinkField fields[] = { { 0 } };
	if (varlink_parameters_dispatch(parameters, fields, NULL, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);

	/* The probe may answer later: keep the call until it does. */
	r = qemu_probe_get(api->qemu, reply_version, varlink_call_ref(call));
	if (r < 0)
		varlink_call_unref(call);
	return r;
}

static const VarlinkMethod manager_methods[] = {
	{ "GetVersion", method_get_version, 0 },
	{ 0 },
};

int manager_api_register(ManagerApi *api, Server *server)
{
	return server_add_interface(server,
				    varlink_idl_find(libvfio_interfaces, "io.libvfio.Manager"),
				    manager_methods, api);
}
