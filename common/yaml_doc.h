/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Loading one YAML document with libyaml, safely: a regular file only, a size
 * bound, one document, and errors that name the line. The caller walks the
 * yaml_document_t nodes itself. Never logs: errors come back as text.
 */
#pragma once

#include <stddef.h>
#include <yaml.h>

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
