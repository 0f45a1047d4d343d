/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The partition engine object: the partitions it holds, and its queue of
 * operations, run one at a time. Running an operation is operation.c's,
 * deciding its steps partition_plan.c's, the start reconcile.c's.
 */
#include "partitions/partitions.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "base/loop_watch.h"
#include "macro.h"
#include "parse_util.h"
#include "partitions/engine_internal.h"
#include "partitions/partition_plan.h"

/* Unbinding a GPU driver can take seconds; longer than this (by default), it is stuck. */
#define DEFAULT_WRITE_TIMEOUT_USEC (20 * USEC_PER_SEC)

void operation_free(Operation *op)
{
	if (!op)
		return;
	if (op->host_wait)
		host_cache_wait_cancel(op->engine->host, op->host_wait);
	operation_cancel_users(op);
	partition_record_done(&op->record);
	free(op->type);
	free(op->parent);
	free(op);
}

/* ---- the held partitions ---- */

static int compare_records(const void *a, const void *b)
{
	return strcmp(((const PartitionRecord *)a)->id, ((const PartitionRecord *)b)->id);
}

int engine_hold(PartitionEngine *engine, PartitionRecord *record)
{
	PartitionRecord *p =
		reallocarray(engine->records, engine->n_records + 1, sizeof(PartitionRecord));
	if (!p)
		return -ENOMEM;
	engine->records = p;
	p[engine->n_records++] = *record;
	*record = (PartitionRecord){ 0 };
	qsort(engine->records, engine->n_records, sizeof(PartitionRecord), compare_records);
	return 0;
}

PartitionRecord *engine_find(PartitionEngine *engine, const char *id)
{
	for (size_t i = 0; i < engine->n_records; i++)
		if (strcmp(engine->records[i].id, id) == 0)
			return &engine->records[i];
	return NULL;
}

/* Moves a held record out of the engine into *ret. */
static void engine_release(PartitionEngine *engine, PartitionRecord *record, PartitionRecord *ret)
{
	size_t i = (size_t)(record - engine->records);
	*ret = *record;
	memmove(&engine->records[i], &engine->records[i + 1],
		(engine->n_records - i - 1) * sizeof(PartitionRecord));
	engine->n_records--;
}

const PartitionRecord *partition_engine_records(const PartitionEngine *engine, size_t *ret_n)
{
	*ret_n = engine->n_records;
	return engine->records;
}

HeldPartition *engine_held(const PartitionEngine *engine, size_t *ret_n)
{
	return partition_plan_held(engine->records, engine->n_records, ret_n);
}

/* ---- the queue: one operation at a time, so two can never choose the same partition ---- */

static int on_kick(sd_event_source *source, void *userdata)
{
	loop_watch_enter(source);
	PartitionEngine *engine = userdata;
	Operation *op = engine->queue;

	if (!op)
		return 0;
	switch (op->kind) {
	case OPERATION_DESTROY:
		operation_undo(engine, op, 0);
		break;
	case OPERATION_SET_VFS:
		operation_start_set_vfs(engine, op);
		break;
	default:
		operation_start_create(engine, op);
	}
	return 0;
}

void engine_enqueue(PartitionEngine *engine, Operation *op)
{
	Operation **tail = &engine->queue;
	bool idle = !engine->queue;
	while (*tail)
		tail = &(*tail)->next;
	*tail = op;
	if (idle)
		(void)sd_event_source_set_enabled(engine->kick, SD_EVENT_ONESHOT);
}

int partition_engine_create(PartitionEngine *engine, const PartitionRequest *request,
			    const char *holder, PartitionCallback callback, void *userdata)
{
	Operation *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (Operation){
		.engine = engine, .request = *request, .callback = callback, .userdata = userdata
	};
	op->record.holder = strdup(holder);
	op->type = request->type ? strdup(request->type) : NULL;
	op->parent = request->parent ? strdup(request->parent) : NULL;
	if (!op->record.holder || (request->type && !op->type) ||
	    (request->parent && !op->parent)) {
		operation_free(op);
		return -ENOMEM;
	}
	op->request.type = op->type;
	op->request.parent = op->parent;
	engine_enqueue(engine, op);
	return 0;
}

int partition_engine_destroy(PartitionEngine *engine, const char *id, PartitionCallback callback,
			     void *userdata)
{
	PartitionRecord *record = engine_find(engine, id);
	if (!record)
		return -ENOENT;
	Operation *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (Operation){ .engine = engine,
			   .kind = OPERATION_DESTROY,
			   .callback = callback,
			   .userdata = userdata };
	/* No longer handed out from now on; the record on disk stays until it is undone. */
	engine_release(engine, record, &op->record);
	engine_enqueue(engine, op);
	return 0;
}

int partition_engine_set_vf_count(PartitionEngine *engine, const PciAddress *gpu, unsigned count,
				  PartitionCallback callback, void *userdata)
{
	Operation *op = calloc(1, sizeof(*op));
	if (!op)
		return -ENOMEM;
	*op = (Operation){ .engine = engine,
			   .kind = OPERATION_SET_VFS,
			   .target = *gpu,
			   .count = count,
			   .callback = callback,
			   .userdata = userdata };
	engine_enqueue(engine, op);
	return 0;
}

int partition_engine_new(sd_event *event, HostCache *host, const char *runtime_dir,
			 PartitionEngine **ret)
{
	PartitionEngine *engine = calloc(1, sizeof(*engine));
	if (!engine)
		return -ENOMEM;
	engine->event = sd_event_ref(event);
	engine->host = host;
	engine->write_timeout_usec = DEFAULT_WRITE_TIMEOUT_USEC;
	int r = asprintf(&engine->directory, "%s/partitions", runtime_dir) < 0 ||
				asprintf(&engine->autoprobe_directory, "%s/autoprobe",
					 runtime_dir) < 0
			? -ENOMEM
			: 0;
	if (r >= 0)
		r = sysfs_writer_new(event, &engine->writer);
	if (r >= 0)
		r = sd_event_add_defer(event, &engine->kick, on_kick, engine);
	if (r >= 0)
		(void)sd_event_source_set_description(engine->kick, "partition engine");
	if (r >= 0)
		r = sd_event_source_set_enabled(engine->kick, SD_EVENT_OFF);
	if (r < 0) {
		partition_engine_free(engine);
		return r;
	}
	*ret = engine;
	return 0;
}

void partition_engine_set_write_timeout(PartitionEngine *engine, uint64_t usec)
{
	engine->write_timeout_usec = usec;
}

void partition_engine_set_keep_vfs(PartitionEngine *engine, bool keep)
{
	engine->keep_vfs = keep;
}

PartitionEngine *partition_engine_free(PartitionEngine *engine)
{
	if (!engine)
		return NULL;
	/* Cancels the write under way (its callback sees -ECANCELED and must not go on). */
	Operation *queue = TAKE_PTR(engine->queue);
	engine->writer = sysfs_writer_free(engine->writer);
	while (queue) {
		Operation *next = queue->next;
		operation_free(queue);
		queue = next;
	}
	for (size_t i = 0; i < engine->n_records; i++)
		partition_record_done(&engine->records[i]);
	free(engine->records);
	autoprobe_records_done(&engine->autoprobe);
	sd_event_source_disable_unref(engine->kick);
	free(engine->directory);
	free(engine->autoprobe_directory);
	sd_event_unref(engine->event);
	free(engine);
	return NULL;
}
