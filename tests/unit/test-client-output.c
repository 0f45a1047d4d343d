/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl's text output: when it colours, how it writes sizes, and how its
 * tables are laid out: columns sized to their content, one column cut with
 * "…" and the last wrapped after ", " or "; " to keep within a width, and
 * nothing cut nor wrapped without one.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <pty.h>

#include "json_util.h"
#include "macro.h"
#include "output.h"

/* Colour */

static void test_colour_wanted(void **state)
{
	assert_true(colour_wanted(true, NULL, "xterm-256color"));
	assert_true(colour_wanted(true, NULL, NULL));
	/* https://no-color.org: set and not empty turns colour off, whatever its value. */
	assert_false(colour_wanted(true, "1", "xterm-256color"));
	assert_false(colour_wanted(true, "0", "xterm-256color"));
	assert_false(colour_wanted(true, "1", NULL));
	assert_true(colour_wanted(true, "", "xterm-256color"));
	assert_true(colour_wanted(true, "", NULL));
	/* A dumb terminal has no escape sequences; names that only contain "dumb" do. */
	assert_false(colour_wanted(true, NULL, "dumb"));
	assert_false(colour_wanted(true, "", "dumb"));
	assert_true(colour_wanted(true, NULL, "dumb-but-not-really"));
	/* Never into a pipe or a file. */
	assert_false(colour_wanted(false, NULL, "xterm-256color"));
	assert_false(colour_wanted(false, "", "xterm-256color"));
	assert_false(colour_wanted(false, NULL, NULL));
}

typedef struct ColourSeen {
	int is_terminal;
	char on[32], off[32], invalid[32];
} ColourSeen;

/*
 * What colour_on() and colour_off() give in a new process (they decide once
 * per process) whose stdout is a pseudo-terminal or /dev/null, with NO_COLOR
 * and TERM set as given (NULL: unset).
 */
static void colour_in_child(bool terminal, const char *no_color, const char *term, ColourSeen *ret)
{
	int master = -1, slave = -1, pipe_fds[2];
	ColourSeen seen = { 0 };

	/* A container without /dev/pts has no terminal to give. */
	if (terminal && openpty(&master, &slave, NULL, NULL, NULL) < 0)
		skip();
	assert_int_equal(pipe(pipe_fds), 0);
	fflush(stdout);
	fflush(stderr);

	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int out = terminal ? slave : open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (out < 0 || dup2(out, STDOUT_FILENO) < 0)
			_exit(1);
		if ((no_color ? setenv("NO_COLOR", no_color, 1) : unsetenv("NO_COLOR")) < 0 ||
		    (term ? setenv("TERM", term, 1) : unsetenv("TERM")) < 0)
			_exit(1);
		seen.is_terminal = output_is_terminal();
		snprintf(seen.on, sizeof(seen.on), "%s", colour_on(COLOUR_RED));
		snprintf(seen.off, sizeof(seen.off), "%s", colour_off());
		snprintf(seen.invalid, sizeof(seen.invalid), "%s", colour_on(_COLOUR_MAX));
		_exit(write(pipe_fds[1], &seen, sizeof(seen)) == (ssize_t)sizeof(seen) ? 0 : 1);
	}

	int status = 0;
	close(pipe_fds[1]);
	assert_int_equal(read(pipe_fds[0], ret, sizeof(*ret)), sizeof(*ret));
	close(pipe_fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	if (terminal) {
		close(slave);
		close(master);
	}
}

static void test_colour_sequences(void **state)
{
	ColourSeen seen;

	colour_in_child(false, NULL, "xterm-256color", &seen);
	assert_false(seen.is_terminal);
	assert_string_equal(seen.on, "");
	assert_string_equal(seen.off, "");

	colour_in_child(true, NULL, "xterm-256color", &seen);
	assert_true(seen.is_terminal);
	assert_string_equal(seen.on, "\033[31m");
	assert_string_equal(seen.off, "\033[0m");
	/* A colour that does not exist is none. */
	assert_string_equal(seen.invalid, "");

	colour_in_child(true, "", NULL, &seen);
	assert_true(seen.is_terminal);
	assert_string_equal(seen.on, "\033[31m");
	assert_string_equal(seen.off, "\033[0m");

	colour_in_child(true, "1", "xterm-256color", &seen);
	assert_true(seen.is_terminal);
	assert_string_equal(seen.on, "");
	assert_string_equal(seen.off, "");

	colour_in_child(true, NULL, "dumb", &seen);
	assert_true(seen.is_terminal);
	assert_string_equal(seen.on, "");
	assert_string_equal(seen.off, "");
}

/* Sizes */

static void assert_kib(uint64_t kib, const char *expected)
{
	char buf[32];

	assert_ptr_equal(format_kib(buf, sizeof(buf), kib), buf);
	assert_string_equal(buf, expected);
}

#define MIB UINT64_C(1024)
#define GIB (UINT64_C(1024) * MIB)
#define TIB (UINT64_C(1024) * GIB)
#define PIB (UINT64_C(1024) * TIB)

static void test_format_kib_units(void **state)
{
	assert_kib(0, "0 KiB");
	assert_kib(1, "1 KiB");
	assert_kib(1023, "1023 KiB");
	assert_kib(MIB, "1 MiB");
	assert_kib(MIB + MIB / 2, "1.5 MiB");
	assert_kib(2 * MIB, "2 MiB");
	assert_kib(1023 * MIB, "1023 MiB");
	assert_kib(GIB, "1 GiB");
	assert_kib(11 * GIB + GIB / 2, "11.5 GiB");
	assert_kib(189 * GIB, "189 GiB");
	assert_kib(TIB, "1 TiB");
	assert_kib(2 * TIB + TIB / 2, "2.5 TiB");
	assert_kib(PIB, "1 PiB");
	/* PiB is the largest unit: it counts on past 1024. */
	assert_kib(1024 * PIB, "1024 PiB");
	assert_kib(3000 * PIB, "3000 PiB");
}

static void test_format_kib_rounding(void **state)
{
	/* One decimal, rounded to nearest: 1.0498 MiB is 1 MiB, 1.0508 MiB is 1.1 MiB. */
	assert_kib(MIB + 51, "1 MiB");
	assert_kib(MIB + 52, "1.1 MiB");
	assert_kib(MIB + 1023, "2 MiB");
	/* 164.2 GiB as memory sizes come: in KiB, not a whole number of MiB. */
	assert_kib(UINT64_C(172174541), "164.2 GiB");
	assert_kib(164 * GIB + GIB / 4, "164.3 GiB");
	/* 9.96 GiB reads as 10 GiB, not 9.10 GiB. */
	assert_kib(9 * GIB + 1006633, "10 GiB");
	assert_kib(9 * GIB + 9 * GIB / 10, "9.9 GiB");
	/* Rounding up to 1024 of a unit is 1 of the next: 1023.96 MiB is 1 GiB. */
	assert_kib(1023 * MIB + 972, "1023.9 MiB");
	assert_kib(1023 * MIB + 973, "1 GiB");
	assert_kib(GIB - 1, "1 GiB");
	assert_kib(TIB - 1, "1 TiB");
	assert_kib(PIB - 1, "1 PiB");
	assert_kib(1024 * PIB - 1, "1024 PiB");
}

static void test_format_kib_huge(void **state)
{
	/* 16 EiB less 1 KiB: 16777215.99… PiB, rounded. */
	assert_kib(UINT64_MAX, "16777216 PiB");
	assert_kib(UINT64_MAX - PIB / 2 + 1, "16777215.5 PiB");
}

static void test_format_kib_small_buffer(void **state)
{
	char buf[16];

	memset(buf, '#', sizeof(buf));
	assert_ptr_equal(format_kib(buf, 4, 189 * GIB), buf);
	assert_string_equal(buf, "189");
	assert_int_equal(buf[4], '#');

	memset(buf, '#', sizeof(buf));
	format_kib(buf, 1, 164 * GIB + GIB / 4);
	assert_string_equal(buf, "");
	assert_int_equal(buf[1], '#');

	memset(buf, '#', sizeof(buf));
	format_kib(buf, 0, 1);
	assert_int_equal(buf[0], '#');
}

static void test_format_optional_int(void **state)
{
	_cleanup_json_ json_object *object = json_object_new_object();
	char buf[24];

	assert_non_null(object);
	assert_int_equal(json_add_int(object, "numaNode", 1), 0);
	assert_int_equal(json_add_int(object, "iommuGroup", INT64_MIN), 0);
	assert_int_equal(json_add_int(object, "big", INT64_MAX), 0);
	assert_int_equal(json_add_int_or_null(object, "unknown", -1), 0);
	assert_int_equal(json_add_string(object, "text", "3"), 0);

	assert_ptr_equal(format_optional_int(buf, sizeof(buf), object, "numaNode"), buf);
	assert_string_equal(buf, "1");
	assert_string_equal(format_optional_int(buf, sizeof(buf), object, "iommuGroup"),
			    "-9223372036854775808");
	assert_string_equal(format_optional_int(buf, sizeof(buf), object, "big"),
			    "9223372036854775807");
	assert_string_equal(format_optional_int(buf, sizeof(buf), object, "unknown"), "-");
	assert_string_equal(format_optional_int(buf, sizeof(buf), object, "text"), "-");
	assert_string_equal(format_optional_int(buf, sizeof(buf), object, "missing"), "-");
	assert_string_equal(format_optional_int(buf, sizeof(buf), NULL, "numaNode"), "-");
}

static void test_text_width(void **state)
{
	assert_int_equal(text_width(""), 0);
	assert_int_equal(text_width("i915"), 4);
	assert_int_equal(text_width("…"), 1);
	assert_int_equal(text_width("Ĝrafika Ünïcode Ĉard"), 20);
	assert_int_equal(text_width("NVIDIA GeForce…"), 15);
	/* Four-byte code points are one each too. */
	assert_int_equal(text_width("\U0001F5A5 GPU"), 5);
}

/* Tables */

/* Columns of a line: its UTF-8 code points. Counted here, not by the code under test. */
static size_t columns(const char *text, size_t bytes)
{
	size_t n = 0;

	for (size_t i = 0; i < bytes; i++)
		n += ((unsigned char)text[i] & 0xC0) != 0x80;
	return n;
}

/* Prints the table at max_width into a string, and checks what holds of any table. */
static char *print_table(const Table *table, size_t max_width)
{
	char *text = NULL;
	size_t length = 0;
	FILE *f = open_memstream(&text, &length);

	assert_non_null(f);
	table_print(table, f, max_width);
	assert_int_equal(fclose(f), 0);
	assert_non_null(text);

	/* Whole lines, none with a space at its end. */
	assert_true(length == 0 || text[length - 1] == '\n');
	for (const char *line = text; *line;) {
		size_t bytes = strcspn(line, "\n");
		if (bytes > 0 && line[bytes - 1] == ' ')
			fail_msg("line ends with a space: \"%.*s\"", (int)bytes, line);
		line += bytes + 1;
	}
	return text;
}

/* Checks that no line of text is wider than width columns. */
static void assert_lines_within(const char *text, size_t width)
{
	for (const char *line = text; *line;) {
		size_t bytes = strcspn(line, "\n");
		if (columns(line, bytes) > width)
			fail_msg("line wider than %zu columns: \"%.*s\"", width, (int)bytes, line);
		line += bytes + 1;
	}
}

static const char *const gpu_headers[] = { "ADDRESS", "MODEL", "DRIVER", "MODES" };

static const char *const gpu_rows[][4] = {
	{ "0000:00:02.0", "Intel UHD Graphics 630", "i915",
	  "mdev i915-GVTg_V5_4: 2 free, i915-GVTg_V5_8: 1 free; passthrough" },
	{ "0000:3b:00.0", "NVIDIA Tesla T4", "vfio-pci", "passthrough" },
	{ "0000:af:00.0", "Ĝrafika Ünïcode Ĉard", NULL, "none" },
};

/* The table of `vfioctl gpus`: the model cut, the modes wrapped. */
static void gpu_table(Table *table, size_t shrink_minimum)
{
	table_init(table, ELEMENTSOF(gpu_headers), gpu_headers);
	table->shrink_column = 1;
	table->shrink_minimum = shrink_minimum;
	table->wrap_last = true;
	for (size_t r = 0; r < ELEMENTSOF(gpu_rows); r++)
		assert_int_equal(table_add_row(table, gpu_rows[r]), 0);
}

#define GPU_TABLE_WHOLE                                                      \
	"ADDRESS       MODEL                   DRIVER    MODES\n"            \
	"0000:00:02.0  Intel UHD Graphics 630  i915      "                   \
	"mdev i915-GVTg_V5_4: 2 free, i915-GVTg_V5_8: 1 free; passthrough\n" \
	"0000:3b:00.0  NVIDIA Tesla T4         vfio-pci  passthrough\n"      \
	"0000:af:00.0  Ĝrafika Ünïcode Ĉard    -         none\n"

/*
 * A table far larger than the buffer its lines are put together in (a list of
 * 3,000 VMs, some 100 KB): every line whole and in order across the pieces it
 * is written in, and one cell's width sets its column for all rows.
 */
static void test_table_larger_than_its_buffer(void **state)
{
	static const char *const headers[] = { "NAME", "STATE", "PARTITIONS" };
	Table table;
	_cleanup_free_ char *text = NULL;
	char name[32], expected[128];

	table_init(&table, 3, headers);
	for (size_t i = 0; i < 3000; i++) {
		snprintf(name, sizeof(name), "vm%04zu", i);
		const char *row[] = { name, i == 1234 ? "running-and-long" : "defined",
				      i % 7 ? "-" : "mdev-040dea981617, sriov-0000:03:02.1" };
		assert_int_equal(table_add_row(&table, row), 0);
	}
	text = print_table(&table, 0);
	const char *line = text;
	assert_true(strncmp(line, "NAME    STATE             PARTITIONS\n", 37) == 0);
	line += 37;
	for (size_t i = 0; i < 3000; i++) {
		int n = snprintf(expected, sizeof(expected), "vm%04zu  %-16s  %s\n", i,
				 i == 1234 ? "running-and-long" : "defined",
				 i % 7 ? "-" : "mdev-040dea981617, sriov-0000:03:02.1");
		if (strncmp(line, expected, (size_t)n) != 0)
			fail_msg("row %zu: \"%.*s\", not \"%s\"", i, (int)strcspn(line, "\n"), line,
				 expected);
		line += n;
	}
	assert_string_equal(line, "");
	table_done(&table);
}

static void test_table_unlimited(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	gpu_table(&table, 10);
	text = print_table(&table, 0);
	assert_string_equal(text, GPU_TABLE_WHOLE);
	/* Nothing is lost: every cell is there whole. */
	for (size_t r = 0; r < ELEMENTSOF(gpu_rows); r++)
		for (size_t c = 0; c < ELEMENTSOF(gpu_headers); c++)
			assert_non_null(strstr(text, gpu_rows[r][c] ? gpu_rows[r][c] : "-"));
	assert_null(strstr(text, "…"));
	table_done(&table);
}

/* --no-legend: the rows alone, columns as wide as the rows need (DRIVER's header was wider). */
static void test_table_without_legend(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	gpu_table(&table, 10);
	output_set_legend(false);
	assert_false(output_legend());
	text = print_table(&table, 0);
	output_set_legend(true);
	assert_string_equal(text, "0000:00:02.0  Intel UHD Graphics 630  i915      "
				  "mdev i915-GVTg_V5_4: 2 free, i915-GVTg_V5_8: 1 free; "
				  "passthrough\n"
				  "0000:3b:00.0  NVIDIA Tesla T4         vfio-pci  passthrough\n"
				  "0000:af:00.0  Ĝrafika Ünïcode Ĉard    -         none\n");
	table_done(&table);

	/* A header wider than every cell no longer sets its column's width. */
	static const char *const headers[] = { "A LONG HEADER", "B" };
	static const char *const row[] = { "x", "y" };
	table_init(&table, 2, headers);
	assert_int_equal(table_add_row(&table, row), 0);
	output_set_legend(false);
	free(text);
	text = print_table(&table, 0);
	output_set_legend(true);
	assert_string_equal(text, "x  y\n");
	table_done(&table);
}

/* Runs print_json() or print_json_line() in a child, its stdout into a string. */
static char *json_printed(JsonFormat format, bool line, const char *json)
{
	int fds[2];
	char *text = calloc(1, 4096);
	size_t length = 0;
	ssize_t n;

	assert_non_null(text);
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		json_object *object = json_tokener_parse(json);
		dup2(fds[1], STDOUT_FILENO);
		output_set_json_format(format);
		if (line)
			print_json_line(object);
		else
			print_json(object);
		fflush(stdout);
		_exit(0);
	}
	close(fds[1]);
	while ((n = read(fds[0], text + length, 4095 - length)) > 0)
		length += (size_t)n;
	close(fds[0]);
	int status;
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	return text;
}

static void test_json_formats(void **state)
{
	static const char *const json = "{\"a\": [1, \"/x\"]}";
	static const char *const pretty = "{\n  \"a\": [\n    1,\n    \"/x\"\n  ]\n}\n";
	static const char *const one_line = "{\"a\":[1,\"/x\"]}\n";
	static const struct {
		JsonFormat format;
		bool line;
		const char *expected;
	} cases[] = {
		/* --json: a reply indented, a stream's replies one per line */
		{ JSON_FORMAT_DEFAULT, false, pretty }, { JSON_FORMAT_DEFAULT, true, one_line },
		{ JSON_FORMAT_SHORT, false, one_line }, { JSON_FORMAT_SHORT, true, one_line },
		{ JSON_FORMAT_PRETTY, false, pretty },  { JSON_FORMAT_PRETTY, true, pretty },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text = json_printed(cases[i].format, cases[i].line, json);
		assert_string_equal(text, cases[i].expected);
	}
	assert_int_equal(json_format_from_string("short"), JSON_FORMAT_SHORT);
	assert_int_equal(json_format_from_string("pretty"), JSON_FORMAT_PRETTY);
	assert_int_equal(json_format_from_string("Short"), _JSON_FORMAT_INVALID);
	assert_int_equal(json_format_from_string(""), _JSON_FORMAT_INVALID);
}

static void test_table_wide_enough(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	/* The widest line is 112 columns: with room for them, nothing changes. */
	gpu_table(&table, 10);
	text = print_table(&table, 112);
	assert_string_equal(text, GPU_TABLE_WHOLE);
	table_done(&table);
}

static void test_table_cut_to_100(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	/* Cutting the model to its minimum (10) is just enough for the modes to fit whole. */
	gpu_table(&table, 10);
	text = print_table(&table, OUTPUT_TERMINAL_WIDTH);
	assert_string_equal(text,
			    "ADDRESS       MODEL       DRIVER    MODES\n"
			    "0000:00:02.0  Intel UHD…  i915      "
			    "mdev i915-GVTg_V5_4: 2 free, i915-GVTg_V5_8: 1 free; passthrough\n"
			    "0000:3b:00.0  NVIDIA Te…  vfio-pci  passthrough\n"
			    "0000:af:00.0  Ĝrafika Ü…  -         none\n");
	assert_lines_within(text, OUTPUT_TERMINAL_WIDTH);
	table_done(&table);
}

static void test_table_cut_partly(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	/* Cut by 2 only: 20 columns for the model, where 22 were. */
	gpu_table(&table, 10);
	text = print_table(&table, 110);
	assert_string_equal(text,
			    "ADDRESS       MODEL                 DRIVER    MODES\n"
			    "0000:00:02.0  Intel UHD Graphics …  i915      "
			    "mdev i915-GVTg_V5_4: 2 free, i915-GVTg_V5_8: 1 free; passthrough\n"
			    "0000:3b:00.0  NVIDIA Tesla T4       vfio-pci  passthrough\n"
			    "0000:af:00.0  Ĝrafika Ünïcode Ĉard  -         none\n");
	assert_lines_within(text, 110);
	table_done(&table);
}

static void test_table_wrapped(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	/*
	 * At 70 columns the modes cannot fit whole: the model is cut only as far as
	 * the longest piece of the modes (28 columns) needs, and the modes wrap.
	 */
	gpu_table(&table, 10);
	text = print_table(&table, 70);
	assert_string_equal(text,
			    "ADDRESS       MODEL             DRIVER    MODES\n"
			    "0000:00:02.0  Intel UHD Graph…  i915      "
			    "mdev i915-GVTg_V5_4: 2 free,\n"
			    "                                          i915-GVTg_V5_8: 1 free;\n"
			    "                                          passthrough\n"
			    "0000:3b:00.0  NVIDIA Tesla T4   vfio-pci  passthrough\n"
			    "0000:af:00.0  Ĝrafika Ünïcode…  -         none\n");
	assert_lines_within(text, 70);
	table_done(&table);

	/* At 64, the model is cut to its minimum and the modes wrap at exactly 28. */
	gpu_table(&table, 10);
	free(text);
	text = print_table(&table, 64);
	assert_string_equal(text,
			    "ADDRESS       MODEL       DRIVER    MODES\n"
			    "0000:00:02.0  Intel UHD…  i915      mdev i915-GVTg_V5_4: 2 free,\n"
			    "                                    i915-GVTg_V5_8: 1 free;\n"
			    "                                    passthrough\n"
			    "0000:3b:00.0  NVIDIA Te…  vfio-pci  passthrough\n"
			    "0000:af:00.0  Ĝrafika Ü…  -         none\n");
	assert_lines_within(text, 64);
	table_done(&table);
}

static void test_table_indent(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	/* The indent counts in the width and in where wrapped lines go on. */
	gpu_table(&table, 10);
	table.indent = 2;
	text = print_table(&table, 66);
	assert_string_equal(text,
			    "  ADDRESS       MODEL       DRIVER    MODES\n"
			    "  0000:00:02.0  Intel UHD…  i915      mdev i915-GVTg_V5_4: 2 free,\n"
			    "                                      i915-GVTg_V5_8: 1 free;\n"
			    "                                      passthrough\n"
			    "  0000:3b:00.0  NVIDIA Te…  vfio-pci  passthrough\n"
			    "  0000:af:00.0  Ĝrafika Ü…  -         none\n");
	assert_lines_within(text, 66);
	table_done(&table);
}

/* Whether every part of text between ", " and "; " (with its comma) is in output. */
static void assert_pieces_in(const char *text, const char *output)
{
	for (const char *piece = text; *piece;) {
		size_t length = 0;
		while (piece[length] && !((piece[length] == ',' || piece[length] == ';') &&
					  piece[length + 1] == ' '))
			length++;
		if (piece[length])
			length++;
		if (!memmem(output, strlen(output), piece, length))
			fail_msg("\"%.*s\" is not in the output", (int)length, piece);
		piece += length + (piece[length] ? 1 : 0);
	}
}

static void test_table_too_narrow(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	/*
	 * 30 columns cannot hold a line: the model is cut to its minimum and no
	 * further, and the modes are wrapped but no piece of them is cut.
	 */
	gpu_table(&table, 10);
	text = print_table(&table, 30);
	assert_pieces_in(gpu_rows[0][3], text);
	assert_string_equal(text,
			    "ADDRESS       MODEL       DRIVER    MODES\n"
			    "0000:00:02.0  Intel UHD…  i915      mdev i915-GVTg_V5_4: 2 free,\n"
			    "                                    i915-GVTg_V5_8: 1 free;\n"
			    "                                    passthrough\n"
			    "0000:3b:00.0  NVIDIA Te…  vfio-pci  passthrough\n"
			    "0000:af:00.0  Ĝrafika Ü…  -         none\n");
	table_done(&table);
}

static void test_table_shrink_minimum(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	/* Never narrower than the header... */
	gpu_table(&table, 0);
	text = print_table(&table, 1);
	assert_string_equal(text, "ADDRESS       MODEL  DRIVER    MODES\n"
				  "0000:00:02.0  Inte…  i915      mdev i915-GVTg_V5_4: 2 free,\n"
				  "                               i915-GVTg_V5_8: 1 free;\n"
				  "                               passthrough\n"
				  "0000:3b:00.0  NVID…  vfio-pci  passthrough\n"
				  "0000:af:00.0  Ĝraf…  -         none\n");
	table_done(&table);

	/* ...nor, without headers, than one character and the ellipsis. */
	gpu_table(&table, 0);
	table.headers = NULL;
	free(text);
	text = print_table(&table, 1);
	assert_string_equal(text, "0000:00:02.0  I…  i915      mdev i915-GVTg_V5_4: 2 free,\n"
				  "                            i915-GVTg_V5_8: 1 free;\n"
				  "                            passthrough\n"
				  "0000:3b:00.0  N…  vfio-pci  passthrough\n"
				  "0000:af:00.0  Ĝ…  -         none\n");
	table_done(&table);
}

static void test_table_cut_without_wrap(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	/*
	 * The modes may not wrap: at 70 columns they cannot fit even with the model
	 * cut to its minimum, so it is cut that far, and the line is as short as it gets.
	 */
	gpu_table(&table, 10);
	table.wrap_last = false;
	text = print_table(&table, 70);
	assert_string_equal(text,
			    "ADDRESS       MODEL       DRIVER    MODES\n"
			    "0000:00:02.0  Intel UHD…  i915      "
			    "mdev i915-GVTg_V5_4: 2 free, i915-GVTg_V5_8: 1 free; passthrough\n"
			    "0000:3b:00.0  NVIDIA Te…  vfio-pci  passthrough\n"
			    "0000:af:00.0  Ĝrafika Ü…  -         none\n");
	table_done(&table);
}

static void test_table_minimum_above_content(void **state)
{
	Table table;
	_cleanup_free_ char *text = NULL;

	/* A minimum wider than every model: the model column keeps its width, no less. */
	gpu_table(&table, 40);
	text = print_table(&table, 64);
	assert_string_equal(text, "ADDRESS       MODEL                   DRIVER    MODES\n"
				  "0000:00:02.0  Intel UHD Graphics 630  i915      "
				  "mdev i915-GVTg_V5_4: 2 free,\n"
				  "                                                "
				  "i915-GVTg_V5_8: 1 free;\n"
				  "                                                passthrough\n"
				  "0000:3b:00.0  NVIDIA Tesla T4         vfio-pci  passthrough\n"
				  "0000:af:00.0  Ĝrafika Ünïcode Ĉard    -         none\n");
	assert_null(strstr(text, "…"));
	table_done(&table);
}

static void test_table_not_asked_to_fit(void **state)
{
	static const char *const row[] = { "0000:00:02.0", "Intel UHD Graphics 630",
					   "a, b, c, d, e, f" };
	Table table;
	_cleanup_free_ char *text = NULL;

	/* Without a shrink column nor wrapping, a width changes nothing. */
	table_init(&table, 3, NULL);
	assert_int_equal(table_add_row(&table, row), 0);
	text = print_table(&table, 20);
	assert_string_equal(text, "0000:00:02.0  Intel UHD Graphics 630  a, b, c, d, e, f\n");
	table_done(&table);
}

static void test_table_wrap_one_column(void **state)
{
	static const char *const exact[] = { "alpha, beta; gamma, delta" };
	static const char *const glued[] = { "one,two; three" };
	Table table;
	_cleanup_free_ char *text = NULL;

	table_init(&table, 1, NULL);
	table.wrap_last = true;
	assert_int_equal(table_add_row(&table, exact), 0);
	assert_int_equal(table_add_row(&table, glued), 0);
	/* Lines of exactly 12; a comma without a space after it is no place to break. */
	text = print_table(&table, 12);
	assert_string_equal(text, "alpha, beta;\n"
				  "gamma, delta\n"
				  "one,two;\n"
				  "three\n");
	free(text);
	text = print_table(&table, 11);
	assert_string_equal(text, "alpha,\n"
				  "beta;\n"
				  "gamma,\n"
				  "delta\n"
				  "one,two;\n"
				  "three\n");
	/* Too narrow for any piece: each stands whole on its line, none is split. */
	free(text);
	text = print_table(&table, 5);
	assert_string_equal(text, "alpha,\n"
				  "beta;\n"
				  "gamma,\n"
				  "delta\n"
				  "one,two;\n"
				  "three\n");
	free(text);
	text = print_table(&table, 0);
	assert_string_equal(text, "alpha, beta; gamma, delta\n"
				  "one,two; three\n");
	table_done(&table);
}

static void test_table_empty_cells(void **state)
{
	static const char *const headers[] = { "NAME", "DRIVER", "NOTE" };
	static const char *const row[] = { "vfio", "", "" };
	static const char *const other[] = { "snd_hda_intel", "vfio-pci", "in use" };
	Table table;
	_cleanup_free_ char *text = NULL;

	/* An empty last cell leaves no spaces at the end of its line (print_table checks). */
	table_init(&table, 3, headers);
	assert_int_equal(table_add_row(&table, row), 0);
	assert_int_equal(table_add_row(&table, other), 0);
	text = print_table(&table, 0);
	assert_string_equal(text, "NAME           DRIVER    NOTE\n"
				  "vfio\n"
				  "snd_hda_intel  vfio-pci  in use\n");
	table_done(&table);
}

static void test_table_done_and_again(void **state)
{
	static const char *const headers[] = { "ADDRESS", "B" };
	static const char *const first[] = { "long first cell", "x" };
	static const char *const second[] = { "short", NULL };
	Table table;
	_cleanup_free_ char *text = NULL;

	table_init(&table, 2, headers);
	assert_int_equal(table_add_row(&table, first), 0);
	table_done(&table);
	assert_int_equal(table.n_rows, 0);
	assert_null(table.cells);
	/*
	 * Emptied: the old row no longer sizes the columns, the header does. A NULL
	 * cell shows as "-".
	 */
	assert_int_equal(table_add_row(&table, second), 0);
	text = print_table(&table, 0);
	assert_string_equal(text, "ADDRESS  B\n"
				  "short    -\n");
	table_done(&table);
	table_done(&table);

	/* No rows: the header alone. */
	free(text);
	text = print_table(&table, 0);
	assert_string_equal(text, "ADDRESS  B\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_colour_wanted),
		cmocka_unit_test(test_colour_sequences),
		cmocka_unit_test(test_format_kib_units),
		cmocka_unit_test(test_format_kib_rounding),
		cmocka_unit_test(test_format_kib_huge),
		cmocka_unit_test(test_format_kib_small_buffer),
		cmocka_unit_test(test_format_optional_int),
		cmocka_unit_test(test_text_width),
		cmocka_unit_test(test_table_unlimited),
		cmocka_unit_test(test_table_without_legend),
		cmocka_unit_test(test_json_formats),
		cmocka_unit_test(test_table_wide_enough),
		cmocka_unit_test(test_table_cut_to_100),
		cmocka_unit_test(test_table_cut_partly),
		cmocka_unit_test(test_table_wrapped),
		cmocka_unit_test(test_table_indent),
		cmocka_unit_test(test_table_too_narrow),
		cmocka_unit_test(test_table_shrink_minimum),
		cmocka_unit_test(test_table_cut_without_wrap),
		cmocka_unit_test(test_table_minimum_above_content),
		cmocka_unit_test(test_table_not_asked_to_fit),
		cmocka_unit_test(test_table_wrap_one_column),
		cmocka_unit_test(test_table_empty_cells),
		cmocka_unit_test(test_table_larger_than_its_buffer),
		cmocka_unit_test(test_table_done_and_again),
	};

	return cmocka_run_group_tests_name("client-output", tests, NULL, NULL);
}
