/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libvfio-audio-relay: carries QEMU's connections to a VM owner's sound
 * server. libvfiod execs it as the owner (process_spawn drops to their uid
 * and gid before exec), with a listening socket only QEMU's user may use at
 * fd 3:
 *
 *   libvfio-audio-relay SERVER_SOCKET
 *
 * Each connection accepted gets a process of its own that connects to
 * SERVER_SOCKET (the owner's PipeWire or PulseAudio socket, which then sees
 * the owner connecting) and copies both ways until both sides are done. It
 * is a program of its own, not a fork of the daemon: the owner's process
 * holds nothing of the root daemon's memory. It ends on SIGTERM, which the
 * daemon sends when the VM ends (a connection under way goes on until QEMU
 * closes it); like QEMU, it outlives a restart of the daemon.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_FD 3

/* Copies what one side sends to the other until both have finished; an end half-closes. */
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
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
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

int main(int argc, char *argv[])
{
	struct sockaddr_un target = { .sun_family = AF_UNIX };
	struct sigaction ignore = { .sa_handler = SIG_IGN };

	if (argc != 2 || strlen(argv[1]) >= sizeof(target.sun_path)) {
		fprintf(stderr, "usage: libvfio-audio-relay SERVER_SOCKET (started by libvfiod, "
				"with its listening socket at fd 3)\n");
		return 2;
	}
	strcpy(target.sun_path, argv[1]);
	/* Children are reaped by the kernel. */
	(void)sigaction(SIGCHLD, &ignore, NULL);
	(void)signal(SIGPIPE, SIG_IGN);
	for (;;) {
		int client = accept4(LISTEN_FD, NULL, NULL, SOCK_CLOEXEC);
		if (client < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return 1;
		}
		pid_t pid = fork();
		if (pid == 0) {
			(void)close(LISTEN_FD);
			int server = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (server >= 0 &&
			    connect(server, (const struct sockaddr *)&target, sizeof(target)) == 0)
				relay_connection(client, server);
			_exit(0);
		}
		(void)close(client);
	}
}
