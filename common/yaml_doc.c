/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "yaml_doc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "macro.h"

_printf_(3, 4) static int set_error(YamlDocError *ret_error, size_t line, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	ret_error->line = (unsigned)line;
	if (vasprintf(&ret_error->text, format, ap) < 0)
		ret_error->text = NULL;
	va_end(ap);
	return -EINVAL;
}

static int parser_error(YamlDocError *ret_error, const yaml_parser_t *parser)
{
	return set_error(ret_error, parser->problem_mark.line + 1, "%s",
			 parser->problem ? parser->problem : "malformed YAML");
}

static void parser_deletep(yaml_parser_t **p)
{
	if (*p)
		yaml_parser_delete(*p);
}

int yaml_doc_load_string(const char *text, size_t size, yaml_document_t *ret,
			 YamlDocError *ret_error)
{
	yaml_parser_t parser_storage;
	_cleanup_(parser_deletep) yaml_parser_t *parser = NULL;
	yaml_document_t extra;

	*ret_error = (YamlDocError){ 0 };
	if (!yaml_parser_initialize(&parser_storage))
		return -ENOMEM;
	parser = &parser_storage;
	yaml_parser_set_input_string(parser, (const unsigned char *)text, size);

	if (!yaml_parser_load(parser, ret))
		return parser_error(ret_error, parser);

	/* A second document would be silently ignored; refuse it instead. */
	if (!yaml_parser_load(parser, &extra)) {
		yaml_document_delete(ret);
		return parser_error(ret_error, parser);
	}
	bool more = yaml_document_get_root_node(&extra) != NULL;
	size_t line = extra.start_mark.line + 1;
	yaml_document_delete(&extra);
	if (more) {
		yaml_document_delete(ret);
		return set_error(ret_error, line, "only one YAML document is allowed");
	}
	return 0;
}

int yaml_doc_load_file(const char *path, size_t max_size, yaml_document_t *ret,
		       YamlDocError *ret_error)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t done = 0;

	*ret_error = (YamlDocError){ 0 };
	/* O_NONBLOCK: a FIFO planted at the path must not hang us. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return set_error(ret_error, 0, "not a regular file");
	if ((uint64_t)st.st_size > max_size)
		return set_error(ret_error, 0, "larger than %zu bytes", max_size);

	text = malloc((size_t)st.st_size + 1);
	if (!text)
		return -ENOMEM;
	while (done < (size_t)st.st_size) {
		ssize_t n = read(fd, text + done, (size_t)st.st_size - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break; /* shrank while we read: parse what is there */
		done += (size_t)n;
	}
	text[done] = '\0';
	return yaml_doc_load_string(text, done, ret, ret_error);
}

const char *yaml_doc_scalar(const yaml_node_t *node)
{
	if (!node || node->type != YAML_SCALAR_NODE)
		return NULL;
	const char *value = (const char *)node->data.scalar.value;
	if (strlen(value) != node->data.scalar.length)
		return NULL;
	return value;
}
