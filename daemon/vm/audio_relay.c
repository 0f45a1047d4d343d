/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/audio_relay.h"

#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "error_message.h"
#include "macro.h"
#include "vm/vm_socket.h"

#define LISTEN_FD 3

/*
 * Copies what one side sends to the other until both have finished; a side
 * that ends its sending half-closes the other's. Only async-signal-safe
 * calls: this runs in a child of the multithreaded daemon.
 */
static void relay_connection(int a, int b)
{
	char buffer[65536];
	struct pollfd fds[2] = { { .fd = a, .events = POLLIN }, { .fd = b, .events = POLLIN } };
	int open_sides = 2;

	while (open_sides > 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			int other = i == 0 ? b : a;
			ssize_t n = read(fds[i].fd, buffer, sizeof(buffer));
			if (n <= 0) {
				if (n < 0 && errno == EINTR)
					continue;
				(void)shutdown(other, SHUT_WR);
				fds[i].fd = -1;
				open_sides--;
				continue;
			}
			for (ssize_t done = 0; done < n;) {
				ssize_t w = write(other, buffer + done, (size_t)(n - done));
				if (w < 0 && errno == EINTR)
					continue;
				if (w < 0)
					return;
				done += w;
			}
		}
	}
}

_noreturn_ static void relay_main(const struct sockaddr_un *target, uid_t uid, gid_t gid)
{
	struct sigaction ignore = { .sa_handler = SIG_IGN };
	sigset_t none;

	/* Children are reaped by the kernel; the relay goes when the daemon goes. */
	(void)sigaction(SIGCHLD, &ignore, NULL);
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGPIPE, SIG_IGN);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	(void)prctl(PR_SET_PDEATHSIG, SIGTERM);
	/*
	 * The fork holds a copy of the daemon's memory: the owner, whose uid it
	 * takes, must not read it through ptrace or /proc/PID/mem.
	 */
	if (prctl(PR_SET_DUMPABLE, 0) < 0)
		_exit(1);
	if (setgroups(0, NULL) < 0 || setresgid(gid, gid, gid) < 0 || setresuid(uid, uid, uid) < 0)
		_exit(1);
	for (;;) {
		int client = accept4(LISTEN_FD, NULL, NULL, SOCK_CLOEXEC);
		if (client < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(1);
		}
		pid_t pid = fork();
		if (pid == 0) {
			(void)close(LISTEN_FD);
			int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (server >= 0 &&
			    connect(server, (const struct sockaddr *)target, sizeof(*target)) == 0)
				relay_connection(client, server);
			_exit(0);
		}
		(void)close(client);
	}
}

int audio_relay_start(const char *user_runtime_root, const char *owner, const char *listen_path,
		      const QemuUser *qemu, pid_t *ret_pid, int *ret_pidfd, char **ret_message)
{
	struct sockaddr_un target = { .sun_family = AF_UNIX };
	struct stat st;

	if (!owner)
		return error_message(ret_message, -EINVAL,
				     "audio: the VM has no owner, whose sound server it would use; "
				     "add 'owner: USER'.");
	errno = 0;
	struct passwd *pw = getpwnam(owner);
	if (!pw)
		return error_message(ret_message, -ENOENT, "audio: there is no user '%s'.", owner);
	uid_t uid = pw->pw_uid;
	gid_t gid = pw->pw_gid;
	if (snprintf(target.sun_path, sizeof(target.sun_path), "%s/%u/pulse/native",
		     user_runtime_root, (unsigned)uid) >= (int)sizeof(target.sun_path))
		return error_message(ret_message, -ENAMETOOLONG, "audio: %s is too long a path.",
				     user_runtime_root);
	if (lstat(target.sun_path, &st) < 0 || !S_ISSOCK(st.st_mode) || st.st_uid != uid)
		return error_message(ret_message, -ENOENT,
				     "audio: %s has no sound server running (%s is not their "
				     "socket): log in as %s, with PipeWire or PulseAudio, or use "
				     "'audio: none'.",
				     owner, target.sun_path, owner);

	_cleanup_close_ int listening = unix_listen_at(listen_path, qemu->uid, qemu->gid);
	if (listening < 0)
		return error_message(ret_message, listening, "audio: cannot listen on %s: %s.",
				     listen_path, strerror(-listening));
	pid_t pid = fork();
	if (pid < 0)
		return error_message(ret_message, negative_errno(),
				     "audio: cannot start the relay: %s.", strerror(errno));
	if (pid == 0) {
		(void)setsid();
		if (dup2(listening, LISTEN_FD) < 0 || close_range(LISTEN_FD + 1, ~0U, 0) < 0)
			_exit(1);
		relay_main(&target, uid, gid);
	}
	int pidfd = pidfd_open(pid, 0);
	if (pidfd < 0) {
		int r = negative_errno();
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, NULL, 0);
		return error_message(ret_message, r, "audio: cannot watch the relay: %s.",
				     strerror(-r));
	}
	*ret_pid = pid;
	*ret_pidfd = pidfd;
	return 0;
}
