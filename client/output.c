/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "output.h"

#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array.h"
#include "json_util.h"
#include "macro.h"
#include "request.h"

#define ELLIPSIS "…" /* one column, three bytes */

static JsonFormat json_format = JSON_FORMAT_DEFAULT;
static bool legend = true;

JsonFormat json_format_from_string(const char *text)
{
	if (strcmp(text, "short") == 0)
		return JSON_FORMAT_SHORT;
	if (strcmp(text, "pretty") == 0)
		return JSON_FORMAT_PRETTY;
	return _JSON_FORMAT_INVALID;
}

void output_set_json_format(JsonFormat format)
{
	assert(format >= 0 && format < _JSON_FORMAT_MAX);
	json_format = format;
}

/* The one place where vfioctl turns JSON into text. */
static void write_json(json_object *object, bool pretty)
{
	int flags = JSON_C_TO_STRING_NOSLASHESCAPE;

	flags |=
		pretty ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED : JSON_C_TO_STRING_PLAIN;
	puts(json_object_to_json_string_ext(object, flags));
}

void print_json(json_object *object)
{
	write_json(object, json_format != JSON_FORMAT_SHORT);
}

void print_json_line(json_object *object)
{
	write_json(object, json_format == JSON_FORMAT_PRETTY);
}

void output_set_legend(bool on)
{
	legend = on;
}

bool output_legend(void)
{
	return legend;
}

void print_legend(const char *format, ...)
{
	va_list ap;

	if (!legend)
		return;
	va_start(ap, format);
	vprintf(format, ap);
	va_end(ap);
}

bool output_is_terminal(void)
{
	static int cached = -1;
	if (cached < 0)
		cached = isatty(STDOUT_FILENO) == 1;
	return cached;
}

bool colour_wanted(bool is_terminal, const char *no_color, const char *term)
{
	if (!is_terminal)
		return false;
	if (no_color && no_color[0])
		return false;
	return !term || strcmp(term, "dumb") != 0;
}

static bool colour_enabled(void)
{
	static int cached = -1;
	if (cached < 0)
		cached = colour_wanted(output_is_terminal(), getenv("NO_COLOR"), getenv("TERM"));
	return cached;
}

const char *colour_on(Colour colour)
{
	static const char *const sequences[_COLOUR_MAX] = {
		[COLOUR_GREEN] = "\033[32m", [COLOUR_YELLOW] = "\033[33m",
		[COLOUR_RED] = "\033[31m",   [COLOUR_DIM] = "\033[2m",
		[COLOUR_BOLD] = "\033[1m",
	};
	if (!colour_enabled() || colour < 0 || colour >= _COLOUR_MAX)
		return "";
	return sequences[colour];
}

const char *colour_off(void)
{
	return colour_enabled() ? "\033[0m" : "";
}

const char *format_kib(char *buf, size_t size, uint64_t kib)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	uint64_t whole = kib, rest = 0, divisor = 1;
	size_t unit = 0;

	while (unit + 1 < ELEMENTSOF(units) && whole >= 1024) {
		divisor *= 1024;
		whole = kib / divisor;
		unit++;
	}
	rest = kib - whole * divisor;
	/* Tenths, rounded to nearest; 9.96 GiB reads as 10 GiB, not 9.10. */
	uint64_t tenths = (rest * 10 + divisor / 2) / divisor;
	if (tenths == 10) {
		whole++;
		tenths = 0;
	}
	if (whole == 1024 && unit + 1 < ELEMENTSOF(units)) {
		whole = 1; /* 1023.96 MiB rounds to 1 GiB */
		unit++;
	}
	if (tenths == 0)
		snprintf(buf, size, "%llu %s", (unsigned long long)whole, units[unit]);
	else
		snprintf(buf, size, "%llu.%llu %s", (unsigned long long)whole,
			 (unsigned long long)tenths, units[unit]);
	return buf;
}

const char *format_optional_int(char *buf, size_t size, json_object *object, const char *key)
{
	int64_t value;
	if (json_get_int(object, key, &value) < 0)
		return "-";
	snprintf(buf, size, "%" PRId64, value);
	return buf;
}

size_t text_width(const char *text)
{
	size_t width = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		width += (*p & 0xC0) != 0x80;
	return width;
}

size_t text_prefix_bytes(const char *text, size_t width)
{
	size_t bytes = 0;
	while (text[bytes] && width > 0) {
		bytes++;
		while (((unsigned char)text[bytes] & 0xC0) == 0x80)
			bytes++;
		width--;
	}
	return bytes;
}

void table_init(Table *table, size_t n_columns, const char *const *headers)
{
	assert(n_columns > 0 && n_columns <= TABLE_MAX_COLUMNS);
	*table = (Table){
		.n_columns = n_columns,
		.headers = headers,
		.shrink_column = SIZE_MAX,
	};
}

int table_add_row(Table *table, const char *const *cells)
{
	size_t first = table->n_rows * table->n_columns, size = table->text_size;

	if (ARRAY_RESERVE(table->cells, table->n_cells_allocated, first + table->n_columns) < 0)
		return -ENOMEM;
	for (size_t c = 0; c < table->n_columns; c++) {
		const char *text = cells[c] ? cells[c] : "-";
		size_t length = strlen(text);

		/* A row is added whole or not at all: text_size moves only at the end. */
		if (length >= SIZE_MAX - size ||
		    ARRAY_RESERVE(table->text, table->text_allocated, size + length + 1) < 0)
			return -ENOMEM;
		memcpy(table->text + size, text, length + 1);
		table->cells[first + c] = (TableCell){ .offset = size, .width = text_width(text) };
		size += length + 1;
	}
	table->text_size = size;
	table->n_rows++;
	return 0;
}

/* The text of the cell in `row` and `column`. */
static const char *cell_text(const Table *table, size_t row, size_t column)
{
	return table->text + table->cells[row * table->n_columns + column].offset;
}

static size_t cell_width(const Table *table, size_t row, size_t column)
{
	return table->cells[row * table->n_columns + column].width;
}

/*
 * Where table_print() puts its lines together: written to `f` when full and at
 * the end, so that a table of a thousand rows is a few large writes, not
 * thousands of small ones through stdio.
 */
typedef struct LineWriter {
	FILE *f;
	size_t used;
	char buffer[16 * 1024];
} LineWriter;

static void writer_flush(LineWriter *w)
{
	if (w->used > 0)
		(void)fwrite(w->buffer, 1, w->used, w->f); /* a failure shows in ferror(f) */
	w->used = 0;
}

static void write_bytes(LineWriter *w, const char *data, size_t size)
{
	while (size > 0) {
		size_t n = MIN(size, sizeof(w->buffer) - w->used);
		memcpy(w->buffer + w->used, data, n);
		w->used += n;
		data += n;
		size -= n;
		if (w->used == sizeof(w->buffer))
			writer_flush(w);
	}
}

static void write_text(LineWriter *w, const char *text)
{
	write_bytes(w, text, strlen(text));
}

static void write_spaces(LineWriter *w, size_t n)
{
	while (n > 0) {
		size_t k = MIN(n, sizeof(w->buffer) - w->used);
		memset(w->buffer + w->used, ' ', k);
		w->used += k;
		n -= k;
		if (w->used == sizeof(w->buffer))
			writer_flush(w);
	}
}

/* Columns of the first `bytes` bytes of text. */
static size_t span_width(const char *text, size_t bytes)
{
	size_t width = 0;
	for (size_t i = 0; i < bytes && text[i]; i++)
		width += ((unsigned char)text[i] & 0xC0) != 0x80;
	return width;
}

/* Where text may break: after ", " or "; " (the comma stays, the space goes). */
static bool is_break(const char *p)
{
	return (p[0] == ',' || p[0] == ';') && p[1] == ' ';
}

/* The width of the longest part of text between breaks: the narrowest it wraps to. */
static size_t longest_piece(const char *text)
{
	size_t longest = 0;
	const char *piece = text;

	for (const char *p = text;; p++)
		if (!*p || is_break(p)) {
			longest =
				MAX(longest, span_width(piece, (size_t)(p - piece) + (*p ? 1 : 0)));
			if (!*p)
				return longest;
			piece = p + 2;
			p++;
		}
}

/*
 * Writes text in lines of at most `width` columns, broken after ", " or "; "
 * (a part longer than that stays whole); continuation lines start at column
 * `start`.
 */
static void write_wrapped(LineWriter *w, const char *text, size_t width, size_t start)
{
	const char *line = text;

	while (text_width(line) > width) {
		const char *cut = NULL;
		for (const char *p = line; *p; p++) {
			if (!is_break(p))
				continue;
			bool fits = span_width(line, (size_t)(p + 1 - line)) <= width;
			if (fits || !cut)
				cut = p + 1;
			if (!fits)
				break;
		}
		if (!cut)
			break;
		write_bytes(w, line, (size_t)(cut - line));
		write_bytes(w, "\n", 1);
		write_spaces(w, start);
		line = cut + 1;
	}
	write_text(w, line);
}

/*
 * Writes one cell of `length` columns in a column `width` wide: cut with an
 * ellipsis, or padded unless it is the last.
 */
static void write_cell(LineWriter *w, const char *text, size_t length, size_t width, bool last)
{
	if (length > width && width > 0) {
		write_bytes(w, text, text_prefix_bytes(text, width - 1));
		write_text(w, ELLIPSIS);
		length = width;
	} else
		write_text(w, text);
	if (!last)
		write_spaces(w, width - MIN(length, width));
}

/*
 * Writes a row of cells (their text and columns); with wrap_width > 0 the last
 * cell is wrapped to that width.
 */
static void write_row(const Table *table, LineWriter *w, const char *const *cells,
		      const size_t *cell_widths, const size_t *widths, size_t wrap_width)
{
	size_t last = table->n_columns - 1, start = table->indent;

	/* Empty cells at the end of a row are not padded: no line ends with spaces. */
	while (last > 0 && !cells[last][0]) {
		last--;
		wrap_width = 0;
	}
	write_spaces(w, table->indent);
	for (size_t c = 0; c < last; c++) {
		write_cell(w, cells[c], cell_widths[c], widths[c], false);
		write_bytes(w, "  ", 2);
		start += widths[c] + 2;
	}
	if (wrap_width > 0)
		write_wrapped(w, cells[last], wrap_width, start);
	else
		write_cell(w, cells[last], cell_widths[last], widths[last], true);
	write_bytes(w, "\n", 1);
}

void table_print(const Table *table, FILE *f, size_t max_width)
{
	size_t widths[TABLE_MAX_COLUMNS] = { 0 }, header_widths[TABLE_MAX_COLUMNS] = { 0 };
	size_t last = table->n_columns - 1, total = table->indent;
	/* --no-legend: the rows alone, as wide as they need. */
	const char *const *headers = legend ? table->headers : NULL;

	for (size_t c = 0; c < table->n_columns; c++) {
		if (headers)
			widths[c] = header_widths[c] = text_width(headers[c]);
		for (size_t r = 0; r < table->n_rows; r++)
			widths[c] = MAX(widths[c], cell_width(table, r, c));
	}
	for (size_t c = 0; c < last; c++)
		total += widths[c] + 2;

	if (max_width > 0 && table->shrink_column < last) {
		/* Never narrower than its header, nor than one character and the ellipsis. */
		size_t minimum = MAX(table->shrink_minimum, (size_t)2);
		if (headers)
			minimum = MAX(minimum, header_widths[table->shrink_column]);
		minimum = MIN(minimum, widths[table->shrink_column]);
		size_t spare = widths[table->shrink_column] - minimum;

		/*
		 * Cut the shrink column so that the last fits whole; when even that is not
		 * enough and the last column wraps, cut only so that its longest piece fits.
		 */
		size_t needed = widths[last];
		if (table->wrap_last && total + needed > max_width + spare) {
			needed = headers ? header_widths[last] : 0;
			for (size_t r = 0; r < table->n_rows; r++)
				needed = MAX(needed, longest_piece(cell_text(table, r, last)));
		}
		if (total + needed > max_width) {
			size_t cut = MIN(total + needed - max_width, spare);
			widths[table->shrink_column] -= cut;
			total -= cut;
		}
	}

	/* `total` is now where the last column starts. */
	size_t wrap_width = 0;
	if (table->wrap_last && max_width > 0)
		wrap_width = total < max_width ? max_width - total : 1;

	LineWriter w;
	w.f = f;
	w.used = 0;
	if (headers)
		write_row(table, &w, headers, header_widths, widths, 0);
	for (size_t r = 0; r < table->n_rows; r++) {
		const char *cells[TABLE_MAX_COLUMNS];
		size_t cell_widths[TABLE_MAX_COLUMNS];
		for (size_t c = 0; c < table->n_columns; c++) {
			cells[c] = cell_text(table, r, c);
			cell_widths[c] = cell_width(table, r, c);
		}
		write_row(table, &w, cells, cell_widths, widths, wrap_width);
	}
	writer_flush(&w);
}

void table_done(Table *table)
{
	free(table->cells);
	free(table->text);
	table->cells = NULL;
	table->text = NULL;
	table->n_cells_allocated = table->text_size = table->text_allocated = 0;
	table->n_rows = 0;
}

void print_field(int label_width, const char *label, const char *format, ...)
{
	va_list ap;

	printf("  %-*s ", label_width - 1, label);
	va_start(ap, format);
	vprintf(format, ap);
	va_end(ap);
	putchar('\n');
}

int table_show_rows(Table *table, json_object *list, TableRowAdder add)
{
	for (size_t i = 0; i < json_array_size(list); i++)
		if (add(table, json_object_array_get_idx(list, i)) < 0) {
			table_done(table);
			fprintf(stderr, "vfioctl: out of memory\n");
			return EXIT_FAILED;
		}
	table_print(table, stdout, output_is_terminal() ? OUTPUT_TERMINAL_WIDTH : 0);
	table_done(table);
	return EXIT_OK;
}
