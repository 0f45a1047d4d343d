/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm_definition_edit.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "yaml_doc.h"

static void document_deletep(yaml_document_t **doc)
{
	if (*doc)
		yaml_document_delete(*doc);
}

/* The top-level value of `key` in the document's root mapping, or NULL. */
static yaml_node_t *top_value(yaml_document_t *doc, const char *key)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	if (!root || root->type != YAML_MAPPING_NODE)
		return NULL;
	for (yaml_node_pair_t *pair = root->data.mapping.pairs.start;
	     pair < root->data.mapping.pairs.top; pair++) {
		const char *name = yaml_doc_scalar(yaml_document_get_node(doc, pair->key));
		if (name && strcmp(name, key) == 0)
			return yaml_document_get_node(doc, pair->value);
	}
	return NULL;
}

/*
 * The byte offset of a mark from its line and column. libyaml counts columns
 * (and, in some versions, the index) in characters, not bytes: the line is
 * found by its breaks and the column walked in UTF-8 characters.
 */
static size_t mark_offset(const char *text, size_t size, const yaml_mark_t *mark)
{
	size_t offset = 0;
	for (size_t line = 0; line < mark->line && offset < size; offset++)
		if (text[offset] == '\n')
			line++;
	for (size_t column = 0; column < mark->column && offset < size; column++) {
		offset++;
		while (offset < size && ((unsigned char)text[offset] & 0xc0) == 0x80)
			offset++;
	}
	return offset;
}

/* text[0, at) + insert + text[at + cut, size) */
static int splice(const char *text, size_t size, size_t at, size_t cut, const char *insert,
		  char **ret, size_t *ret_size)
{
	size_t n = strlen(insert), total = size - cut + n;
	char *out = malloc(total + 1);
	if (!out)
		return -ENOMEM;
	memcpy(out, text, at);
	memcpy(out + at, insert, n);
	memcpy(out + at + n, text + at + cut, size - at - cut);
	out[total] = '\0';
	*ret = out;
	*ret_size = total;
	return 0;
}

int vm_definition_set_autostart(const char *text, size_t size, bool autostart, char **ret_text,
				size_t *ret_size)
{
	const char *value_text = autostart ? "true" : "false";
	yaml_document_t doc_storage, check_storage;
	_cleanup_(document_deletep) yaml_document_t *doc = NULL, *check = NULL;
	_cleanup_free_ char *out = NULL;
	YamlDocError error;
	size_t out_size;
	int r;

	r = yaml_doc_load_string(text, size, &doc_storage, &error);
	free(error.text);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	doc = &doc_storage;
	yaml_node_t *root = yaml_document_get_root_node(doc);
	if (!root || root->type != YAML_MAPPING_NODE)
		return -EINVAL;

	yaml_node_t *value = top_value(doc, "autostart");
	if (value) {
		if (value->type != YAML_SCALAR_NODE)
			return -EINVAL;
		size_t start = mark_offset(text, size, &value->start_mark);
		size_t end = mark_offset(text, size, &value->end_mark);
		if (end < start || end > size)
			return -EINVAL;
		r = splice(text, size, start, end - start, value_text, &out, &out_size);
	} else if (root->data.mapping.style == YAML_FLOW_MAPPING_STYLE) {
		/* {name: x, memory: 1G}: before the closing brace, which ends the node. */
		size_t end = mark_offset(text, size, &root->end_mark);
		if (end == 0 || end > size || text[end - 1] != '}')
			return -EINVAL;
		char insert[32];
		snprintf(insert, sizeof(insert), ", autostart: %s", value_text);
		r = splice(text, size, end - 1, 0, insert, &out, &out_size);
	} else {
		char insert[32];
		snprintf(insert, sizeof(insert), "%sautostart: %s\n",
			 size > 0 && text[size - 1] != '\n' ? "\n" : "", value_text);
		r = splice(text, size, size, 0, insert, &out, &out_size);
	}
	if (r < 0)
		return r;

	/* What was written must read back as asked (an indented or ended document would not). */
	r = yaml_doc_load_string(out, out_size, &check_storage, &error);
	free(error.text);
	if (r < 0)
		return r == -ENOMEM ? r : -EINVAL;
	check = &check_storage;
	const char *now = yaml_doc_scalar(top_value(check, "autostart"));
	if (!now || strcmp(now, value_text) != 0)
		return -EINVAL;
	*ret_text = TAKE_PTR(out);
	*ret_size = out_size;
	return 0;
}
