/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading one YAML document with libyaml, safely: a regular file only, a size
 * bound, one document, bounded nesting, anchors and aliases, and errors that
 * name the line. The caller walks the yaml_document_t nodes itself. Never
 * logs: errors come back as text.
 *
 * The bounds are checked on libyaml's event stream while the tree is built
 * from it, in one pass, and the parse stops at the first event past one:
 * libyaml's scanner costs time in the square of the flow nesting and its own
 * loader in the square of the anchors (100,000 nested '[' took 52 s), so an
 * input from anyone must be stopped while it is still cheap.
 */
#pragma once

#include <stddef.h>
#include <yaml.h>

/*
 * Mappings and sequences inside each other; nodes (scalars, mappings, sequences,
 * aliases), anchors (&a) and aliases (*a) in one document. A VM definition with
 * every feature has a few hundred nodes; 4096 keep the whole parse at about a
 * millisecond (tests/bench/bench_yaml.py).
 */
#define YAML_DOC_MAX_DEPTH 64
#define YAML_DOC_MAX_NODES 4096
#define YAML_DOC_MAX_ANCHORS 64
#define YAML_DOC_MAX_ALIASES 64

/* Why a document could not be loaded. */
typedef struct YamlDocError {
	unsigned line; /* 1-based; 0 when the problem is not on a line */
	char *text; /* "found character that cannot start any token"; free() it */
} YamlDocError;

/*
 * Loads the document in `path` (at most max_size bytes). Returns 0 and fills
 * *ret (free with yaml_document_delete()), -ENOENT when the file is missing,
 * or another negative errno; for -EINVAL, *ret_error says what is wrong.
 */
int yaml_doc_load_file(const char *path, size_t max_size, yaml_document_t *ret,
		       YamlDocError *ret_error);

/*
 * The same from an open descriptor (a regular file, checked with fstat), for a
 * caller that opened it itself: without following links, below a directory it
 * trusts. The descriptor stays the caller's.
 */
int yaml_doc_load_fd(int fd, size_t max_size, yaml_document_t *ret, YamlDocError *ret_error);

/* The same for text in memory. */
int yaml_doc_load_string(const char *text, size_t size, yaml_document_t *ret,
			 YamlDocError *ret_error);

/* 1-based line on which a node starts. */
static inline unsigned yaml_doc_line(const yaml_node_t *node)
{
	return (unsigned)node->start_mark.line + 1;
}

/* The text of a scalar node, or NULL when the node is not a scalar or holds a NUL byte. */
const char *yaml_doc_scalar(const yaml_node_t *node);
