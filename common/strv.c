/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "strv.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

size_t strv_length(char *const *list)
{
	size_t n = 0;
	while (list && list[n])
		n++;
	return n;
}

char **strv_free(char **list)
{
	for (size_t i = 0; list && list[i]; i++)
		free(list[i]);
	free(list);
	return NULL;
}

static int append_taken(char ***list, char *text)
{
	size_t n = strv_length(*list);
	char **p = reallocarray(*list, n + 2, sizeof(char *));
	if (!p) {
		free(text);
		return -ENOMEM;
	}
	p[n] = text;
	p[n + 1] = NULL;
	*list = p;
	return 0;
}

int strv_append(char ***list, const char *text)
{
	char *copy = strdup(text);
	return copy ? append_taken(list, copy) : -ENOMEM;
}

int strv_appendf(char ***list, const char *format, ...)
{
	char *text;
	va_list ap;

	va_start(ap, format);
	int r = vasprintf(&text, format, ap);
	va_end(ap);
	return r < 0 ? -ENOMEM : append_taken(list, text);
}

int strv_contains(char *const *list, const char *text)
{
	for (size_t i = 0; list && list[i]; i++)
		if (strcmp(list[i], text) == 0)
			return 1;
	return 0;
}
