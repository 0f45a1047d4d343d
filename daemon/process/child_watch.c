/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process/child_watch.h"

#include <errno.h>
#include <stdlib.h>

#include "base/loop_watch.h"
#include "macro.h"

typedef struct Watch {
	ChildExitHandler handler;
	void *userdata;
} Watch;

static int on_child(sd_event_source *source, const siginfo_t *si, void *userdata)
{
	loop_watch_enter(source);
	Watch *watch = userdata;
	ChildExit exit = { .known = true, .code = si->si_code, .status = si->si_status };
	watch->handler(&exit, watch->userdata);
	return 0;
}

static int on_readable(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	loop_watch_enter(source);
	Watch *watch = userdata;
	ChildExit exit = { .known = false };
	(void)fd;
	(void)revents;
	/* Once: the pidfd stays readable. */
	(void)sd_event_source_set_enabled(source, SD_EVENT_OFF);
	watch->handler(&exit, watch->userdata);
	return 0;
}

int child_watch(sd_event *event, sd_event_source **ret, int pidfd, bool own,
		const char *description, ChildExitHandler handler, void *userdata)
{
	sd_event_source *source = NULL;
	Watch *watch = malloc(sizeof(*watch));
	if (!watch)
		return -ENOMEM;
	*watch = (Watch){ handler, userdata };
	int r = own ? sd_event_add_child_pidfd(event, &source, pidfd, WEXITED, on_child, watch)
		    : sd_event_add_io(event, &source, pidfd, EPOLLIN, on_readable, watch);
	if (r < 0) {
		free(watch);
		return r;
	}
	(void)sd_event_source_set_description(source, description);
	r = sd_event_source_set_destroy_callback(source, free);
	if (r < 0) {
		free(watch);
		sd_event_source_disable_unref(source);
		return r;
	}
	*ret = source;
	return 0;
}
