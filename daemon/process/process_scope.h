/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A scope of its own for a process the daemon started: systemd's
 * StartTransientUnit of a .scope holding its pids, asked on systemd's private
 * socket, and done when systemd's JobRemoved says the job is. Asynchronous:
 * the caller holds the process before exec meanwhile (process_spawn_held()),
 * so that everything the program allocates is charged to the scope's cgroup
 * (cgroup v2 charges memory where it was allocated, and keeps it there when
 * the process moves).
 *
 * Without systemd as PID 1 there is no scope to make; the caller hears
 * SCOPE_NO_SYSTEMD and the process stays in the daemon's cgroup.
 */
#pragma once

#include <stddef.h>
#include <sys/types.h>

#include "base/bus.h"

typedef struct ScopeRequest {
	const char *name; /* the unit's, without ".scope": unit-name characters only */
	const char *description;
	const char *slice; /* "machine.slice" */
	const pid_t *pids;
	size_t n_pids;
	/*
	 * The devices its processes may open (the cgroup's device filter):
	 * DevicePolicy=closed and one DeviceAllow= per pair of
	 * (path or "char-GROUP", "r"|"rw"|...); NULL-terminated. NULL: no filter.
	 */
	const char *const *device_allow;
} ScopeRequest;

typedef enum ScopeResult {
	SCOPE_MADE,
	SCOPE_NO_SYSTEMD, /* nobody listens on systemd's private socket, or not to us */
	SCOPE_FAILED,
} ScopeResult;

/*
 * Called once, never before scope_start() returned. `unit` is the scope's
 * name when made; `message` says what failed. The callback may free the job:
 * both stay valid until it returns.
 */
typedef void (*ScopeCallback)(ScopeResult result, const char *unit, const char *message,
			      void *userdata);

typedef struct ScopeJob ScopeJob;

/*
 * Asks systemd (`systemd`: a BUS_SYSTEMD_PRIVATE connection) for the scope. A
 * unit of that name that still exists (the last run's, not yet collected)
 * makes it try once more as NAME-PID.scope. Bounded by its own timeout. < 0
 * (-ENOMEM) when it could not be asked; the callback is then not called.
 */
int scope_start(BusConnection *systemd, sd_event *event, const ScopeRequest *request,
		ScopeCallback callback, void *userdata, ScopeJob **ret);

/* Cancels a job (its callback is not called) or frees a finished one. Accepts NULL. */
ScopeJob *scope_job_free(ScopeJob *job);
