/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VmDirWatch: which definitions in the VMs directory may have changed since
 * the VM table last read them, so that List and Get re-read only those.
 *
 * inotify on the directory (IN_CLOSE_WRITE, IN_MOVED_TO, IN_MOVED_FROM,
 * IN_DELETE, IN_CREATE, IN_ATTRIB) names the changed NAME.yaml files; an
 * sd-event io source drains the queue between calls, and every poll drains
 * it first, so a change finished before a call is seen by that call. A
 * queue overflow, the directory removed, moved or replaced by a reload, or
 * too many names at once make everything "may have changed".
 *
 * Without inotify (no instance or watch left, or LIBVFIOD_NO_INOTIFY=1 in the
 * environment, which the tests use), the watch only says whether the
 * directory itself changed (names added or removed), and the caller compares
 * each file's identity (vm_file_identity_read()) itself. A directory or file
 * changed within the last second is looked at again at every call, since
 * its times move in coarse ticks.
 */
#pragma once

#include <stdbool.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <systemd/sd-event.h>
#include <time.h>

typedef struct VmDirWatch VmDirWatch;

int vm_dir_watch_new(sd_event *event, VmDirWatch **ret);
VmDirWatch *vm_dir_watch_free(VmDirWatch *watch);

/*
 * Brings the watch up to date for `directory` (the path may change between
 * calls: a reload). Returns 1 when any definition may have changed (the first
 * poll, an overflow, the directory replaced; without inotify, the directory
 * changed), 0 when only the names reported (or, without inotify, the files
 * whose identity changed) did.
 */
int vm_dir_watch_poll(VmDirWatch *watch, const char *directory);

/* True when inotify reports the changed names; false in the fallback. */
bool vm_dir_watch_reports_names(const VmDirWatch *watch);

/* Whether `name` was reported changed since it was last taken; forgets it. */
bool vm_dir_watch_take(VmDirWatch *watch, const char *name);

/*
 * The names reported changed (a NULL-terminated array of the watch's own
 * strings, valid until the next call), forgotten.
 */
char *const *vm_dir_watch_take_all(VmDirWatch *watch, size_t *ret_n);

/* What tells that a file changed without reading it; all zero: no such file. */
typedef struct VmFileIdentity {
	dev_t dev;
	ino_t ino;
	off_t size;
	mode_t mode;
	uid_t uid;
	struct timespec mtime, ctime;
	/*
	 * Changed within the last second when it was taken: file times move in
	 * ticks of the kernel's coarse clock, so a second change in the same tick
	 * would look the same. Such an identity equals no other.
	 */
	bool recent;
} VmFileIdentity;

/* The identity of `name` in `directory_fd`, not following a link; zero when it is not there. */
void vm_file_identity_read(int directory_fd, const char *file_name, VmFileIdentity *ret);
/* The identity in a struct stat (zero when st_ino is 0: nothing was opened). */
void vm_file_identity_from_stat(const struct stat *st, VmFileIdentity *ret);
bool vm_file_identity_equal(const VmFileIdentity *a, const VmFileIdentity *b);
