/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "libsystemd_loader.h"

#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-login.h>

/* libsystemd's soname since systemd 209 (2014); its ABI keeps old symbols. */
#define LIBSYSTEMD_SONAME "libsystemd.so.0"

/* The functions used, typed from the headers, so that a mismatch fails to compile. */
static struct {
	bool tried;
	typeof(sd_notify) *notify;
	typeof(sd_pid_get_session) *pid_get_session;
} symbols;

/* Opens libsystemd once; false when it or a symbol is missing (the callers do without). */
static bool libsystemd_open(void)
{
	if (symbols.tried)
		return symbols.notify && symbols.pid_get_session;
	symbols.tried = true;

	/* Kept open until exit: nothing is gained by closing it. */
	void *library = dlopen(LIBSYSTEMD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!library)
		return false;
	/* Through a void *, as dlsym(3) says: ISO C has no conversion to a function pointer. */
	*(void **)&symbols.notify = dlsym(library, "sd_notify");
	*(void **)&symbols.pid_get_session = dlsym(library, "sd_pid_get_session");
	return symbols.notify && symbols.pid_get_session;
}

int libsystemd_notify(const char *text)
{
	if (!libsystemd_open())
		return -EOPNOTSUPP;
	return symbols.notify(0, text);
}

bool libsystemd_pid_in_session(pid_t pid)
{
	char *session = NULL;

	if (!libsystemd_open() || symbols.pid_get_session(pid, &session) < 0)
		return false;
	free(session);
	return true;
}
