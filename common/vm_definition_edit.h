/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Changing one value of a definition's text and nothing else: the file is
 * the user's (comments, order, quoting, blank lines), so a toggle such as
 * `vfioctl autostart` rewrites only the bytes of that value, found through
 * libyaml's marks, or adds the key when it is absent. Pure: text in, text out.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

/*
 * The text of the definition `text` (`size` bytes) with the top-level
 * `autostart:` set to `autostart`: its value replaced in place, or the key
 * added (at the end of a block mapping, before the '}' of a flow one). The
 * result is parsed again and must say what was asked. Returns 0 with the new
 * text (NUL-terminated, free() it) in *ret_text and its length in *ret_size;
 * -EINVAL when the text is no YAML mapping, its autostart is no scalar, or it
 * is written in a form the change cannot be made in (then the user edits it);
 * -ENOMEM.
 */
int vm_definition_set_autostart(const char *text, size_t size, bool autostart, char **ret_text,
				size_t *ret_size);
