/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/pci_ids.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs_util.h"
#include "macro.h"

/* pci.ids is 1.3 MB today; anything far past that is not it. */
#define PCI_IDS_MAX_SIZE ((size_t)16 << 20)

int pci_ids_read(const char *path, PciIds *ret)
{
	char plain[4096];
	char *text;
	size_t size;

	size_t length = strlen(path);
	if (length > 3 && length < sizeof(plain) && strcmp(path + length - 3, ".gz") == 0) {
		memcpy(plain, path, length - 3);
		plain[length - 3] = '\0';
		path = plain;
	}
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	int r = read_full_fd(fd, PCI_IDS_MAX_SIZE, &text, &size);
	if (r < 0)
		return r;
	if (size > PCI_IDS_MAX_SIZE) {
		free(text);
		return -EFBIG;
	}
	*ret = (PciIds){ text, size };
	return 0;
}

void pci_ids_done(PciIds *ids)
{
	free(ids->text);
	*ids = (PciIds){ 0 };
}

/* The name on a line from `p` (after "ID  "), to the end of the line, as a copy. */
static char *name_at(const char *p, const char *end)
{
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	size_t n = (size_t)((eol ? eol : end) - p);
	while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
		n--;
	return n > 0 ? strndup(p, n) : NULL;
}

/* The start of the line after the one `p` is on, or `end`. */
static const char *next_line(const char *p, const char *end)
{
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	return eol ? eol + 1 : end;
}

char *pci_ids_name(const char *text, size_t size, uint16_t vendor, int device)
{
	const char *end = text + size, *line;
	char key[16];

	/* The vendor's line: at the very start, or after a newline. */
	snprintf(key, sizeof(key), "\n%04x  ", vendor);
	if (size >= 6 && memcmp(text, key + 1, 6) == 0)
		line = text;
	else {
		line = memmem(text, size, key, 7);
		if (!line)
			return NULL;
		line++;
	}
	if (device < 0)
		return name_at(line + 6, end);

	snprintf(key, sizeof(key), "\t%04x  ", (unsigned)(uint16_t)device);
	for (line = next_line(line, end); line < end; line = next_line(line, end)) {
		if (*line == '#' || *line == '\n' || *line == '\r' ||
		    (*line == '\t' && end - line > 1 && line[1] == '\t'))
			continue; /* a comment, a blank line, a subsystem */
		if (*line != '\t')
			return NULL; /* the next vendor (or class): this one has no such device */
		if ((size_t)(end - line) >= 7 && memcmp(line, key, 7) == 0)
			return name_at(line + 7, end);
	}
	return NULL;
}
