/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A slow disk for the integration tests, preloaded into libvfiod
 * (LD_PRELOAD): every fsync() and fdatasync() first sleeps
 * $LIBVFIO_TEST_FSYNC_DELAY_MS milliseconds, as a busy disk makes them wait.
 * Whatever waits for them on the daemon's event loop shows in its watchdog.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void delay(void)
{
	const char *ms = getenv("LIBVFIO_TEST_FSYNC_DELAY_MS");
	long n = ms ? strtol(ms, NULL, 10) : 0;
	if (n <= 0 || n > 60000)
		return;
	struct timespec t = { n / 1000, (n % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0)
		;
}

typedef int (*SyncFunction)(int fd);

/* dlsym() gives an object pointer; POSIX says it may hold a function's. */
static SyncFunction next_function(const char *name)
{
	void *symbol = dlsym(RTLD_NEXT, name);
	SyncFunction f;
	memcpy(&f, &symbol, sizeof(f));
	return f;
}

int fsync(int fd)
{
	static SyncFunction real;
	if (!real)
		real = next_function("fsync");
	delay();
	return real(fd);
}

int fdatasync(int fd)
{
	static SyncFunction real;
	if (!real)
		real = next_function("fdatasync");
	delay();
	return real(fd);
}
