/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The daemon's logging. Under systemd (stderr is the journal stream named by
 * $JOURNAL_STREAM) every line goes to journald natively with structured
 * fields (PRIORITY, CODE_*, ERRNO, LIBVFIO_VM=, LIBVFIO_PCI=, MESSAGE_ID=);
 * otherwise a readable line goes to stderr. Levels are syslog's.
 */
#pragma once

#include <stdarg.h>
#include <stddef.h>
#include <syslog.h>

#include "macro.h"

/* Fields beyond this many in one message are dropped. */
#define LOG_MAX_FIELDS 16

/* One structured journal field, KEY=value. Keys are upper case, digits and '_'. */
typedef struct LogField {
	const char *key;
	const char *value;
} LogField;

/* Decides between journald and stderr. Call once at start. */
void log_setup(const char *identifier);

/* Messages above `level` (LOG_ERR … LOG_DEBUG) are dropped. */
void log_set_max_level(int level);
int log_get_max_level(void);

/* "error", "warning", "notice", "info", "debug" ↔ LOG_ERR … LOG_DEBUG. -EINVAL when unknown. */
int log_level_from_string(const char *name);
const char *log_level_to_string(int level);

/*
 * Logs one message. `error` is a positive or negative errno (0 for none): it
 * is sent as ERRNO= and its text is appended (": No such file or directory").
 * Returns -abs(error), so a caller can `return log_error_errno(r, "Cannot open %s", p)`.
 */
int log_internal(int level, int error, const char *file, int line, const char *func,
		 const LogField *fields, size_t n_fields, const char *format, ...) _printf_(8, 9);

int log_internalv(int level, int error, const char *file, int line, const char *func,
		  const LogField *fields, size_t n_fields, const char *format, va_list ap)
	_printf_(8, 0);

#define log_full_errno_fields(level, error, fields, n_fields, ...) \
	log_internal(level, error, __FILE__, __LINE__, __func__, fields, n_fields, __VA_ARGS__)
#define log_full_errno(level, error, ...) log_full_errno_fields(level, error, NULL, 0, __VA_ARGS__)

#define log_debug(...) log_full_errno(LOG_DEBUG, 0, __VA_ARGS__)
#define log_info(...) log_full_errno(LOG_INFO, 0, __VA_ARGS__)
#define log_notice(...) log_full_errno(LOG_NOTICE, 0, __VA_ARGS__)
#define log_warning(...) log_full_errno(LOG_WARNING, 0, __VA_ARGS__)
#define log_error(...) log_full_errno(LOG_ERR, 0, __VA_ARGS__)
#define log_warning_errno(error, ...) log_full_errno(LOG_WARNING, error, __VA_ARGS__)
#define log_error_errno(error, ...) log_full_errno(LOG_ERR, error, __VA_ARGS__)

/* log_struct(LOG_INFO, LOG_FIELDS({ "LIBVFIO_VM", name }), "VM %s started", name); */
#define LOG_FIELDS(...)                      \
	((const LogField[]){ __VA_ARGS__ }), \
		(sizeof((const LogField[]){ __VA_ARGS__ }) / sizeof(LogField))
#define log_struct(level, ...) log_full_errno_fields(level, 0, __VA_ARGS__)
