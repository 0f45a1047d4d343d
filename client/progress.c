/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "progress.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "output.h"

/* The columns of the line on screen now; 0: none. */
static size_t shown_width;

bool progress_enabled(void)
{
	static int cached = -1;
	if (cached < 0)
		cached = isatty(STDERR_FILENO) == 1;
	return cached;
}

/* The terminal's width, less one: writing the last column would wrap on some terminals. */
static size_t usable_width(void)
{
	struct winsize size;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &size) < 0 || size.ws_col < 2)
		return OUTPUT_TERMINAL_WIDTH - 1;
	return (size_t)size.ws_col - 1;
}

/* Writes `width` spaces over the line and goes back to its start. */
static void blank(size_t width)
{
	fputc('\r', stderr);
	for (size_t i = 0; i < width; i++)
		fputc(' ', stderr);
	fputc('\r', stderr);
}

void progress_show(const char *format, ...)
{
	char text[256];
	va_list ap;

	if (!progress_enabled())
		return;
	va_start(ap, format);
	vsnprintf(text, sizeof(text), format, ap);
	va_end(ap);

	/* A line longer than the terminal would wrap, and "\r" only goes back to its last row. */
	size_t width = text_width(text), limit = usable_width();
	if (width > limit) {
		text[text_prefix_bytes(text, limit)] = '\0';
		width = limit;
	}
	if (shown_width > 0)
		blank(shown_width);
	fputs(text, stderr);
	fflush(stderr);
	shown_width = width;
}

void progress_clear(void)
{
	if (shown_width == 0)
		return;
	blank(shown_width);
	fflush(stderr);
	shown_width = 0;
}
