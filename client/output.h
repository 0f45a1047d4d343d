/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * How vfioctl's text output looks: tables with columns sized to their content,
 * status colours (only on a terminal, and never under NO_COLOR or TERM=dumb),
 * and sizes for people. Nothing here talks to the daemon.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "macro.h"

/* How --json prints: as it was asked, so that every JSON vfioctl prints goes through one place. */
typedef enum JsonFormat {
	/* --json alone: a command's reply indented, each reply of a stream on a line of its own */
	JSON_FORMAT_DEFAULT,
	JSON_FORMAT_SHORT, /* --json=short: every JSON value on one line */
	JSON_FORMAT_PRETTY, /* --json=pretty: every JSON value indented, stream replies too */
	_JSON_FORMAT_MAX,
	_JSON_FORMAT_INVALID = -1,
} JsonFormat;

/* "short" → JSON_FORMAT_SHORT, "pretty" → JSON_FORMAT_PRETTY; anything else _JSON_FORMAT_INVALID.
 */
JsonFormat json_format_from_string(const char *text);

/* Sets how print_json() and print_json_line() print (vfioctl's --json=FORMAT). */
void output_set_json_format(JsonFormat format);

/* Prints a command's reply (or its failure) as JSON on stdout: indented unless --json=short. */
void print_json(json_object *object);

/*
 * Prints one reply of a stream (watch, logs, run) as JSON on stdout: on one
 * line unless --json=pretty.
 */
void print_json_line(json_object *object);

/*
 * Whether tables have their header line and lists their notes ("No VMs.");
 * --no-legend turns it off, for scripts that read the rows.
 */
void output_set_legend(bool legend);
bool output_legend(void);

/* Prints a line that is no row of a table ("No VMs. ..."), only with the legend. */
void print_legend(const char *format, ...) _printf_(1, 2);

/* The width vfioctl keeps a table line within on a terminal. */
#define OUTPUT_TERMINAL_WIDTH 100

/* Whether stdout is a terminal (asked once). */
bool output_is_terminal(void);

typedef enum Colour {
	COLOUR_GREEN,
	COLOUR_YELLOW,
	COLOUR_RED,
	COLOUR_DIM,
	COLOUR_BOLD,
	_COLOUR_MAX,
} Colour;

/*
 * Whether to colour output: only on a terminal, with NO_COLOR unset or empty
 * (https://no-color.org) and TERM not "dumb". Pure, for tests; `no_color` and
 * `term` are the environment's values (NULL when unset).
 */
bool colour_wanted(bool is_terminal, const char *no_color, const char *term);

/* The escape sequence that starts `colour` on stdout, or "" when colour is off. */
const char *colour_on(Colour colour);
/* The escape sequence that ends any colour on stdout, or "" when colour is off. */
const char *colour_off(void);

/*
 * Writes a size given in KiB for people, in the largest binary unit that keeps
 * it at 1 or more, with one decimal unless it is whole ("11.5 GiB", "2 MiB",
 * "0 KiB") into buf. Returns buf.
 */
const char *format_kib(char *buf, size_t size, uint64_t kib);

/* The integer under `key` of a reply object as text, or "-" when null or missing. */
const char *format_optional_int(char *buf, size_t size, json_object *object, const char *key);

/* Columns of a string in UTF-8: its code points (continuation bytes do not count). */
size_t text_width(const char *text);

/*
 * One "  Label:   value" line of a details view (vfioctl gpu, status), the
 * label padded to `label_width` columns.
 */
void print_field(int label_width, const char *label, const char *format, ...) _printf_(3, 4);

/* The length in bytes of the first `width` code points of text (all of it when shorter). */
size_t text_prefix_bytes(const char *text, size_t width);

#define TABLE_MAX_COLUMNS 16

/* A cell of a table: where its text starts in Table.text, and how many columns it takes. */
typedef struct TableCell {
	size_t offset;
	size_t width;
} TableCell;

/*
 * A table of text: a header row, then rows; columns as wide as their widest
 * cell. The cells' text is kept in one buffer, not one allocation per cell: a
 * list of 1,000 VMs is 7,000 cells.
 */
typedef struct Table {
	size_t n_columns;
	const char *const *headers; /* n_columns names; NULL: no header row */
	TableCell *cells; /* n_rows * n_columns, owned */
	size_t n_cells_allocated;
	char *text; /* the text of every cell, each ending with a NUL, owned */
	size_t text_size;
	size_t text_allocated;
	size_t n_rows;
	size_t indent; /* spaces before every line */
	/* A column but the last, cut with "…" when a line would pass the limit; SIZE_MAX: none. */
	size_t shrink_column;
	size_t shrink_minimum; /* the narrowest that column is cut to */
	/* The last column breaks after ", " or "; " onto more lines instead of passing the limit.
	 */
	bool wrap_last;
} Table;

/*
 * An empty table of n_columns (1 to TABLE_MAX_COLUMNS) with these headers
 * (borrowed; may be NULL). The header row is printed only with the legend on.
 */
void table_init(Table *table, size_t n_columns, const char *const *headers);

/* Adds a row of n_columns cells (copied; NULL is shown as "-"). Returns 0 or -ENOMEM. */
int table_add_row(Table *table, const char *const *cells);

/*
 * Prints the table on `f`, columns separated by two spaces and no space at the
 * end of a line. With max_width > 0, the shrink column is cut and the last
 * column wrapped (as the table asks) so that lines fit in max_width when they
 * can; with 0, cells are never cut nor wrapped. The lines are put together in
 * a buffer of its own and written to `f` in large pieces.
 */
void table_print(const Table *table, FILE *f, size_t max_width);

/* Frees the cells; the table is empty and usable again. */
void table_done(Table *table);

/* Adds one row per element of a JSON list; < 0 out of memory. */
typedef int (*TableRowAdder)(Table *table, json_object *element);

/*
 * A list command's table: a row per element of `list` by `add`, printed to
 * stdout (fitted to the terminal's width), then freed. EXIT_OK, or
 * EXIT_FAILED with a line on stderr when out of memory.
 */
int table_show_rows(Table *table, json_object *list, TableRowAdder add);
