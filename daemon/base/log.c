/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
/* We send CODE_FILE/LINE/FUNC of the caller ourselves, not of log.c. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>

static int max_level = LOG_INFO;
static int use_journal = 0;
static const char *log_identifier = "libvfiod";

static const char *const level_names[] = {
	[LOG_EMERG] = "emergency", [LOG_ALERT] = "alert",     [LOG_CRIT] = "critical",
	[LOG_ERR] = "error",       [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice",
	[LOG_INFO] = "info",       [LOG_DEBUG] = "debug",
};

int log_level_from_string(const char *name)
{
	for (int level = LOG_ERR; level <= LOG_DEBUG; level++)
		if (strcmp(name, level_names[level]) == 0)
			return level;
	return -EINVAL;
}

const char *log_level_to_string(int level)
{
	if (level < 0 || level > LOG_DEBUG)
		return NULL;
	return level_names[level];
}

void log_set_max_level(int level)
{
	max_level = level;
}

int log_get_max_level(void)
{
	return max_level;
}

/* systemd sets $JOURNAL_STREAM to "DEV:INODE" of the stream it connected stderr to. */
static int stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
		return 0;
	if (fstat(STDERR_FILENO, &st) < 0)
		return 0;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_setup(const char *identifier)
{
	log_identifier = identifier;
	use_journal = stderr_is_journal();
}

static void log_to_stderr(int level, const char *message)
{
	if (level <= LOG_WARNING)
		fprintf(stderr, "%s: %s: %s\n", log_identifier, level_names[level], message);
	else
		fprintf(stderr, "%s: %s\n", log_identifier, message);
}

static void log_to_journald(int level, int error, const char *file, int line, const char *func,
			    const LogField *fields, size_t n_fields, const char *message)
{
	/* Fixed fields plus the caller's; each formatted into its own string. */
	struct iovec iov[8 + LOG_MAX_FIELDS];
	char *strings[8 + LOG_MAX_FIELDS];
	size_t n = 0;
	int ok = 1;

	n_fields = n_fields < LOG_MAX_FIELDS ? n_fields : LOG_MAX_FIELDS;

#define ADD(...)                                              \
	do {                                                  \
		if (asprintf(&strings[n], __VA_ARGS__) < 0) { \
			ok = 0;                               \
			break;                                \
		}                                             \
		iov[n].iov_base = strings[n];                 \
		iov[n].iov_len = strlen(strings[n]);          \
		n++;                                          \
	} while (0)

	ADD("MESSAGE=%s", message);
	ADD("PRIORITY=%d", level);
	ADD("SYSLOG_IDENTIFIER=%s", log_identifier);
	ADD("CODE_FILE=%s", file);
	ADD("CODE_LINE=%d", line);
	ADD("CODE_FUNC=%s", func);
	if (error)
		ADD("ERRNO=%d", error);
	for (size_t i = 0; i < n_fields && ok; i++)
		if (fields[i].value)
			ADD("%s=%s", fields[i].key, fields[i].value);
#undef ADD

	if (!ok || sd_journal_sendv(iov, (int)n) < 0)
		log_to_stderr(level, message);
	for (size_t i = 0; i < n; i++)
		free(strings[i]);
}

int log_internalv(int level, int error, const char *file, int line, const char *func,
		  const LogField *fields, size_t n_fields, const char *format, va_list ap)
{
	int saved_errno = errno;
	error = abs(error);

	if (level <= max_level) {
		char message[2048];

		int n = vsnprintf(message, sizeof(message), format, ap);
		if (error && n >= 0 && (size_t)n < sizeof(message))
			snprintf(message + n, sizeof(message) - (size_t)n, ": %s", strerror(error));

		if (use_journal)
			log_to_journald(level, error, file, line, func, fields, n_fields, message);
		else
			log_to_stderr(level, message);
	}
	errno = saved_errno;
	return -error;
}

int log_internal(int level, int error, const char *file, int line, const char *func,
		 const LogField *fields, size_t n_fields, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int r = log_internalv(level, error, file, line, func, fields, n_fields, format, ap);
	va_end(ap);
	return r;
}
