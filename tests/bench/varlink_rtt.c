/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * varlink_rtt: the round trip of one Varlink call on an open connection, as the
 * daemon gives it, without a client's own cost in the figure (Python's socket
 * and bytes handling alone take about 100 us a call on the development machine).
 *
 *     varlink_rtt SOCKET METHOD [PARAMETERS-JSON] [--calls N] [--warmup N]
 *
 * The call is encoded once; each timed call is one send() of those bytes and
 * recv()s in large chunks into one buffer kept across calls, until the reply's
 * NUL. CLOCK_MONOTONIC from before the send to the NUL. Each reply is then
 * checked (one JSON object, a Varlink reply, not an error) outside the clock.
 * Prints one line of JSON: the calls, p50/p90/p99/min/max in microseconds
 * (nearest rank), the size of the reply and, with --samples, every call's time.
 * A benchmark tool, not installed.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

#include "json_util.h"
#include "macro.h"
#include "parse_util.h"
#include "varlink_client.h"
#include "varlink_frame.h"
#include "varlink_message.h"

/* A daemon that stops answering fails the run after this, rather than hanging it. */
#define REPLY_TIMEOUT_SEC 30
/* Enough for a List of 1,000 VMs in one recv(); the buffer grows past it when needed. */
#define BUFFER_INITIAL (1024u * 1024u)
#define CALLS_MAX 10000000u

typedef struct Reply {
	char *data;
	size_t size; /* bytes of the last reply, its NUL excluded */
	size_t allocated;
} Reply;

static int64_t now_nsec(void)
{
	struct timespec ts;

	(void)clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int connect_unix(const char *path)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };
	struct timeval timeout = { .tv_sec = REPLY_TIMEOUT_SEC };
	_cleanup_close_ int fd = -1;

	if (strlen(path) >= sizeof(address.sun_path))
		return -ENAMETOOLONG;
	strcpy(address.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	/* The send timeout bounds connect() too: a Unix socket's full backlog blocks it. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout)) < 0)
		return negative_errno();
	if (connect(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

/* Sends the whole call. */
static int send_all(int fd, const char *data, size_t size)
{
	while (size > 0) {
		ssize_t n = send(fd, data, size, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EPIPE ? -ECONNRESET : negative_errno();
		data += n;
		size -= (size_t)n;
	}
	return 0;
}

/*
 * Reads one reply into `reply`, up to its NUL. -ECONNRESET when the daemon closed
 * the connection, -EAGAIN after REPLY_TIMEOUT_SEC of silence, -EMSGSIZE past
 * VARLINK_CLIENT_MAX_MESSAGE, -EPROTO when bytes follow the NUL (a call without
 * "more" has exactly one reply).
 */
static int receive_reply(int fd, Reply *reply)
{
	size_t received = 0;

	for (;;) {
		if (reply->allocated - received < BUFFER_INITIAL / 4) {
			size_t allocated = MAX(reply->allocated * 2, (size_t)BUFFER_INITIAL);
			if (allocated > VARLINK_CLIENT_MAX_MESSAGE + 1)
				return -EMSGSIZE;
			char *data = realloc(reply->data, allocated);
			if (!data)
				return -ENOMEM;
			reply->data = data;
			reply->allocated = allocated;
		}
		ssize_t n = recv(fd, reply->data + received, reply->allocated - received, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			return -ECONNRESET;
		const char *end = memchr(reply->data + received, '\0', (size_t)n);
		received += (size_t)n;
		if (end) {
			reply->size = (size_t)(end - reply->data);
			return reply->size + 1 == received ? 0 : -EPROTO;
		}
	}
}

/* One JSON object from `data` (NUL excluded), checked as the client checks a peer's. */
static int parse_object(VarlinkReader *reader, const char *data, size_t size, json_object **ret)
{
	int r = varlink_reader_feed(reader, data, size);
	if (r >= 0)
		r = varlink_reader_feed(reader, "", 1);
	if (r >= 0)
		r = varlink_reader_next(reader, ret);
	return r == 0 ? -EBADMSG : r;
}

/*
 * Checks a reply after the clock stopped. 0 for a successful reply; -EBADMSG for
 * bytes that are not a Varlink reply; -EREMOTEIO for an error reply, its name in
 * *ret_error (owned by the caller).
 */
static int check_reply(VarlinkReader *reader, const Reply *reply, char **ret_error)
{
	_cleanup_json_ json_object *message = NULL;
	VarlinkReplyMessage parts;

	int r = parse_object(reader, reply->data, reply->size, &message);
	if (r == -ENOMEM)
		return r;
	if (r < 0 || varlink_reply_parse(message, &parts) < 0)
		return -EBADMSG;
	if (parts.error) {
		*ret_error = strdup(parts.error);
		return *ret_error ? -EREMOTEIO : -ENOMEM;
	}
	return 0;
}

/* The call's bytes, NUL included, from the caller's method name and parameters' text. */
static int encode_call(VarlinkReader *reader, const char *method, const char *parameters_text,
		       char **ret, size_t *ret_size)
{
	json_object *parameters = NULL;

	if (!varlink_member_name_is_valid(method)) {
		fprintf(stderr,
			"varlink_rtt: '%s' is not a method name such as "
			"io.libvfio.Manager.GetVersion.\n",
			method);
		return -EINVAL;
	}
	if (parameters_text) {
		int r = parse_object(reader, parameters_text, strlen(parameters_text), &parameters);
		if (r == -ENOMEM)
			return r;
		if (r < 0) {
			fprintf(stderr,
				"varlink_rtt: the parameters must be one JSON object, such as "
				"'{\"name\":\"vm0\"}'.\n");
			return -EINVAL;
		}
	}
	_cleanup_json_ json_object *call = varlink_call_new(method, parameters, 0);
	if (!call)
		return -ENOMEM;
	return varlink_frame_encode(call, ret, ret_size);
}

static int compare_int64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x > y) - (x < y);
}

/* The nearest-rank percentile of sorted nanoseconds, in microseconds. */
static double percentile_usec(const int64_t *sorted, size_t count, unsigned percent)
{
	size_t rank = (count * percent + 99) / 100;
	return (double)sorted[rank > 0 ? rank - 1 : 0] / 1000.0;
}

static int parse_count(const char *option, const char *text, uint64_t minimum, size_t *ret)
{
	uint64_t value;

	if (parse_uint64(text, &value) < 0 || value < minimum || value > CALLS_MAX) {
		fprintf(stderr,
			"varlink_rtt: %s wants a number from %" PRIu64 " to %u, not '%s'.\n",
			option, minimum, CALLS_MAX, text);
		return -EINVAL;
	}
	*ret = value;
	return 0;
}

/*
 * The report, one line of JSON. `times` in call order (ns); with `samples`, every
 * call's time too, in that order, for a caller that pools several runs.
 */
static int print_report(const char *method, const int64_t *times, size_t calls, size_t warmup,
			size_t reply_bytes, bool samples)
{
	_cleanup_free_ int64_t *sorted = malloc(calls * sizeof(*sorted));

	if (!sorted)
		return -ENOMEM;
	memcpy(sorted, times, calls * sizeof(*sorted));
	qsort(sorted, calls, sizeof(*sorted), compare_int64);
	/* The method name is safe in a JSON string: varlink_member_name_is_valid(). */
	printf("{\"method\":\"%s\",\"calls\":%zu,\"warmup\":%zu,\"p50_us\":%.1f,\"p90_us\":%.1f,"
	       "\"p99_us\":%.1f,\"min_us\":%.1f,\"max_us\":%.1f,\"reply_bytes\":%zu",
	       method, calls, warmup, percentile_usec(sorted, calls, 50),
	       percentile_usec(sorted, calls, 90), percentile_usec(sorted, calls, 99),
	       (double)sorted[0] / 1000.0, (double)sorted[calls - 1] / 1000.0, reply_bytes);
	if (samples) {
		fputs(",\"samples_us\":[", stdout);
		for (size_t i = 0; i < calls; i++)
			printf("%s%.1f", i ? "," : "", (double)times[i] / 1000.0);
		fputs("]", stdout);
	}
	fputs("}\n", stdout);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
}

static void usage(FILE *out)
{
	fputs("Usage: varlink_rtt SOCKET METHOD [PARAMETERS-JSON] [--calls N] [--warmup N]\n"
	      "                   [--samples]\n"
	      "Times N calls of METHOD (default 1000, after 10 untimed) on one connection to\n"
	      "the Varlink socket SOCKET and prints, as JSON, the round trips' p50, p90, p99,\n"
	      "min and max in microseconds and the reply's size in bytes; with --samples,\n"
	      "every call's time too (samples_us, in call order).\n"
	      "Exit status: 0 success, 1 failure (the message says why), 2 bad usage.\n",
	      out);
}

/* One call: returns its round trip in ns, or a negative errno after saying why. */
static int64_t timed_call(int fd, const char *call, size_t call_size, VarlinkReader *reader,
			  Reply *reply, const char *method)
{
	_cleanup_free_ char *error = NULL;

	int64_t began = now_nsec();
	int r = send_all(fd, call, call_size);
	if (r >= 0)
		r = receive_reply(fd, reply);
	int64_t elapsed = now_nsec() - began;
	if (r >= 0)
		r = check_reply(reader, reply, &error);
	if (r == -EREMOTEIO)
		fprintf(stderr, "varlink_rtt: %s answered with the error %s.\n", method, error);
	else if (r == -EAGAIN)
		fprintf(stderr, "varlink_rtt: no reply to %s within %d s.\n", method,
			REPLY_TIMEOUT_SEC);
	else if (r == -ECONNRESET)
		fprintf(stderr, "varlink_rtt: the daemon closed the connection during %s.\n",
			method);
	else if (r == -EPROTO)
		fprintf(stderr,
			"varlink_rtt: bytes after the reply to %s: not one reply per call.\n",
			method);
	else if (r == -EBADMSG)
		fprintf(stderr, "varlink_rtt: the reply to %s is not a Varlink reply.\n", method);
	else if (r < 0)
		fprintf(stderr, "varlink_rtt: %s: %s.\n", method, strerror(-r));
	return r < 0 ? r : elapsed;
}

static void reply_done(Reply *reply)
{
	reply->data = mfree(reply->data);
}

DEFINE_TRIVIAL_CLEANUP_FUNC(VarlinkReader *, varlink_reader_free)

int main(int argc, char *argv[])
{
	static const struct option options[] = {
		{ "calls", required_argument, NULL, 'n' },
		{ "warmup", required_argument, NULL, 'w' },
		{ "samples", no_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	size_t calls = 1000, warmup = 10;
	bool samples = false;
	_cleanup_(varlink_reader_freep) VarlinkReader *reader = NULL;
	_cleanup_free_ char *call = NULL;
	_cleanup_free_ int64_t *times = NULL;
	_cleanup_close_ int fd = -1;
	_cleanup_(reply_done) Reply reply = { 0 };
	size_t call_size;
	int c, r;

	while ((c = getopt_long(argc, argv, "h", options, NULL)) >= 0) {
		switch (c) {
		case 'n':
			if (parse_count("--calls", optarg, 1, &calls) < 0)
				return 2;
			break;
		case 'w':
			if (parse_count("--warmup", optarg, 0, &warmup) < 0)
				return 2;
			break;
		case 's':
			samples = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (argc - optind < 2 || argc - optind > 3) {
		usage(stderr);
		return 2;
	}
	const char *socket_path = argv[optind], *method = argv[optind + 1];

	reader = varlink_reader_new(VARLINK_CLIENT_MAX_MESSAGE);
	times = calloc(calls, sizeof(*times));
	if (!reader || !times) {
		fprintf(stderr, "varlink_rtt: %s.\n", strerror(ENOMEM));
		return 1;
	}
	r = encode_call(reader, method, argv[optind + 2], &call, &call_size);
	if (r == -EINVAL)
		return 2;
	if (r < 0) {
		fprintf(stderr, "varlink_rtt: %s.\n", strerror(-r));
		return 1;
	}
	fd = connect_unix(socket_path);
	if (fd < 0) {
		fprintf(stderr, "varlink_rtt: cannot connect to '%s': %s.\n", socket_path,
			strerror(-fd));
		return 1;
	}
	for (size_t i = 0; i < warmup + calls; i++) {
		int64_t elapsed = timed_call(fd, call, call_size, reader, &reply, method);
		if (elapsed < 0)
			return 1;
		if (i >= warmup)
			times[i - warmup] = elapsed;
	}

	r = print_report(method, times, calls, warmup, reply.size, samples);
	if (r < 0) {
		fprintf(stderr, "varlink_rtt: %s.\n", strerror(-r));
		return 1;
	}
	return fflush(stdout) == 0 ? 0 : 1;
}
