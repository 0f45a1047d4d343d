/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QMP client against a real QEMU (-machine none: no guest, starts in
 * milliseconds): greeting and command mode, replies matched to commands,
 * errors, events, QEMU quitting, and freeing the client from its callbacks.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "json_util.h"
#include "macro.h"
#include "tmpdir.h"
#include "vm/qmp.h"

typedef struct Run {
	sd_event *event;
	char *dir;
	char *socket;
	pid_t qemu;
	Qmp *qmp;
	bool ready;
	int closed; /* 1 + the error, once closed */
	char events[8][32];
	size_t n_events;
	/* the last reply */
	json_object *result;
	char error_class[64];
	bool replied;
	bool free_on_close;
} Run;

static void on_ready(Qmp *qmp, void *userdata)
{
	((Run *)userdata)->ready = true;
}

static void on_event(Qmp *qmp, const char *name, json_object *data, void *userdata)
{
	Run *run = userdata;
	if (run->n_events < ELEMENTSOF(run->events))
		snprintf(run->events[run->n_events++], sizeof(run->events[0]), "%s", name);
}

static void on_closed(Qmp *qmp, int error, void *userdata)
{
	Run *run = userdata;
	run->closed = 1 - error;
	if (run->free_on_close)
		run->qmp = qmp_free(qmp); /* from inside its own callback */
}

static const QmpCallbacks callbacks = { on_ready, on_event, on_closed };

static void on_reply(Qmp *qmp, json_object *result, const char *error_class,
		     const char *description, void *userdata)
{
	Run *run = userdata;
	json_object_put(run->result);
	run->result = result ? json_object_get(result) : NULL;
	snprintf(run->error_class, sizeof(run->error_class), "%s", error_class ? error_class : "");
	run->replied = true;
}

/* Runs the loop until *flag is true; fails after five seconds. */
static void run_until(Run *run, const bool *flag)
{
	for (int i = 0; i < 500 && !*flag; i++)
		assert_true(sd_event_run(run->event, 10 * 1000) >= 0);
	assert_true(*flag);
}

static void execute(Run *run, const char *command, json_object *arguments)
{
	run->replied = false;
	assert_int_equal(qmp_execute(run->qmp, command, arguments, on_reply, run), 0);
	run_until(run, &run->replied);
}

static int setup(void **state)
{
	Run *run = calloc(1, sizeof(Run));
	char *option = NULL;

	assert_non_null(run);
	assert_int_equal(sd_event_new(&run->event), 0);
	run->dir = tmpdir_new();
	run->socket = tmpdir_path(run->dir, "qmp.sock");
	assert_true(asprintf(&option, "unix:%s,server=on,wait=off", run->socket) > 0);
	run->qemu = fork();
	assert_true(run->qemu >= 0);
	if (run->qemu == 0) {
		execlp("qemu-system-x86_64", "qemu-system-x86_64", "-machine", "none",
		       "-nodefaults", "-display", "none", "-S", "-qmp", option, (char *)NULL);
		_exit(127);
	}
	free(option);
	/* QEMU makes the socket while it starts up: connect once it listens. */
	int r = -ENOENT;
	for (int i = 0; i < 500 && (r == -ENOENT || r == -ECONNREFUSED); i++) {
		r = qmp_connect(run->event, run->socket, &callbacks, run, &run->qmp);
		if (r < 0)
			usleep(10 * 1000);
	}
	assert_int_equal(r, 0);
	*state = run;
	return 0;
}

static int teardown(void **state)
{
	Run *run = *state;
	int status;

	qmp_free(run->qmp);
	json_object_put(run->result);
	kill(run->qemu, SIGKILL);
	assert_int_equal(waitpid(run->qemu, &status, 0), run->qemu);
	sd_event_unref(run->event);
	free(run->socket);
	tmpdir_remove(run->dir);
	free(run);
	return 0;
}

static void test_commands_and_events(void **state)
{
	Run *run = *state;

	run_until(run, &run->ready);
	execute(run, "query-status", NULL);
	assert_string_equal(run->error_class, "");
	assert_string_equal(json_get_string(run->result, "status"), "prelaunch");

	execute(run, "cont", NULL);
	assert_string_equal(run->error_class, "");
	execute(run, "query-status", NULL);
	assert_string_equal(json_get_string(run->result, "status"), "running");
	execute(run, "stop", NULL);
	for (int i = 0; i < 500 && run->n_events < 2; i++)
		assert_true(sd_event_run(run->event, 10 * 1000) >= 0);
	assert_int_equal(run->n_events, 2);
	assert_string_equal(run->events[0], "RESUME");
	assert_string_equal(run->events[1], "STOP");

	/* Errors: a command QEMU lacks, and bad arguments. */
	execute(run, "no-such-command", NULL);
	assert_string_equal(run->error_class, "CommandNotFound");
	json_object *arguments = json_object_new_object();
	assert_int_equal(json_add_string(arguments, "no-such-argument", "x"), 0);
	execute(run, "query-status", arguments);
	assert_string_equal(run->error_class, "GenericError");
}

static void test_pipelined_commands_keep_their_order(void **state)
{
	Run *run = *state;
	Run replies[3] = { 0 };
	static const char *const commands[] = { "query-status", "query-name", "query-version" };

	/* Sent before the greeting even came: they wait for it. */
	for (size_t i = 0; i < ELEMENTSOF(commands); i++)
		assert_int_equal(qmp_execute(run->qmp, commands[i], NULL, on_reply, &replies[i]),
				 0);
	run_until(run, &replies[2].replied);
	assert_true(replies[0].replied && replies[1].replied);
	assert_non_null(json_get_string(replies[0].result, "status"));
	assert_non_null(json_get_object(replies[2].result, "qemu"));
	for (size_t i = 0; i < ELEMENTSOF(replies); i++)
		json_object_put(replies[i].result);
	assert_true(run->ready);
}

static void test_quit_closes(void **state)
{
	Run *run = *state;
	Run late = { 0 };
	bool closed = false;

	run_until(run, &run->ready);
	run->free_on_close = true;
	/* quit answers, then QEMU closes; a command still queued hears "Disconnected". */
	assert_int_equal(qmp_execute(run->qmp, "quit", NULL, on_reply, run), 0);
	assert_int_equal(qmp_execute(run->qmp, "query-status", NULL, on_reply, &late), 0);
	for (int i = 0; i < 500 && !closed; i++) {
		assert_true(sd_event_run(run->event, 10 * 1000) >= 0);
		closed = run->closed != 0;
	}
	assert_int_equal(run->closed, 1 + ECONNRESET);
	assert_null(run->qmp); /* freed from on_closed */
	assert_true(late.replied);
	assert_string_equal(late.error_class, "Disconnected");
	int status;
	assert_int_equal(waitpid(run->qemu, &status, 0), run->qemu);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	run->qemu = fork(); /* something for teardown to reap */
	if (run->qemu == 0)
		_exit(0);
}

static void test_nothing_listening(void **state)
{
	Run *run = *state;
	Qmp *qmp = NULL;
	char *missing = tmpdir_path(run->dir, "missing.sock");
	char long_path[200];

	assert_int_equal(qmp_connect(run->event, missing, &callbacks, run, &qmp), -ENOENT);
	memset(long_path, 'x', sizeof(long_path) - 1);
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(qmp_connect(run->event, long_path, &callbacks, run, &qmp), -ENAMETOOLONG);
	assert_null(qmp);
	free(missing);
}

/* A peer that is not QEMU, or a broken one: each answer ends the connection with its reason. */
static void test_hostile_peer(void **state)
{
	static const struct {
		const char *text;
		int error;
	} cases[] = {
		{ "{\"hello\": 1}\n", -EPROTO }, /* no greeting */
		{ "not json\n", -EBADMSG },
		{ "[1, 2]\n", -EPROTO },
		{ "{\"QMP\": {}}\n{\"return\": {}}\n", -EPROTO }, /* a reply without id */
		{ "{\"QMP\": {}}\n{\"a\": \"\xff\"}\n", -EBADMSG },
	};
	Run *run = *state;

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		char *path = tmpdir_path(run->dir, "peer.sock");
		struct sockaddr_un address = { .sun_family = AF_UNIX };
		int listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		Run peer = { .event = run->event };
		bool closed = false;

		snprintf(address.sun_path, sizeof(address.sun_path), "%s", path);
		(void)unlink(path);
		assert_int_equal(bind(listener, (struct sockaddr *)&address, sizeof(address)), 0);
		assert_int_equal(listen(listener, 1), 0);
		assert_int_equal(qmp_connect(run->event, path, &callbacks, &peer, &peer.qmp), 0);
		int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
		assert_true(fd >= 0);
		assert_int_equal(write(fd, cases[i].text, strlen(cases[i].text)),
				 (ssize_t)strlen(cases[i].text));
		for (int k = 0; k < 500 && !closed; k++) {
			assert_true(sd_event_run(run->event, 10 * 1000) >= 0);
			closed = peer.closed != 0;
		}
		assert_int_equal(peer.closed, 1 - cases[i].error);
		assert_false(peer.ready);
		qmp_free(peer.qmp);
		close(fd);
		close(listener);
		free(path);
	}
}

int main(void)
{
#define QEMU_TEST(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		QEMU_TEST(test_commands_and_events),
		QEMU_TEST(test_pipelined_commands_keep_their_order),
		QEMU_TEST(test_quit_closes),
		QEMU_TEST(test_nothing_listening),
		QEMU_TEST(test_hostile_peer),
	};
#undef QEMU_TEST
	return cmocka_run_group_tests_name("qmp", tests, NULL, NULL);
}
