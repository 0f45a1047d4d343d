/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "polkit_agent.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libsystemd_loader.h"

#define PKTTYAGENT "/usr/bin/pkttyagent"
/* How long the agent may take to register before the call goes ahead without it. */
#define REGISTER_TIMEOUT_MS 5000

/*
 * Whether we are in a login session of logind's matters: polkitd uses an agent
 * registered with --fallback only for a subject in a session (when that
 * session has no agent of its own), and never for a process outside any
 * session (no logind, a container, a service): there the agent must register
 * plainly, or polkit refuses for want of an agent while it waits on the terminal.
 */
pid_t polkit_agent_open(void)
{
	int notify[2];
	char fd_text[16];

	/* Without pkttyagent the exec fails, the pipe closes, and the call goes ahead. */
	if (!isatty(STDIN_FILENO) || pipe2(notify, O_CLOEXEC) < 0)
		return 0;
	/* Asked here, after the terminal: where no agent starts, libsystemd is not opened. */
	bool fallback = libsystemd_pid_in_session(0);
	pid_t pid = fork();
	if (pid < 0) {
		close(notify[0]);
		close(notify[1]);
		return 0;
	}
	if (pid == 0) {
		/* The write end stays open across exec: the agent closes it once registered. */
		if (fcntl(notify[1], F_SETFD, 0) < 0)
			_exit(127);
		snprintf(fd_text, sizeof(fd_text), "%d", notify[1]);
		execl(PKTTYAGENT, PKTTYAGENT, "--notify-fd", fd_text,
		      fallback ? "--fallback" : (char *)NULL, (char *)NULL);
		_exit(127);
	}
	close(notify[1]);
	struct pollfd wait_for = { .fd = notify[0], .events = POLLIN };
	(void)poll(&wait_for, 1, REGISTER_TIMEOUT_MS);
	close(notify[0]);
	return pid;
}

void polkit_agent_close(pid_t agent)
{
	if (agent <= 0)
		return;
	(void)kill(agent, SIGTERM);
	(void)waitpid(agent, NULL, 0);
}
