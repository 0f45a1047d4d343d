/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_dir_watch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop_watch.h"
#include "macro.h"
#include "vm_definition.h"

#define WATCH_MASK                                                                          \
	(IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE | IN_ATTRIB | \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define SUFFIX ".yaml"
/* More names than this at once: everything is re-read, as after an overflow. */
#define MAX_PENDING_NAMES 64

struct VmDirWatch {
	int fd; /* inotify, or -1 in the fallback */
	int wd; /* the directory's watch, or -1 */
	sd_event_source *source;
	char *directory; /* what is watched (or was last stat()ed) */
	bool everything; /* any name may have changed */
	char names[MAX_PENDING_NAMES][VM_NAME_MAX + 1];
	char *name_pointers[MAX_PENDING_NAMES + 1];
	size_t n_names;
	VmFileIdentity directory_identity; /* the fallback's */
};

void vm_file_identity_read(int directory_fd, const char *file_name, VmFileIdentity *ret)
{
	struct stat st;
	*ret = (VmFileIdentity){ 0 };
	if (fstatat(directory_fd, file_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	vm_file_identity_from_stat(&st, ret);
}

void vm_file_identity_from_stat(const struct stat *st_pointer, VmFileIdentity *ret)
{
	const struct stat st = *st_pointer;
	if (st.st_ino == 0) {
		*ret = (VmFileIdentity){ 0 };
		return;
	}
	struct timespec now;
	(void)clock_gettime(CLOCK_REALTIME, &now);
	*ret = (VmFileIdentity){ .recent = st.st_ctim.tv_sec >= now.tv_sec - 1,
				 .dev = st.st_dev,
				 .ino = st.st_ino,
				 .size = st.st_size,
				 .mode = st.st_mode,
				 .uid = st.st_uid,
				 .mtime = st.st_mtim,
				 .ctime = st.st_ctim };
}

bool vm_file_identity_equal(const VmFileIdentity *a, const VmFileIdentity *b)
{
	return !a->recent && !b->recent && a->dev == b->dev && a->ino == b->ino &&
	       a->size == b->size && a->mode == b->mode && a->uid == b->uid &&
	       a->mtime.tv_sec == b->mtime.tv_sec && a->mtime.tv_nsec == b->mtime.tv_nsec &&
	       a->ctime.tv_sec == b->ctime.tv_sec && a->ctime.tv_nsec == b->ctime.tv_nsec;
}

static void note_name(VmDirWatch *w, const char *file_name)
{
	size_t n = strlen(file_name), suffix = strlen(SUFFIX);
	char name[VM_NAME_MAX + 1];

	if (n <= suffix || n - suffix > VM_NAME_MAX || strcmp(file_name + n - suffix, SUFFIX) != 0)
		return; /* a temporary file of an atomic write, or not a definition */
	memcpy(name, file_name, n - suffix);
	name[n - suffix] = '\0';
	if (!vm_name_is_valid(name) || w->everything)
		return;
	for (size_t i = 0; i < w->n_names; i++)
		if (strcmp(w->names[i], name) == 0)
			return;
	if (w->n_names == MAX_PENDING_NAMES) {
		w->everything = true;
		return;
	}
	memcpy(w->names[w->n_names++], name, n - suffix + 1);
}

/* Reads what the queue holds, without waiting. */
static void drain(VmDirWatch *w)
{
	char buffer[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(w->fd, buffer, sizeof(buffer));
		if (n <= 0) /* EAGAIN: empty; anything else: nothing more to read now */
			return;
		for (char *p = buffer; p < buffer + n;) {
			const struct inotify_event *event = (const struct inotify_event *)p;
			p += sizeof(*event) + event->len;
			if (event->mask & IN_Q_OVERFLOW) {
				w->everything = true;
				continue;
			}
			if (event->wd != w->wd)
				continue; /* a watch given up (the directory changed) */
			if (event->mask &
			    (IN_IGNORED | IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT)) {
				/*
				 * The directory went away: the path is watched again at the
				 * next poll (a moved directory would still be watched).
				 */
				if (!(event->mask & IN_IGNORED))
					(void)inotify_rm_watch(w->fd, w->wd);
				w->wd = -1;
				w->everything = true;
				continue;
			}
			if (event->len > 0)
				note_name(w, event->name);
		}
	}
}

static int on_inotify(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	loop_watch_enter(source);
	(void)fd;
	(void)revents;
	drain(userdata);
	return 0;
}

/* No inotify from here on: the caller compares identities. */
static void fall_back(VmDirWatch *w, int error)
{
	log_full_errno(LOG_NOTICE, error,
		       "Cannot watch the VMs directory with inotify; definitions are compared "
		       "at each call instead");
	w->source = sd_event_source_disable_unref(w->source);
	w->fd = safe_close(w->fd);
	w->wd = -1;
}

int vm_dir_watch_new(sd_event *event, VmDirWatch **ret)
{
	VmDirWatch *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->fd = -1;
	w->wd = -1;
	w->everything = true;
	const char *no = getenv("LIBVFIOD_NO_INOTIFY");
	if (!no || strcmp(no, "1") != 0) {
		w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		int r = w->fd < 0
				? negative_errno()
				: sd_event_add_io(event, &w->source, w->fd, EPOLLIN, on_inotify, w);
		if (r < 0)
			fall_back(w, r);
		else
			(void)sd_event_source_set_description(w->source, "VMs directory (inotify)");
	}
	*ret = w;
	return 0;
}

VmDirWatch *vm_dir_watch_free(VmDirWatch *w)
{
	if (!w)
		return NULL;
	sd_event_source_disable_unref(w->source);
	safe_close(w->fd);
	free(w->directory);
	free(w);
	return NULL;
}

bool vm_dir_watch_reports_names(const VmDirWatch *w)
{
	return w->fd >= 0;
}

/* Watches `directory` from now on: everything may have changed meanwhile. */
static void watch_directory(VmDirWatch *w, const char *directory)
{
	if (!w->directory || strcmp(w->directory, directory) != 0) {
		char *copy = strdup(directory);
		if (!copy) {
			w->everything = true;
			return; /* tried again at the next poll */
		}
		free(w->directory);
		w->directory = copy;
		if (w->wd >= 0)
			(void)inotify_rm_watch(w->fd, w->wd);
		w->wd = -1;
		w->directory_identity = (VmFileIdentity){ 0 };
		w->everything = true;
	}
	if (w->fd < 0 || w->wd >= 0)
		return;
	w->everything = true;
	w->wd = inotify_add_watch(w->fd, directory, WATCH_MASK);
	if (w->wd < 0 && (errno == ENOSPC || errno == ENOMEM))
		fall_back(w, -errno);
	/* Any other error (no such directory yet): nothing to watch, tried at each poll. */
}

int vm_dir_watch_poll(VmDirWatch *w, const char *directory)
{
	if (w->fd >= 0)
		drain(w);
	watch_directory(w, directory);
	if (w->fd < 0) {
		VmFileIdentity now = { 0 };
		struct stat st;
		if (stat(directory, &st) == 0) /* the directory a link may name */
			vm_file_identity_from_stat(&st, &now);
		if (!vm_file_identity_equal(&now, &w->directory_identity))
			w->everything = true;
		w->directory_identity = now;
	}
	if (!w->everything)
		return 0;
	w->everything = false;
	w->n_names = 0;
	/* Not watched (no directory yet): the next poll looks again. */
	if (w->fd >= 0 && w->wd < 0)
		w->everything = true;
	return 1;
}

bool vm_dir_watch_take(VmDirWatch *w, const char *name)
{
	for (size_t i = 0; i < w->n_names; i++)
		if (strcmp(w->names[i], name) == 0) {
			memmove(w->names[i], w->names[w->n_names - 1], sizeof(w->names[i]));
			w->n_names--;
			return true;
		}
	return false;
}

char *const *vm_dir_watch_take_all(VmDirWatch *w, size_t *ret_n)
{
	for (size_t i = 0; i < w->n_names; i++)
		w->name_pointers[i] = w->names[i];
	w->name_pointers[w->n_names] = NULL;
	*ret_n = w->n_names;
	w->n_names = 0;
	return w->name_pointers;
}
