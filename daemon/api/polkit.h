/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Polkit, asked over sd-bus on the system bus, without blocking the loop:
 * org.freedesktop.PolicyKit1.Authority.CheckAuthorization for a unix-process
 * subject (pid, start time, uid), the form polkit 0.105
 * to 122+ accept. It knows questions and answers, not VMs or Varlink: the
 * caller (api/authz.c) says which action and which details.
 *
 * The bus is opened when the first question is asked, and again after it
 * broke; DBUS_SYSTEM_BUS_ADDRESS chooses another bus (the tests' private one).
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <systemd/sd-event.h>

typedef struct Polkit Polkit;

/* How a question ended. */
typedef enum PolkitAnswer {
	POLKIT_YES,
	POLKIT_NO,
	POLKIT_ABSENT, /* no system bus, or no polkit on it */
	POLKIT_FAILED, /* polkit answered with an error, or the subject is gone */
	POLKIT_CANCELLED, /* the Polkit object was freed first */
} PolkitAnswer;

/* Called exactly once per question, never before polkit_check() returned. */
typedef void (*PolkitCallback)(PolkitAnswer answer, void *userdata);

int polkit_new(sd_event *event, Polkit **ret);
/* Pending questions end with POLKIT_CANCELLED. Accepts NULL. */
Polkit *polkit_free(Polkit *polkit);

/*
 * Asks whether `subject` may do `action_id`. `start_time` is its process's
 * (process_stat.h), read when it connected; 0 when it was gone already.
 * `details` is key, value, …, NULL (polkit rules see them as
 * action.lookup(key)). `interactive` lets polkit
 * ask the user for a password (AllowUserInteraction). Returns 0 when the
 * question is under way, < 0 when it could not be asked (-ENOMEM), the
 * callback then not called. A bus that cannot be reached is not an error
 * here: the callback gets POLKIT_ABSENT.
 */
int polkit_check(Polkit *polkit, const struct ucred *subject, uint64_t start_time,
		 const char *action_id, const char *const *details, bool interactive,
		 PolkitCallback callback, void *userdata);
