/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Talking to libvfiod for one command: where the socket is, connecting,
 * calling a method, and turning every failure into one clear sentence and an
 * exit code, in text or (with --json) as a JSON object on stdout.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "macro.h"
#include "output.h"
#include "parse_util.h"

/* Exit codes of vfioctl, as documented in its help and the README. */
enum {
	EXIT_OK = 0,
	EXIT_FAILED = 1, /* the daemon is unreachable, refused, or the operation failed */
	EXIT_USAGE = 2, /* bad command line */
	EXIT_STOP_NOT_CLEAN = 3, /* stop: QEMU had to be told to quit, or killed */
};

/* Global options every command shares. */
/* Options a command may have of its own, besides the global ones. */
#define COMMAND_MAX_OPTIONS 16

typedef struct ClientOptions {
	const char *socket_path; /* --socket, $LIBVFIO_SOCKET, or the default */
	bool json; /* --json: machine output on stdout only */
	/* --ask-password (the default on a terminal): polkit may ask for a password */
	bool ask_password;
	/* The command's own options, in its table's order: the value, "" for a flag, or NULL */
	const char *values[COMMAND_MAX_OPTIONS];
} ClientOptions;

/* Long enough for any request that does not stream; short enough to notice a hung daemon. */
#define REQUEST_TIMEOUT_USEC (120 * USEC_PER_SEC)

/*
 * Calls `method` with `parameters` (taken; may be NULL) and waits for the
 * reply. On success returns EXIT_OK and the reply's parameters in *ret (owned
 * by the caller). On failure prints the reason (stderr; and JSON on stdout with
 * --json) and returns EXIT_FAILED.
 */
int request_call(const ClientOptions *options, const char *method, json_object *parameters,
		 json_object **ret);

/* request_call() for a method that may take longer: waits up to timeout_usec (0: forever). */
int request_call_timeout(const ClientOptions *options, const char *method, json_object *parameters,
			 uint64_t timeout_usec, json_object **ret);

/*
 * Receives each reply of a call made with "more", in order: its parameters
 * (borrowed) and whether more follow. Returns EXIT_OK to go on, or an exit code
 * that ends the call there.
 */
typedef int (*RequestReplyFunction)(json_object *parameters, bool continues, void *userdata);

/*
 * Calls `method` with `parameters` (taken; may be NULL) and "more", and hands
 * each reply to on_reply() until the last, waiting up to timeout_usec for each
 * one (0: forever). Returns the exit code of the last on_reply(), or
 * EXIT_FAILED after reporting a failure as request_call() does; the daemon
 * closing the connection before the last reply is a failure.
 */
int request_stream(const ClientOptions *options, const char *method, json_object *parameters,
		   uint64_t timeout_usec, RequestReplyFunction on_reply, void *userdata);

/* How request_stream_with() treats what request_stream() reports as a failure. */
typedef struct RequestHandling {
	/* One reply, without "more" (on_reply() sees it with continues false) */
	bool single_reply;
	/*
	 * Not reported: libvfiod not there (no socket, nothing listening) or
	 * closing the connection. Returns REQUEST_LOST, so the caller can try again.
	 */
	bool quiet_loss;
	/*
	 * An error reply by this name is not reported: returns REQUEST_TOLERATED
	 * with its parameters in *ret_tolerated (owned by the caller), if not NULL.
	 */
	const char *tolerated_error;
	json_object **ret_tolerated;
} RequestHandling;

/* What request_stream_with() returns besides exit codes; never exit codes themselves. */
enum {
	REQUEST_LOST = -1,
	REQUEST_TOLERATED = -2,
};

/* request_stream(), with the exceptions `handling` asks for. */
int request_stream_with(const ClientOptions *options, const char *method, json_object *parameters,
			uint64_t timeout_usec, const RequestHandling *handling,
			RequestReplyFunction on_reply, void *userdata);

/*
 * Keeps a reply (taken; NULL: nothing) until vfioctl exits instead of freeing
 * it: a command that prints a large reply and ends (list, gpus) would spend
 * 0.4 to 1 ms freeing its tree of some 30,000 json-c objects one by one, memory
 * that the exit gives back at once. The reply stays reachable from here, so
 * leak checkers (ASan's, valgrind) do not count it as lost.
 */
void request_keep_until_exit(json_object *reply);
DEFINE_TRIVIAL_CLEANUP_FUNC(json_object *, request_keep_until_exit)
/* A reply variable whose reply is kept until exit when it goes out of scope. */
#define _cleanup_keep_until_exit_ _cleanup_(request_keep_until_exitp)

/*
 * {"name": NAME}, the parameters of the io.libvfio.VMs methods that act on one
 * VM; NULL (after a message) when out of memory.
 */
json_object *request_vm_parameters(const char *name);

/* request_call() of `method` with request_vm_parameters(name): a method about one VM. */
int request_vm_call(const ClientOptions *options, const char *method, const char *name,
		    json_object **ret);

/*
 * The JSON of a failure: {"error": NAME, "message": SENTENCE, "parameters":
 * {...}}, where `parameters` are the error's (not taken; NULL: none) less
 * their own "message", which SENTENCE says once. NULL when out of memory.
 */
json_object *error_json(const char *error, const char *message, json_object *parameters);

/*
 * Reports a failure: one sentence on stderr (after clearing a progress line),
 * and with --json its error_json() on stdout.
 * `parameters` is not taken. Returns EXIT_FAILED.
 */
_printf_(4, 5) int report_failure(const ClientOptions *options, const char *error,
				  json_object *parameters, const char *format, ...);
