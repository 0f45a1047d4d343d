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

#include "fs_util.h"
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

static void event_deletep(yaml_event_t **e)
{
	if (*e)
		yaml_event_delete(*e);
}

/* Reads the events of `text` up to the end, or to the first one past a bound. */
static int check_bounds(const char *text, size_t size, YamlDocError *ret_error)
{
	yaml_parser_t parser_storage;
	_cleanup_(parser_deletep) yaml_parser_t *parser = NULL;
	unsigned depth = 0, nodes = 0, anchors = 0, aliases = 0;

	if (!yaml_parser_initialize(&parser_storage))
		return -ENOMEM;
	parser = &parser_storage;
	yaml_parser_set_input_string(parser, (const unsigned char *)text, size);
	for (;;) {
		yaml_event_t event_storage;
		_cleanup_(event_deletep) yaml_event_t *event = NULL;

		if (!yaml_parser_parse(parser, &event_storage))
			return parser_error(ret_error, parser);
		event = &event_storage;
		size_t line = event->start_mark.line + 1;
		const yaml_char_t *anchor = NULL;
		if ((event->type == YAML_SCALAR_EVENT || event->type == YAML_ALIAS_EVENT ||
		     event->type == YAML_SEQUENCE_START_EVENT ||
		     event->type == YAML_MAPPING_START_EVENT) &&
		    ++nodes > YAML_DOC_MAX_NODES)
			return set_error(ret_error, line, "more than %d values",
					 YAML_DOC_MAX_NODES);
		switch (event->type) {
		case YAML_STREAM_END_EVENT:
			return 0;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (++depth > YAML_DOC_MAX_DEPTH)
				return set_error(ret_error, line, "nested deeper than %d levels",
						 YAML_DOC_MAX_DEPTH);
			anchor = event->type == YAML_SEQUENCE_START_EVENT
					 ? event->data.sequence_start.anchor
					 : event->data.mapping_start.anchor;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			depth--;
			break;
		case YAML_SCALAR_EVENT:
			anchor = event->data.scalar.anchor;
			break;
		case YAML_ALIAS_EVENT:
			if (++aliases > YAML_DOC_MAX_ALIASES)
				return set_error(ret_error, line, "more than %d aliases",
						 YAML_DOC_MAX_ALIASES);
			break;
		default:
			break;
		}
		if (anchor && ++anchors > YAML_DOC_MAX_ANCHORS)
			return set_error(ret_error, line, "more than %d anchors",
					 YAML_DOC_MAX_ANCHORS);
	}
}

int yaml_doc_load_string(const char *text, size_t size, yaml_document_t *ret,
			 YamlDocError *ret_error)
{
	yaml_parser_t parser_storage;
	_cleanup_(parser_deletep) yaml_parser_t *parser = NULL;
	yaml_document_t extra;

	*ret_error = (YamlDocError){ 0 };
	int r = check_bounds(text, size, ret_error);
	if (r < 0)
		return r;
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
	*ret_error = (YamlDocError){ 0 };
	/* O_NONBLOCK: a FIFO planted at the path must not hang us. */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return negative_errno();
	return yaml_doc_load_fd(fd, max_size, ret, ret_error);
}

int yaml_doc_load_fd(int fd, size_t max_size, yaml_document_t *ret, YamlDocError *ret_error)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	size_t done;

	*ret_error = (YamlDocError){ 0 };
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return set_error(ret_error, 0, "not a regular file");
	if ((uint64_t)st.st_size > max_size)
		return set_error(ret_error, 0, "larger than %zu bytes", max_size);

	/* What it holds now: it may have grown or shrunk since fstat. */
	int r = read_full_fd(fd, max_size, &text, &done);
	if (r < 0)
		return r;
	if (done > max_size)
		return set_error(ret_error, 0, "larger than %zu bytes", max_size);
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
