/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A slow disk for the integration tests, preloaded into libvfiod
 * (LD_PRELOAD): every fsync() and fdatasync() first sleeps
 * $LIBVFIO_TEST_FSYNC_DELAY_MS milliseconds, as a busy disk makes them wait;
 * every opendir() of a journal directory (.../log/journal...) sleeps
 * $LIBVFIO_TEST_JOURNAL_DELAY_MS, as opening a large journal on it does.
 * Whatever waits for them on the daemon's event loop shows in its watchdog.
 */
#include <dirent.h>
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static void delay(const char *variable)
{
	const char *ms = getenv(variable);
	long n = ms ? strtol(ms, NULL, 10) : 0;
	if (n <= 0 || n > 60000)
		return;
	struct timespec t = { n / 1000, (n % 1000) * 1000000L };
	while (nanosleep(&t, &t) < 0)
		;
}

typedef int (*SyncFunction)(int fd);
typedef DIR *(*OpendirFunction)(const char *path);

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
	delay("LIBVFIO_TEST_FSYNC_DELAY_MS");
	return real(fd);
}

int fdatasync(int fd)
{
	static SyncFunction real;
	if (!real)
		real = next_function("fdatasync");
	delay("LIBVFIO_TEST_FSYNC_DELAY_MS");
	return real(fd);
}

/* sd_journal_open() lists /run/log/journal and /var/log/journal this way. */
DIR *opendir(const char *path)
{
	static OpendirFunction real;
	if (!real) {
		void *symbol = dlsym(RTLD_NEXT, "opendir");
		memcpy(&real, &symbol, sizeof(real));
	}
	if (strstr(path, "/log/journal"))
		delay("LIBVFIO_TEST_JOURNAL_DELAY_MS");
	return real(path);
}
