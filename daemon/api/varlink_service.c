/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * org.varlink.service, which every Varlink server answers: GetInfo (who we
 * are, which interfaces we serve) and GetInterfaceDescription (the IDL text),
 * so generic clients (varlinkctl, python-varlink) work against the socket.
 */
#include <string.h>

#include "api/server_internal.h"

static int method_get_info(VarlinkCall *call, json_object *parameters, void *userdata)
{
	Server *server = userdata;
	const char *bad;

	static const VarlinkField fields[] = { { 0 } };
	if (varlink_parameters_dispatch(parameters, fields, NULL, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);

	json_object *reply = json_object_new_object();
	json_object *interfaces = json_object_new_array();
	if (!reply || !interfaces) {
		json_object_put(reply);
		json_object_put(interfaces);
		return -ENOMEM;
	}
	for (size_t i = 0; i < server->n_interfaces; i++)
		json_object_array_add(interfaces,
				      json_object_new_string(server->interfaces[i].idl->name));
	json_object_object_add(reply, "vendor", json_object_new_string(server->info.vendor));
	json_object_object_add(reply, "product", json_object_new_string(server->info.product));
	json_object_object_add(reply, "version", json_object_new_string(server->info.version));
	json_object_object_add(reply, "url", json_object_new_string(server->info.url));
	json_object_object_add(reply, "interfaces", interfaces);
	return varlink_call_reply(call, reply);
}

static int method_get_interface_description(VarlinkCall *call, json_object *parameters,
					    void *userdata)
{
	Server *server = userdata;
	struct {
		const char *interface;
	} p = { 0 };
	const char *bad;

	static const VarlinkField fields[] = {
		{ "interface", VARLINK_FIELD_STRING, VARLINK_FIELD_REQUIRED, 0 },
		{ 0 },
	};
	if (varlink_parameters_dispatch(parameters, fields, &p, &bad) < 0)
		return varlink_call_reply_invalid_parameter(call, bad);

	for (size_t i = 0; i < server->n_interfaces; i++) {
		RegisteredInterface *interface = &server->interfaces[i];
		if (strcmp(interface->idl->name, p.interface) != 0)
			continue;
		/*
		 * The text escaped once and kept: a client pipelining this call must
		 * not make the loop escape 20 KB of IDL for each (16 a turn held it 10 ms).
		 */
		JsonText *text = &interface->description;
		if (text->size == 0) {
			json_text_reset(text);
			json_text_literal(text, "{\"description\":");
			json_text_string(text, interface->idl->description);
			json_text_literal(text, "}");
		}
		if (text->failed) {
			json_text_reset(text);
			return -ENOMEM;
		}
		return varlink_call_reply_text(call, text->data, text->size);
	}
	return varlink_call_send(call, varlink_error_interface_not_found(p.interface), true);
}

static const VarlinkMethod service_methods[] = {
	{ "GetInfo", method_get_info, 0 },
	{ "GetInterfaceDescription", method_get_interface_description, 0 },
	{ 0 },
};

int varlink_service_register(Server *server)
{
	return server_add_interface(server,
				    varlink_idl_find(libvfio_interfaces, "org.varlink.service"),
				    service_methods, server);
}
