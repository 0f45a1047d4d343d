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

/* A mapping or sequence being filled; for a mapping, the key waiting for its value (0: none). */
typedef struct OpenNode {
	int id;
	int key;
} OpenNode;

typedef struct Anchor {
	yaml_char_t *name; /* the event's, taken */
	int id;
} Anchor;

/*
 * The tree built from libyaml's events in the same pass as the bounds are
 * checked (one parse, not a check and then yaml_parser_load()): a document is
 * never built past a bound, and the parse stops at the first event past one.
 */
typedef struct Composer {
	yaml_document_t *doc;
	bool has_document;
	OpenNode open[YAML_DOC_MAX_DEPTH];
	unsigned depth, nodes, aliases, n_anchors;
	Anchor anchors[YAML_DOC_MAX_ANCHORS];
	YamlDocError *error;
} Composer;

static void composer_done(Composer *c)
{
	for (unsigned i = 0; i < c->n_anchors; i++)
		free(c->anchors[i].name);
}

/* A missing or non-specific ("!") tag: libyaml's default for the node's kind. */
static yaml_char_t *node_tag(yaml_char_t *tag)
{
	return tag && strcmp((const char *)tag, "!") != 0 ? tag : NULL;
}

/* Hangs node `id` below the innermost open node (or, as the first node, it is the root). */
static int attach(Composer *c, int id)
{
	if (c->depth == 0)
		return 0;
	OpenNode *parent = &c->open[c->depth - 1];
	if (yaml_document_get_node(c->doc, parent->id)->type == YAML_SEQUENCE_NODE)
		return yaml_document_append_sequence_item(c->doc, parent->id, id) ? 0 : -ENOMEM;
	if (parent->key == 0) {
		parent->key = id;
		return 0;
	}
	int key = parent->key;
	parent->key = 0;
	return yaml_document_append_mapping_pair(c->doc, parent->id, key, id) ? 0 : -ENOMEM;
}

static int add_anchor(Composer *c, yaml_char_t **anchor, int id, size_t line)
{
	if (!*anchor)
		return 0;
	if (c->n_anchors >= YAML_DOC_MAX_ANCHORS)
		return set_error(c->error, line, "more than %d anchors", YAML_DOC_MAX_ANCHORS);
	for (unsigned i = 0; i < c->n_anchors; i++)
		if (strcmp((const char *)c->anchors[i].name, (const char *)*anchor) == 0)
			return set_error(c->error, line, "found duplicate anchor");
	c->anchors[c->n_anchors++] = (Anchor){ *anchor, id };
	*anchor = NULL; /* the composer's now, not the event's */
	return 0;
}

static int add_alias(Composer *c, const yaml_event_t *event, size_t line)
{
	if (++c->aliases > YAML_DOC_MAX_ALIASES)
		return set_error(c->error, line, "more than %d aliases", YAML_DOC_MAX_ALIASES);
	for (unsigned i = 0; i < c->n_anchors; i++)
		if (strcmp((const char *)c->anchors[i].name,
			   (const char *)event->data.alias.anchor) == 0)
			return attach(c, c->anchors[i].id);
	return set_error(c->error, line, "found undefined alias");
}

/* Adds the node an event starts (scalar, sequence, mapping) or names again (alias). */
static int add_node(Composer *c, yaml_event_t *event)
{
	size_t line = event->start_mark.line + 1;
	yaml_char_t **anchor;
	int id;

	if (++c->nodes > YAML_DOC_MAX_NODES)
		return set_error(c->error, line, "more than %d values", YAML_DOC_MAX_NODES);
	if ((event->type == YAML_SEQUENCE_START_EVENT || event->type == YAML_MAPPING_START_EVENT) &&
	    c->depth >= YAML_DOC_MAX_DEPTH)
		return set_error(c->error, line, "nested deeper than %d levels",
				 YAML_DOC_MAX_DEPTH);
	switch (event->type) {
	case YAML_SCALAR_EVENT:
		id = yaml_document_add_scalar(
			c->doc, node_tag(event->data.scalar.tag), event->data.scalar.value,
			(int)event->data.scalar.length, event->data.scalar.style);
		anchor = &event->data.scalar.anchor;
		break;
	case YAML_SEQUENCE_START_EVENT:
		id = yaml_document_add_sequence(c->doc, node_tag(event->data.sequence_start.tag),
						event->data.sequence_start.style);
		anchor = &event->data.sequence_start.anchor;
		break;
	case YAML_MAPPING_START_EVENT:
		id = yaml_document_add_mapping(c->doc, node_tag(event->data.mapping_start.tag),
					       event->data.mapping_start.style);
		anchor = &event->data.mapping_start.anchor;
		break;
	default:
		return add_alias(c, event, line);
	}
	if (id == 0)
		return -ENOMEM;
	/* libyaml's document API leaves marks at zero: errors name lines by them. */
	yaml_node_t *node = yaml_document_get_node(c->doc, id);
	node->start_mark = event->start_mark;
	node->end_mark = event->end_mark;
	int r = add_anchor(c, anchor, id, line);
	if (r >= 0)
		r = attach(c, id);
	if (r >= 0 && event->type != YAML_SCALAR_EVENT)
		c->open[c->depth++] = (OpenNode){ id, 0 };
	return r;
}

/* One event into the tree: 1 at the end of the stream, 0 to go on, or < 0. */
static int compose_event(Composer *c, yaml_event_t *event)
{
	switch (event->type) {
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		/* A second document would be silently ignored; refuse it instead. */
		if (c->has_document)
			return set_error(c->error, event->start_mark.line + 1,
					 "only one YAML document is allowed");
		c->has_document = true;
		return 0;
	case YAML_SCALAR_EVENT:
	case YAML_ALIAS_EVENT:
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		return add_node(c, event);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		c->depth--;
		yaml_document_get_node(c->doc, c->open[c->depth].id)->end_mark = event->end_mark;
		return 0;
	default:
		return 0;
	}
}

int yaml_doc_load_string(const char *text, size_t size, yaml_document_t *ret,
			 YamlDocError *ret_error)
{
	yaml_parser_t parser_storage;
	_cleanup_(parser_deletep) yaml_parser_t *parser = NULL;
	yaml_document_t doc;
	Composer c = { .doc = &doc, .error = ret_error };
	int r = 0;

	*ret_error = (YamlDocError){ 0 };
	if (!yaml_parser_initialize(&parser_storage))
		return -ENOMEM;
	parser = &parser_storage;
	yaml_parser_set_input_string(parser, (const unsigned char *)text, size);
	if (!yaml_document_initialize(&doc, NULL, NULL, NULL, 1, 1))
		return -ENOMEM;
	while (r == 0) {
		yaml_event_t event;
		if (!yaml_parser_parse(parser, &event)) {
			r = parser_error(ret_error, parser);
			break;
		}
		r = compose_event(&c, &event);
		yaml_event_delete(&event);
	}
	composer_done(&c);
	if (r < 0) {
		yaml_document_delete(&doc);
		return r;
	}
	*ret = doc;
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
