/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "error_message.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

int error_message(char **ret_message, int error, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	if (vasprintf(ret_message, format, ap) < 0)
		*ret_message = NULL;
	va_end(ap);
	return *ret_message ? error : -ENOMEM;
}
