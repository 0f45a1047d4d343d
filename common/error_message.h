/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The sentence that goes with an error code: functions that fail with a
 * reason for the user return the negative errno and hand the sentence out
 * through a `char **ret_message` (the caller frees it).
 */
#pragma once

#include "macro.h"

/*
 * Sets *ret_message to the formatted sentence and returns `error` (a negative
 * errno); returns -ENOMEM, with *ret_message NULL, when the text cannot be made.
 */
int error_message(char **ret_message, int error, const char *format, ...) _printf_(3, 4);
