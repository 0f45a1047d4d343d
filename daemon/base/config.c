/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/config.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include "base/log.h"
#include "build-config.h"
#include "error_message.h"
#include "macro.h"
#include "parse_util.h"
#include "pci_address.h"
#include "strv.h"
#include "yaml_doc.h"

typedef struct Setting Setting;
/*
 * Parses `value` into the config; a bad value returns -EINVAL with a sentence in
 * *ret_message (-ENOMEM when even that cannot be made).
 */
typedef int (*SettingParser)(DaemonConfig *config, const Setting *setting, const char *value,
			     char **ret_message);

struct Setting {
	const char *key; /* dotted path as written in the file */
	SettingParser parse;
	size_t offset;
	uint64_t min, max; /* for numbers */
};

static int set_string(DaemonConfig *config, const Setting *setting, const char *value)
{
	char **slot = (char **)((char *)config + setting->offset);
	char *copy = strdup(value);
	if (!copy)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

static int parse_absolute_path(DaemonConfig *config, const Setting *setting, const char *value,
			       char **ret_message)
{
	if (value[0] != '/')
		return error_message(ret_message, -EINVAL, "'%s' is not an absolute path", value);
	if (strlen(value) >= 4096)
		return error_message(ret_message, -EINVAL, "the path is longer than 4095 bytes");
	return set_string(config, setting, value);
}

static int parse_socket_path(DaemonConfig *config, const Setting *setting, const char *value,
			     char **ret_message)
{
	if (strlen(value) >= sizeof(((struct sockaddr_un *)NULL)->sun_path))
		return error_message(ret_message, -EINVAL,
				     "the path is longer than the %zu bytes a socket allows",
				     sizeof(((struct sockaddr_un *)NULL)->sun_path) - 1);
	return parse_absolute_path(config, setting, value, ret_message);
}

static int parse_program(DaemonConfig *config, const Setting *setting, const char *value,
			 char **ret_message)
{
	if (value[0] != '/' && strchr(value, '/'))
		return error_message(
			ret_message, -EINVAL,
			"'%s' must be a program name looked up in PATH or an absolute path", value);
	if (value[0] == '\0' || strlen(value) >= 4096)
		return error_message(ret_message, -EINVAL,
				     "needs a program name or an absolute path");
	return set_string(config, setting, value);
}

static int parse_boolean(DaemonConfig *config, const Setting *setting, const char *value,
			 char **ret_message)
{
	bool *slot = (bool *)((char *)config + setting->offset);
	if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0)
		*slot = true;
	else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0)
		*slot = false;
	else
		return error_message(ret_message, -EINVAL, "'%s' is not true or false", value);
	return 0;
}

static int parse_user_name(DaemonConfig *config, const Setting *setting, const char *value,
			   char **ret_message)
{
	if (!user_name_is_valid(value))
		return error_message(ret_message, -EINVAL, "'%s' is not a user name", value);
	return set_string(config, setting, value);
}

static int parse_accel(DaemonConfig *config, const Setting *setting, const char *value,
		       char **ret_message)
{
	if (strcmp(value, "auto") != 0 && strcmp(value, "kvm") != 0 && strcmp(value, "tcg") != 0)
		return error_message(ret_message, -EINVAL, "'%s' is not auto, kvm or tcg", value);
	return set_string(config, setting, value);
}

/* access.read: everyone (the default) or group (root, access.group, a VM's owner). */
static int parse_access_read(DaemonConfig *config, const Setting *setting, const char *value,
			     char **ret_message)
{
	(void)setting;
	if (strcmp(value, "everyone") == 0)
		config->access_read_group = false;
	else if (strcmp(value, "group") == 0)
		config->access_read_group = true;
	else
		return error_message(ret_message, -EINVAL, "'%s' is not everyone or group", value);
	return 0;
}

/* At most this many entries in gpus.partitionable. */
#define CONFIG_MAX_EXTRA_GPUS 256

/*
 * gpus.partitionable: PCI addresses ("0000:01:00.0", "01:00.0") or
 * vendor:device ids ("1b36:0010"), separated by commas or spaces (a YAML
 * list arrives here as its items joined by spaces). Empty: none.
 */
static int parse_gpu_list(DaemonConfig *config, const Setting *setting, const char *value,
			  char **ret_message)
{
	_cleanup_strv_ char **list = NULL;
	size_t n = 0;

	for (const char *p = value; *p;) {
		p += strspn(p, ", \t");
		size_t length = strcspn(p, ", \t");
		if (length == 0)
			break;
		char item[32];
		if (length >= sizeof(item) || ++n > CONFIG_MAX_EXTRA_GPUS)
			return error_message(ret_message, -EINVAL,
					     "at most %d entries, each a PCI address or "
					     "vendor:device ids",
					     CONFIG_MAX_EXTRA_GPUS);
		snprintf(item, sizeof(item), "%.*s", (int)length, p);
		if (!pci_function_selector_is_valid(item))
			return error_message(ret_message, -EINVAL,
					     "'%s' is neither a PCI address (0000:01:00.0) nor "
					     "vendor:device ids (1b36:0010)",
					     item);
		if (strv_append(&list, item) < 0)
			return -ENOMEM;
		p += length;
	}
	strv_free(config->extra_gpus);
	config->extra_gpus = TAKE_PTR(list);
	return 0;
}

static int parse_log_level(DaemonConfig *config, const Setting *setting, const char *value,
			   char **ret_message)
{
	int level = log_level_from_string(value);
	if (level < 0)
		return error_message(
			ret_message, -EINVAL,
			"'%s' is not a log level (error, warning, notice, info, debug)", value);
	config->log_level = level;
	return 0;
}

static uint64_t *number_slot(DaemonConfig *config, const Setting *setting)
{
	return (uint64_t *)((char *)config + setting->offset);
}

static int store_in_range(DaemonConfig *config, const Setting *setting, int r, uint64_t value,
			  const char *text, const char *what, char **ret_message)
{
	if (r == -EINVAL)
		return error_message(ret_message, -EINVAL, "'%s' is not %s", text, what);
	if (r < 0 || value < setting->min || value > setting->max)
		return error_message(ret_message, -EINVAL, "'%s' is out of range (%llu to %llu)",
				     text, (unsigned long long)setting->min,
				     (unsigned long long)setting->max);
	*number_slot(config, setting) = value;
	return 0;
}

static int parse_count(DaemonConfig *config, const Setting *setting, const char *value,
		       char **ret_message)
{
	uint64_t n = 0;
	int r = parse_uint64(value, &n);
	return store_in_range(config, setting, r, n, value, "a whole number", ret_message);
}

static int parse_bytes(DaemonConfig *config, const Setting *setting, const char *value,
		       char **ret_message)
{
	uint64_t n = 0;
	int r = parse_size(value, &n);
	return store_in_range(config, setting, r, n, value, "a size (such as 1MiB or 65536)",
			      ret_message);
}

static int parse_time(DaemonConfig *config, const Setting *setting, const char *value,
		      char **ret_message)
{
	uint64_t usec = 0;
	int r = parse_duration(value, &usec);
	return store_in_range(config, setting, r, usec, value,
			      "a duration (such as 30s, 500ms or 2min)", ret_message);
}

#define FIELD(name) offsetof(DaemonConfig, name)

static const Setting settings[] = {
	{ "socket", parse_socket_path, FIELD(socket_path), 0, 0 },
	{ "runtime-dir", parse_absolute_path, FIELD(runtime_dir), 0, 0 },
	{ "state-dir", parse_absolute_path, FIELD(state_dir), 0, 0 },
	{ "sysfs-root", parse_absolute_path, FIELD(sysfs_root), 0, 0 },
	{ "qemu-binary", parse_program, FIELD(qemu_binary), 0, 0 },
	{ "log-level", parse_log_level, 0, 0, 0 },
	{ "access.group", parse_user_name, FIELD(access_group), 0, 0 },
	{ "access.read", parse_access_read, 0, 0, 0 },
	{ "limits.max-message-size", parse_bytes, FIELD(max_message_size), 4096,
	  UINT64_C(256) << 20 },
	{ "limits.client-timeout", parse_time, FIELD(client_timeout_usec), USEC_PER_MSEC,
	  3600 * USEC_PER_SEC },
	{ "limits.max-connections", parse_count, FIELD(max_connections), 1, 65536 },
	{ "limits.max-connections-per-user", parse_count, FIELD(max_connections_per_user), 1,
	  65536 },
	{ "limits.idle-timeout", parse_time, FIELD(idle_timeout_usec), 10 * USEC_PER_MSEC,
	  24 * 3600 * USEC_PER_SEC },
	/* At least one OUTPUT_HIGH_WATER (server.c), so one ordinary client always fits. */
	{ "limits.max-unread-output", parse_bytes, FIELD(max_unread_output), UINT64_C(4) << 20,
	  UINT64_C(64) << 30 },
	{ "limits.sysfs-write-timeout", parse_time, FIELD(sysfs_write_timeout_usec),
	  10 * USEC_PER_MSEC, 600 * USEC_PER_SEC },
	{ "sriov.keep-vfs-on-vfio", parse_boolean, FIELD(keep_vfs_on_vfio), 0, 0 },
	{ "gpus.partitionable", parse_gpu_list, 0, 0, 0 },
	{ "vms.dir", parse_absolute_path, FIELD(vm_dir), 0, 0 },
	{ "vms.qemu-user", parse_user_name, FIELD(qemu_user), 0, 0 },
	{ "vms.accel", parse_accel, FIELD(accel), 0, 0 },
	{ "vms.stop-timeout", parse_time, FIELD(stop_timeout_usec), 0, 3600 * USEC_PER_SEC },
	{ "vms.start-timeout", parse_time, FIELD(start_timeout_usec), 100 * USEC_PER_MSEC,
	  3600 * USEC_PER_SEC },
	{ "vms.user-runtime-dir", parse_absolute_path, FIELD(user_runtime_dir), 0, 0 },
};

/* The sections that hold further keys. */
static const char *const sections[] = { "access", "gpus", "limits", "sriov", "vms" };

int config_init(DaemonConfig *config)
{
	*config = (DaemonConfig){
		.socket_path = strdup(DEFAULT_SOCKET_PATH),
		.runtime_dir = strdup(DEFAULT_RUNTIME_DIR),
		.state_dir = strdup(DEFAULT_STATE_DIR),
		.sysfs_root = strdup("/"),
		.qemu_binary = strdup("qemu-system-x86_64"),
		.log_level = LOG_INFO,
		.max_message_size = 1024 * 1024,
		.client_timeout_usec = 30 * USEC_PER_SEC,
		.max_connections = 256,
		.max_connections_per_user = 16,
		.idle_timeout_usec = 60 * USEC_PER_SEC,
		.max_unread_output = UINT64_C(64) << 20,
		.sysfs_write_timeout_usec = 20 * USEC_PER_SEC,
		.vm_dir = strdup(DEFAULT_VM_DIR),
		.qemu_user = strdup("libvfio-qemu"),
		.accel = strdup("auto"),
		.stop_timeout_usec = 60 * USEC_PER_SEC,
		.start_timeout_usec = 120 * USEC_PER_SEC,
		.user_runtime_dir = strdup("/run/user"),
		.access_group = strdup("libvfio"),
	};
	if (!config->socket_path || !config->runtime_dir || !config->state_dir ||
	    !config->sysfs_root || !config->qemu_binary || !config->vm_dir || !config->qemu_user ||
	    !config->accel || !config->user_runtime_dir || !config->access_group) {
		config_done(config);
		return -ENOMEM;
	}
	return 0;
}

void config_done(DaemonConfig *config)
{
	free(config->socket_path);
	free(config->runtime_dir);
	free(config->state_dir);
	free(config->sysfs_root);
	free(config->qemu_binary);
	free(config->vm_dir);
	free(config->qemu_user);
	free(config->accel);
	free(config->user_runtime_dir);
	free(config->access_group);
	strv_free(config->extra_gpus);
	*config = (DaemonConfig){ 0 };
}

int config_copy(DaemonConfig *dst, const DaemonConfig *src)
{
	DaemonConfig copy = *src;
	copy.socket_path = strdup(src->socket_path);
	copy.runtime_dir = strdup(src->runtime_dir);
	copy.state_dir = strdup(src->state_dir);
	copy.sysfs_root = strdup(src->sysfs_root);
	copy.qemu_binary = strdup(src->qemu_binary);
	copy.vm_dir = strdup(src->vm_dir);
	copy.qemu_user = strdup(src->qemu_user);
	copy.accel = strdup(src->accel);
	copy.user_runtime_dir = strdup(src->user_runtime_dir);
	copy.access_group = strdup(src->access_group);
	copy.extra_gpus = NULL;
	bool lost = false;
	for (char **e = src->extra_gpus; e && *e && !lost; e++)
		lost = strv_append(&copy.extra_gpus, *e) < 0;
	if (lost || !copy.socket_path || !copy.runtime_dir || !copy.state_dir || !copy.sysfs_root ||
	    !copy.qemu_binary || !copy.vm_dir || !copy.qemu_user || !copy.accel ||
	    !copy.user_runtime_dir || !copy.access_group) {
		config_done(&copy);
		return -ENOMEM;
	}
	config_done(dst);
	*dst = copy;
	return 0;
}

static const Setting *find_setting(const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(settings); i++)
		if (strcmp(settings[i].key, key) == 0)
			return &settings[i];
	return NULL;
}

static int is_section(const char *key)
{
	for (size_t i = 0; i < ELEMENTSOF(sections); i++)
		if (strcmp(sections[i], key) == 0)
			return 1;
	return 0;
}

int config_set(DaemonConfig *config, const char *key, const char *value, char **ret_message)
{
	_cleanup_free_ char *problem_text = NULL;
	const Setting *setting = find_setting(key);

	*ret_message = NULL;
	if (!setting)
		return error_message(ret_message, -EINVAL, "%s: unknown key", key);
	int r = setting->parse(config, setting, value, &problem_text);
	if (r == -EINVAL)
		return error_message(ret_message, -EINVAL, "%s: %s", key,
				     problem_text ? problem_text : "bad value");
	return r;
}

_printf_(3, 4) static int file_error(char **ret_message, const char *path, const char *format, ...)
{
	_cleanup_free_ char *text = NULL;
	va_list ap;

	va_start(ap, format);
	if (vasprintf(&text, format, ap) < 0)
		text = NULL;
	va_end(ap);
	return error_message(ret_message, -EINVAL, "%s:%s", path,
			     text ? text : " bad configuration");
}

/* A YAML list of scalars as one text, its items separated by spaces; -EINVAL for another list. */
static int join_sequence(yaml_document_t *doc, yaml_node_t *node, char **ret)
{
	size_t length = 0;
	char *text = NULL;
	FILE *f = open_memstream(&text, &length);

	if (!f)
		return -ENOMEM;
	for (yaml_node_item_t *item = node->data.sequence.items.start;
	     item < node->data.sequence.items.top; item++) {
		const char *value = yaml_doc_scalar(yaml_document_get_node(doc, *item));
		if (!value || !value[0] || strchr(value, ' ')) {
			fclose(f);
			free(text);
			return -EINVAL;
		}
		fprintf(f, "%s ", value);
	}
	if (fclose(f) != 0) {
		free(text);
		return -ENOMEM;
	}
	*ret = text;
	return 0;
}

/* Applies every key of the mapping `node`, whose keys are prefixed with `prefix`. */
static int load_mapping(DaemonConfig *config, yaml_document_t *doc, yaml_node_t *node,
			const char *prefix, const char *path, char **ret_message)
{
	if (node->type != YAML_MAPPING_NODE)
		return file_error(ret_message, path, "%u: %s: expected a mapping of key: value",
				  yaml_doc_line(node), prefix[0] ? prefix : "top level");

	for (yaml_node_pair_t *pair = node->data.mapping.pairs.start;
	     pair < node->data.mapping.pairs.top; pair++) {
		yaml_node_t *key_node = yaml_document_get_node(doc, pair->key);
		yaml_node_t *value_node = yaml_document_get_node(doc, pair->value);
		const char *name = yaml_doc_scalar(key_node);
		char key[256];

		if (!name || strlen(name) > 128 || strchr(name, '.'))
			return file_error(ret_message, path, "%u: keys must be short plain names",
					  yaml_doc_line(key_node));
		snprintf(key, sizeof(key), "%s%s%s", prefix, prefix[0] ? "." : "", name);

		/* A key given twice is a mistake someone will spend an hour on. */
		for (yaml_node_pair_t *earlier = node->data.mapping.pairs.start; earlier < pair;
		     earlier++) {
			const char *earlier_name =
				yaml_doc_scalar(yaml_document_get_node(doc, earlier->key));
			if (earlier_name && strcmp(earlier_name, name) == 0)
				return file_error(ret_message, path, "%u: %s: given twice",
						  yaml_doc_line(key_node), key);
		}

		if (!prefix[0] && is_section(key)) {
			int r = load_mapping(config, doc, value_node, key, path, ret_message);
			if (r < 0)
				return r;
			continue;
		}

		const Setting *setting = find_setting(key);
		if (!setting)
			return file_error(ret_message, path, "%u: %s: unknown key",
					  yaml_doc_line(key_node), key);

		_cleanup_free_ char *joined = NULL;
		if (setting->parse == parse_gpu_list && value_node->type == YAML_SEQUENCE_NODE) {
			int r = join_sequence(doc, value_node, &joined);
			if (r == -EINVAL)
				return file_error(ret_message, path,
						  "%u: %s: a list of plain values",
						  yaml_doc_line(value_node), key);
			if (r < 0)
				return r;
		}
		const char *value = joined ? joined : yaml_doc_scalar(value_node);
		if (!value || (!value[0] && !joined))
			return file_error(ret_message, path, "%u: %s: needs a single value",
					  yaml_doc_line(value_node), key);

		_cleanup_free_ char *problem_text = NULL;
		int r = setting->parse(config, setting, value, &problem_text);
		if (r == -EINVAL)
			return file_error(ret_message, path, "%u: %s: %s",
					  yaml_doc_line(value_node), key,
					  problem_text ? problem_text : "bad value");
		if (r < 0)
			return r;
	}
	return 0;
}

int config_load_file(DaemonConfig *config, const char *path, char **ret_message)
{
	YamlDocError yaml_error;
	yaml_document_t doc;

	*ret_message = NULL;
	int r = yaml_doc_load_file(path, CONFIG_MAX_FILE_SIZE, &doc, &yaml_error);
	if (r == -ENOENT)
		return 0;
	if (r < 0) {
		_cleanup_free_ char *text = yaml_error.text;
		if (r != -EINVAL)
			return error_message(ret_message, -EINVAL, "%s: cannot read: %s", path,
					     strerror(-r));
		if (yaml_error.line > 0)
			return file_error(ret_message, path, "%u: %s", yaml_error.line,
					  text ? text : "malformed YAML");
		return file_error(ret_message, path, " %s", text ? text : "malformed YAML");
	}

	yaml_node_t *root = yaml_document_get_root_node(&doc);
	if (root && !(root->type == YAML_SCALAR_NODE && root->data.scalar.length == 0))
		r = load_mapping(config, &doc, root, "", path, ret_message);
	yaml_document_delete(&doc);
	return r;
}
