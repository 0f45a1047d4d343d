/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "process/exec_watch.h"

#include <errno.h>
#include <stdlib.h>

#include "base/loop_watch.h"

struct ExecWatch {
	SpawnHold hold;
	sd_event_source *source;
	ExecWatchCallback callback;
	void *userdata;
};

ExecWatch *exec_watch_free(ExecWatch *watch)
{
	if (!watch)
		return NULL;
	sd_event_source_disable_unref(watch->source);
	spawn_hold_done(&watch->hold);
	free(watch);
	return NULL;
}

/* The report pipe is readable: EOF at exec, or the child's failure. */
static int on_report(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	ExecWatch *watch = userdata;
	const char *stage;

	loop_watch_enter(source);
	/* Out of epoll before its fd is closed: the number may be reused at once. */
	watch->source = sd_event_source_disable_unref(watch->source);
	int r = process_exec_result(&watch->hold, &stage);
	watch->callback(watch, r, stage, watch->userdata);
	exec_watch_free(watch);
	return 0;
}

int exec_watch_start(sd_event *event, SpawnHold *hold, const char *description,
		     ExecWatchCallback callback, void *userdata, ExecWatch **ret)
{
	ExecWatch *watch = calloc(1, sizeof(*watch));
	if (!watch)
		return -ENOMEM;
	int r = sd_event_add_io(event, &watch->source, hold->report_fd, EPOLLIN, on_report, watch);
	if (r < 0) {
		free(watch);
		return r;
	}
	(void)sd_event_source_set_description(watch->source, description);
	watch->callback = callback;
	watch->userdata = userdata;
	watch->hold = *hold;
	*hold = (SpawnHold){ .release_fd = -1, .report_fd = -1 };
	process_let_go(&watch->hold);
	*ret = watch;
	return 0;
}
