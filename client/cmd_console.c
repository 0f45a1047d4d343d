/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl console NAME: the guest's first serial port (COM1, ttyS0) through
 * the socket libvfiod made for the VM's owner (VMs.Get's console), relayed to
 * this terminal in raw mode until Ctrl-] (the terminal is put back on every
 * way out: the key, the VM ending, SIGTERM, SIGHUP, SIGINT, SIGQUIT). With
 * standard input not a terminal (a pipe, a file), every byte is relayed as it
 * is (Ctrl-] too) until its end, then the guest's output until it has been
 * quiet for QUIET_AFTER_INPUT_MSEC, so a script hears the answer to what it
 * sent.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <termios.h>
#include <unistd.h>

#include "arguments.h"
#include "commands.h"
#include "json_util.h"
#include "macro.h"
#include "vm_sockets.h"

#define ESCAPE_KEY 0x1d /* Ctrl-] */
#define QUIET_AFTER_INPUT_MSEC 2000

typedef enum RelayEnd {
	RELAY_LEFT, /* Ctrl-] on the terminal */
	RELAY_QUIET, /* the end of the input, then quiet */
	RELAY_CLOSED, /* QEMU closed the connection: it ended */
	RELAY_OUTPUT_GONE, /* standard output was closed */
	RELAY_SIGNAL,
	RELAY_ERROR,
} RelayEnd;

static volatile sig_atomic_t stop_signal;

static void on_signal(int signo)
{
	stop_signal = signo;
}

/* All of `size` bytes to `fd` (a socket: no SIGPIPE). 0, or -errno. */
static int write_all(int fd, bool is_socket, const char *buf, size_t size)
{
	while (size > 0) {
		ssize_t n = is_socket ? send(fd, buf, size, MSG_NOSIGNAL) : write(fd, buf, size);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		buf += n;
		size -= (size_t)n;
	}
	return 0;
}

/*
 * Relays between the socket and standard input and output until one of the
 * ends. The stopping signals are blocked but while waiting (ppoll), so one is
 * seen at once and never lost between a check and the wait.
 */
static RelayEnd relay(int sock, bool terminal, const sigset_t *waiting_mask, int *ret_errno)
{
	bool input_open = true;
	char buf[4096];

	for (;;) {
		struct pollfd fds[2] = {
			{ .fd = sock, .events = POLLIN },
			{ .fd = input_open ? STDIN_FILENO : -1, .events = POLLIN },
		};
		const struct timespec quiet = { QUIET_AFTER_INPUT_MSEC / 1000,
						(QUIET_AFTER_INPUT_MSEC % 1000) * 1000000L };
		int n = ppoll(fds, 2, input_open ? NULL : &quiet, waiting_mask);
		if (n < 0 && errno == EINTR) {
			if (stop_signal)
				return RELAY_SIGNAL;
			continue;
		}
		if (n < 0) {
			*ret_errno = errno;
			return RELAY_ERROR;
		}
		if (n == 0)
			return RELAY_QUIET;
		if (fds[0].revents) {
			ssize_t k = read(sock, buf, sizeof(buf));
			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k <= 0)
				return RELAY_CLOSED;
			if (write_all(STDOUT_FILENO, false, buf, (size_t)k) < 0)
				return RELAY_OUTPUT_GONE;
		}
		if (fds[1].revents) {
			ssize_t k = read(STDIN_FILENO, buf, sizeof(buf));
			if (k < 0 && (errno == EINTR || errno == EAGAIN))
				continue;
			if (k <= 0) {
				input_open = false; /* its end (or an error): now only listen */
				continue;
			}
			const char *escape = terminal ? memchr(buf, ESCAPE_KEY, (size_t)k) : NULL;
			size_t size = escape ? (size_t)(escape - buf) : (size_t)k;
			if (write_all(sock, true, buf, size) < 0)
				return RELAY_CLOSED;
			if (escape)
				return RELAY_LEFT;
		}
	}
}

static int run_console(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_json_ json_object *vm = NULL;
	_cleanup_close_ int sock = -1;
	const char *name;

	if (argument_vm_name("console", argc, argv, &name) < 0)
		return EXIT_USAGE;
	int r = vm_sockets_get_running(options, name, &vm);
	if (r != EXIT_OK)
		return r;
	const char *path = json_get_string(vm, "console");
	if (!path)
		return report_failure(options, "io.libvfio.Client.NoConsole", vm,
				      "%s has no serial console: it was started by a libvfiod "
				      "without consoles; restart the VM to get one.",
				      name);
	r = vm_sockets_connect(options, vm, path, "console", &sock);
	if (r != EXIT_OK)
		return r;

	static const int stopping[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	struct sigaction action = { .sa_handler = on_signal }; /* no SA_RESTART */
	sigset_t blocked, waiting_mask;
	(void)sigemptyset(&blocked);
	for (size_t i = 0; i < ELEMENTSOF(stopping); i++) {
		(void)sigaddset(&blocked, stopping[i]);
		(void)sigaction(stopping[i], &action, NULL);
	}
	(void)sigprocmask(SIG_BLOCK, &blocked, &waiting_mask);
	(void)signal(SIGPIPE, SIG_IGN);

	struct termios saved, raw;
	bool terminal = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &saved) >= 0;
	if (terminal)
		fprintf(stderr, "Connected to %s's serial console. Leave with Ctrl-].\n", name);
	else
		fprintf(stderr,
			"Connected to %s's serial console: sending standard input, then "
			"showing the output until it is quiet for %d s.\n",
			name, QUIET_AFTER_INPUT_MSEC / 1000);
	if (terminal) {
		raw = saved;
		cfmakeraw(&raw);
		if (tcsetattr(STDIN_FILENO, TCSANOW, &raw) < 0)
			terminal = false;
	}
	int error = 0;
	RelayEnd end = relay(sock, terminal, &waiting_mask, &error);
	if (terminal)
		(void)tcsetattr(STDIN_FILENO, TCSADRAIN, &saved);
	(void)sigprocmask(SIG_SETMASK, &waiting_mask, NULL);

	switch (end) {
	case RELAY_LEFT:
		fprintf(stderr, "\nLeft %s's console.\n", name);
		return EXIT_OK;
	case RELAY_QUIET:
	case RELAY_OUTPUT_GONE:
		return EXIT_OK;
	case RELAY_CLOSED:
		fprintf(stderr, "\nvfioctl: %s's console was closed: the VM stopped.\n", name);
		return EXIT_OK;
	case RELAY_SIGNAL:
		fprintf(stderr, "\nLeft %s's console (%s).\n", name, strsignal(stop_signal));
		return 128 + stop_signal;
	default:
		fprintf(stderr, "\nvfioctl: %s's console: %s.\n", name, strerror(error));
		return EXIT_FAILED;
	}
}

const Command command_console = {
	.name = "console",
	.summary = "Connect to a VM's serial console (its owner and root)",
	.usage = "Usage: vfioctl console NAME\n"
		 "Connects this terminal to the first serial port (COM1, ttyS0) of the\n"
		 "running VM NAME, in raw mode: what you type goes to the guest, what it\n"
		 "writes comes here. Ctrl-] leaves. One client at a time: another waits\n"
		 "until the first leaves. For the VM's owner and root.\n"
		 "With standard input not a terminal, sends all of it (Ctrl-] included),\n"
		 "then shows the guest's output until it is quiet for 2 seconds.\n",
	.max_arguments = 1,
	.run = run_console,
};
