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

/* A vendor line's id ("10de  NVIDIA..."), or -1 for any other line. */
static int vendor_line_id(const char *line, const char *end)
{
	unsigned id = 0;

	if (end - line < 6 || line[4] != ' ' || line[5] != ' ')
		return -1;
	for (int i = 0; i < 4; i++) {
		char c = line[i];
		if (c >= '0' && c <= '9')
			id = id * 16 + (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			id = id * 16 + (unsigned)(c - 'a' + 10);
		else
			return -1;
	}
	return (int)id;
}

/* The start of the line after the one `p` is on, or `end`. */
static const char *next_line(const char *p, const char *end)
{
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	return eol ? eol + 1 : end;
}

static int compare_vendors(const void *a, const void *b)
{
	const PciIdsVendor *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->offset < y->offset ? -1 : x->offset > y->offset; /* the first line wins */
}

int pci_ids_from_text(char *text, size_t size, PciIds *ret)
{
	const char *end = text + size;
	PciIdsVendor *vendors = NULL;
	size_t n = 0, allocated = 0;

	for (const char *line = text; line < end; line = next_line(line, end)) {
		int id = vendor_line_id(line, end);
		if (id < 0)
			continue;
		if (n == allocated) {
			size_t grown = allocated ? allocated * 2 : 1024;
			PciIdsVendor *more = reallocarray(vendors, grown, sizeof(*more));
			if (!more) {
				free(vendors);
				return -ENOMEM;
			}
			vendors = more;
			allocated = grown;
		}
		vendors[n++] = (PciIdsVendor){ (uint16_t)id, (size_t)(line - text) };
	}
	if (n > 0)
		qsort(vendors, n, sizeof(*vendors), compare_vendors);
	*ret = (PciIds){ text, size, vendors, n };
	return 0;
}

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
	r = pci_ids_from_text(text, size, ret);
	if (r < 0)
		free(text);
	return r;
}

void pci_ids_done(PciIds *ids)
{
	free(ids->text);
	free(ids->vendors);
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

char *pci_ids_name(const PciIds *ids, uint16_t vendor, int device)
{
	const PciIdsVendor key = { vendor, 0 };
	const char *end = ids->text + ids->size;
	char line_key[16];

	/* The first line of that vendor: the one before the search's match, if any. */
	size_t lo = 0, hi = ids->n_vendors;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (compare_vendors(&ids->vendors[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo >= ids->n_vendors || ids->vendors[lo].id != vendor)
		return NULL;
	const char *line = ids->text + ids->vendors[lo].offset;
	if (device < 0)
		return name_at(line + 6, end);

	snprintf(line_key, sizeof(line_key), "\t%04x  ", (unsigned)(uint16_t)device);
	for (line = next_line(line, end); line < end; line = next_line(line, end)) {
		if (*line == '#' || *line == '\n' || *line == '\r' ||
		    (*line == '\t' && end - line > 1 && line[1] == '\t'))
			continue; /* a comment, a blank line, a subsystem */
		if (*line != '\t')
			return NULL; /* the next vendor (or class): this one has no such device */
		if ((size_t)(end - line) >= 7 && memcmp(line, line_key, 7) == 0)
			return name_at(line + 7, end);
	}
	return NULL;
}
