/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "request.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "json_util.h"
#include "macro.h"
#include "parse_util.h"
#include "polkit_agent.h"
#include "progress.h"
#include "varlink_client.h"

json_object *error_json(const char *error, const char *message, json_object *parameters)
{
	_cleanup_json_ json_object *out = json_object_new_object();
	json_object *rest = json_object_new_object();

	if (!out || !rest || json_add_string(out, "error", error) < 0 ||
	    json_add_string(out, "message", message) < 0 ||
	    json_object_object_add(out, "parameters", rest) < 0) {
		json_object_put(rest);
		return NULL;
	}
	/* The daemon's own sentence is `message` above, or made clearer there: said once. */
	if (!json_object_is_type(parameters, json_type_object))
		return TAKE_PTR(out);
	json_object_object_foreach (parameters, key, value) {
		if (strcmp(key, "message") == 0)
			continue;
		if (json_object_object_add(rest, key, json_object_get(value)) < 0) {
			json_object_put(value);
			return NULL;
		}
	}
	return TAKE_PTR(out);
}

int report_failure(const ClientOptions *options, const char *error, json_object *parameters,
		   const char *format, ...)
{
	char message[1024];
	va_list ap;

	va_start(ap, format);
	vsnprintf(message, sizeof(message), format, ap);
	va_end(ap);

	progress_clear();
	fprintf(stderr, "vfioctl: %s\n", message);
	if (options->json) {
		_cleanup_json_ json_object *out = error_json(error, message, parameters);
		if (out)
			print_json(out);
	}
	return EXIT_FAILED;
}

void request_keep_until_exit(json_object *reply)
{
	/* Every reply kept, in one array: a command may keep more than one. */
	static json_object *kept = NULL;

	if (!reply)
		return;
	if (!kept)
		kept = json_object_new_array();
	if (!kept || json_object_array_add(kept, reply) < 0)
		json_object_put(reply); /* out of memory: freed after all */
}

json_object *request_vm_parameters(const char *name)
{
	json_object *parameters = json_object_new_object();

	if (!parameters || json_add_string(parameters, "name", name) < 0) {
		json_object_put(parameters);
		fprintf(stderr, "vfioctl: out of memory\n");
		return NULL;
	}
	return parameters;
}

/* How long a daemon whose backlog is full may keep vfioctl waiting to connect. */
#define CONNECT_TIMEOUT_USEC (10 * USEC_PER_SEC)

static int fail_connect(const ClientOptions *options, int r)
{
	const char *path = options->socket_path;

	switch (r) {
	case -ENOENT:
	case -ECONNREFUSED:
		return report_failure(
			options, "io.libvfio.Client.DaemonNotRunning", NULL,
			"libvfiod is not running (nothing listens on %s). Start it with "
			"'systemctl start libvfiod.socket', or run 'libvfiod' as root.",
			path);
	case -EACCES:
	case -EPERM:
		return report_failure(
			options, "io.libvfio.Client.PermissionDenied", NULL,
			"Permission denied opening %s. The socket should be mode 0666 (see "
			"SocketMode= in libvfiod.socket); ask your administrator.",
			path);
	case -ETIMEDOUT:
		return report_failure(
			options, "io.libvfio.Client.Timeout", NULL,
			"libvfiod at %s does not accept connections (for %llu s); it may be stuck "
			"(journalctl -u libvfiod).",
			path, (unsigned long long)(CONNECT_TIMEOUT_USEC / USEC_PER_SEC));
	case -ENAMETOOLONG:
		return report_failure(
			options, "io.libvfio.Client.BadSocketPath", NULL,
			"The socket path %s is too long for a Unix socket (108 bytes at most).",
			path);
	default:
		return report_failure(options, "io.libvfio.Client.ConnectFailed", NULL,
				      "Cannot connect to libvfiod at %s: %s.", path, strerror(-r));
	}
}

/* `replied`: the daemon has already answered part of a streamed call. */
static int fail_transport(const ClientOptions *options, const char *method, uint64_t timeout_usec,
			  bool replied, int r)
{
	switch (r) {
	case -ECONNRESET:
		if (replied)
			return report_failure(
				options, "io.libvfio.Client.ConnectionClosed", NULL,
				"libvfiod closed the connection in the middle of %s; it may have "
				"stopped or restarted (journalctl -u libvfiod).",
				method);
		return report_failure(
			options, "io.libvfio.Client.ConnectionClosed", NULL,
			"libvfiod closed the connection before answering %s; see its log "
			"(journalctl -u libvfiod).",
			method);
	case -ETIMEDOUT:
		return report_failure(
			options, "io.libvfio.Client.Timeout", NULL,
			"libvfiod did not answer %s within %llu s; it may be stuck (journalctl "
			"-u libvfiod).",
			method, (unsigned long long)(timeout_usec / USEC_PER_SEC));
	case -EBADMSG:
	case -EPROTO:
	case -ELOOP:
	case -EMSGSIZE:
		return report_failure(
			options, "io.libvfio.Client.ProtocolError", NULL,
			"Protocol error: the answer to %s from %s is not a valid Varlink reply "
			"(%s). Is something other than libvfiod listening there?",
			method, options->socket_path, strerror(-r));
	default:
		return report_failure(options, "io.libvfio.Client.Failed", NULL,
				      "Talking to libvfiod failed: %s.", strerror(-r));
	}
}

/* Turns an error reply into the sentence a person needs. */
static int fail_reply(const ClientOptions *options, const char *method,
		      const VarlinkReplyMessage *reply)
{
	const char *error = reply->error;
	json_object *parameters = reply->parameters;
	const char *message = json_get_string(parameters, "message");

	if (strcmp(error, VARLINK_ERROR_INVALID_PARAMETER) == 0)
		return report_failure(
			options, error, parameters,
			"libvfiod refused the parameter '%s' of %s; is vfioctl newer than the "
			"daemon? Compare 'vfioctl version'.",
			json_get_string(parameters, "parameter")
				? json_get_string(parameters, "parameter")
				: "?",
			method);
	if (strcmp(error, VARLINK_ERROR_METHOD_NOT_FOUND) == 0 ||
	    strcmp(error, VARLINK_ERROR_INTERFACE_NOT_FOUND) == 0 ||
	    strcmp(error, VARLINK_ERROR_METHOD_NOT_IMPLEMENTED) == 0)
		return report_failure(
			options, error, parameters,
			"This libvfiod does not implement %s; it is probably older than "
			"vfioctl. Update and restart it.",
			method);
	if (strcmp(error, VARLINK_ERROR_PERMISSION_DENIED) == 0)
		return report_failure(
			options, error, parameters,
			"Permission denied: you may not call %s. Ask an administrator.", method);
	if (message)
		return report_failure(options, error, parameters, "%s", message);
	return report_failure(options, error, parameters, "libvfiod answered %s with the error %s.",
			      method, error);
}

/* As long as the daemon waits for polkit when a password may be asked for. */
#define PASSWORD_TIMEOUT_USEC (600 * USEC_PER_SEC)

/* The methods polkit may be asked about, which take allowInteractiveAuthentication. */
static bool method_may_ask_polkit(const char *method)
{
	static const char *const methods[] = {
		"io.libvfio.VMs.Define",
		"io.libvfio.VMs.Undefine",
		"io.libvfio.VMs.Start",
		"io.libvfio.VMs.Stop",
		"io.libvfio.VMs.Kill",
		"io.libvfio.VMs.Pause",
		"io.libvfio.VMs.Resume",
		"io.libvfio.VMs.Logs",
		"io.libvfio.VMs.GetDefinition",
		"io.libvfio.VMs.SetAutostart",
		"io.libvfio.Partitions.Create",
		"io.libvfio.Partitions.Destroy",
		"io.libvfio.Partitions.SetVFCount",
	};
	for (size_t i = 0; i < ELEMENTSOF(methods); i++)
		if (strcmp(method, methods[i]) == 0)
			return true;
	return false;
}

/* A call's timeout once an agent may ask for a password: long enough to type it (0: none). */
static uint64_t with_password_time(pid_t agent, uint64_t timeout_usec)
{
	if (agent > 0 && timeout_usec != 0 && timeout_usec < PASSWORD_TIMEOUT_USEC)
		return PASSWORD_TIMEOUT_USEC;
	return timeout_usec;
}

/* Adds allowInteractiveAuthentication where the user allows a password prompt. 0 or -ENOMEM. */
static int add_interactive(const ClientOptions *options, const char *method,
			   json_object **parameters)
{
	if (!options->ask_password || !method_may_ask_polkit(method))
		return 0;
	if (!*parameters && !(*parameters = json_object_new_object()))
		return -ENOMEM;
	return json_object_object_add(*parameters, "allowInteractiveAuthentication",
				      json_object_new_boolean(true)) < 0
		       ? -ENOMEM
		       : 0;
}

int request_call_timeout(const ClientOptions *options, const char *method, json_object *parameters,
			 uint64_t timeout_usec, json_object **ret)
{
	VarlinkClient *client = NULL;
	json_object *message = NULL;
	VarlinkReplyMessage reply;

	int r = varlink_client_connect(options->socket_path, CONNECT_TIMEOUT_USEC, &client);
	if (r < 0) {
		json_object_put(parameters);
		return fail_connect(options, r);
	}

	if (add_interactive(options, method, &parameters) < 0) {
		json_object_put(parameters);
		varlink_client_free(client);
		return fail_transport(options, method, timeout_usec, false, -ENOMEM);
	}
	pid_t agent =
		options->ask_password && method_may_ask_polkit(method) ? polkit_agent_open() : 0;
	timeout_usec = with_password_time(agent, timeout_usec);
	r = varlink_client_call(client, method, parameters, timeout_usec, &message, &reply);
	polkit_agent_close(agent);
	varlink_client_free(client);
	if (r < 0)
		return fail_transport(options, method, timeout_usec, false, r);

	if (reply.error) {
		r = fail_reply(options, method, &reply);
		json_object_put(message);
		return r;
	}
	*ret = json_object_get(reply.parameters);
	json_object_put(message);
	return EXIT_OK;
}

int request_call(const ClientOptions *options, const char *method, json_object *parameters,
		 json_object **ret)
{
	return request_call_timeout(options, method, parameters, REQUEST_TIMEOUT_USEC, ret);
}

int request_vm_call(const ClientOptions *options, const char *method, const char *name,
		    json_object **ret)
{
	json_object *parameters = request_vm_parameters(name);
	if (!parameters)
		return EXIT_FAILED;
	return request_call(options, method, parameters, ret);
}

/* Whether `r`, from connecting or talking, means libvfiod is not there now. */
static bool daemon_lost(int r)
{
	return r == -ENOENT || r == -ECONNREFUSED || r == -ECONNRESET;
}

static int stream_replies(const ClientOptions *options, const char *method, json_object *parameters,
			  uint64_t timeout_usec, const RequestHandling *handling,
			  RequestReplyFunction on_reply, void *userdata)
{
	VarlinkClient *client = NULL;
	bool replied = false;

	int r = varlink_client_connect(options->socket_path, CONNECT_TIMEOUT_USEC, &client);
	if (r < 0) {
		json_object_put(parameters);
		if (handling->quiet_loss && daemon_lost(r))
			return REQUEST_LOST;
		return fail_connect(options, r);
	}
	if (add_interactive(options, method, &parameters) < 0) {
		json_object_put(parameters);
		varlink_client_free(client);
		return fail_transport(options, method, timeout_usec, false, -ENOMEM);
	}
	r = varlink_client_send(client, method, parameters,
				handling->single_reply ? 0 : VARLINK_CALL_MORE, timeout_usec);
	/* A server that refused us may have said why before closing: read that first. */
	if (r < 0 && r != -ECONNRESET) {
		varlink_client_free(client);
		return fail_transport(options, method, timeout_usec, false, r);
	}

	for (;;) {
		json_object *message = NULL;
		VarlinkReplyMessage reply;

		int k = varlink_client_receive(client, timeout_usec, &message, &reply);
		if (k < 0) {
			varlink_client_free(client);
			if (handling->quiet_loss && daemon_lost(r < 0 ? r : k))
				return REQUEST_LOST;
			return fail_transport(options, method, timeout_usec, replied,
					      r < 0 ? r : k);
		}
		bool last = reply.error || !reply.continues;
		if (reply.error && handling->tolerated_error &&
		    strcmp(reply.error, handling->tolerated_error) == 0) {
			if (handling->ret_tolerated)
				*handling->ret_tolerated = json_object_get(reply.parameters);
			k = REQUEST_TOLERATED;
		} else if (reply.error)
			k = fail_reply(options, method, &reply);
		else {
			replied = true;
			k = on_reply(reply.parameters, reply.continues, userdata);
		}
		json_object_put(message);
		if (k != EXIT_OK || last) {
			varlink_client_free(client);
			return k;
		}
	}
}

int request_stream_with(const ClientOptions *options, const char *method, json_object *parameters,
			uint64_t timeout_usec, const RequestHandling *handling,
			RequestReplyFunction on_reply, void *userdata)
{
	/* polkit may ask for a password before the first reply: an agent for the whole call */
	pid_t agent =
		options->ask_password && method_may_ask_polkit(method) ? polkit_agent_open() : 0;
	timeout_usec = with_password_time(agent, timeout_usec);
	int r = stream_replies(options, method, parameters, timeout_usec, handling, on_reply,
			       userdata);
	polkit_agent_close(agent);
	return r;
}

int request_stream(const ClientOptions *options, const char *method, json_object *parameters,
		   uint64_t timeout_usec, RequestReplyFunction on_reply, void *userdata)
{
	return request_stream_with(options, method, parameters, timeout_usec,
				   &(const RequestHandling){ 0 }, on_reply, userdata);
}
