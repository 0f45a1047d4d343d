/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "partitions/reconcile.h"

#include <errno.h>
#include <stdlib.h>

#include "base/log.h"
#include "partitions/engine_internal.h"
#include "strv.h"

/*
 * Runs the loop until the undo operations queued at start are done, so that
 * clients find the host as it should be; but not past a write that is stuck
 * (the kernel may never answer): the rest then goes on while clients are
 * served. False when the loop was told to exit meanwhile.
 */
static bool finish_leftovers(PartitionEngine *engine)
{
	while (engine->queue && !engine->queue->stuck) {
		int state = sd_event_get_state(engine->event);
		if (state == SD_EVENT_FINISHED || state == SD_EVENT_EXITING)
			return false;
		if (sd_event_run(engine->event, UINT64_MAX) < 0)
			return false;
	}
	if (engine->queue)
		log_warning("Undoing partition %s is stuck in the kernel; serving clients "
			    "meanwhile, it goes on when the write returns",
			    engine->queue->record.id);
	return true;
}

/*
 * Queues, after the partitions' undo, a check of each PF whose autoprobe
 * libvfio turned off: one left with no VFs (a daemon died between the writes,
 * or the last VF went while none ran) gets it back. One with VFs keeps it off.
 */
static int reconcile_autoprobe(PartitionEngine *engine)
{
	const char *directory = engine->autoprobe_directory;
	char **problems = NULL;

	autoprobe_records_done(&engine->autoprobe);
	int r = autoprobe_records_load(&engine->autoprobe, directory, &problems);
	for (size_t i = 0; problems && problems[i]; i++)
		log_warning("Autoprobe records: %s", problems[i]);
	strv_free(problems);
	if (r < 0)
		return log_error_errno(r, "Cannot read the autoprobe records in %s", directory);
	for (size_t i = 0; i < engine->autoprobe.n_records; i++) {
		Operation *op = calloc(1, sizeof(*op));
		if (!op)
			return -ENOMEM;
		*op = (Operation){ .engine = engine,
				   .kind = OPERATION_SET_VFS,
				   .target = engine->autoprobe.records[i].pf,
				   .count = 0,
				   .leftover = true };
		engine_enqueue(engine, op);
	}
	return 0;
}

int partition_engine_reconcile(PartitionEngine *engine)
{
	PartitionRecord *records = NULL;
	char **problems = NULL;
	size_t n = 0;

	int r = partition_record_load_all(engine->directory, &records, &n, &problems);
	for (size_t i = 0; problems && problems[i]; i++)
		log_warning("Partition records: %s", problems[i]);
	strv_free(problems);
	if (r < 0)
		return log_error_errno(r, "Cannot read the partition records in %s",
				       engine->directory);

	for (size_t i = 0; i < n; i++) {
		PartitionRecord *record = &records[i];
		LogField fields[3];
		/*
		 * A finished partition is adopted: a manual one lives until Destroy,
		 * a VM's is kept or released by the VM manager, which knows whether
		 * its QEMU still runs.
		 */
		if (record->active) {
			log_full_errno_fields(LOG_INFO, 0, partition_log_fields(record, fields), 2,
					      "Adopted partition %s", record->id);
			if (engine_hold(engine, record) < 0)
				r = -ENOMEM;
			continue;
		}
		log_full_errno_fields(
			LOG_NOTICE, 0,
			partition_event_fields(record, MESSAGE_ID_PARTITION_LEAKED, fields), 3,
			"Undoing partition %s, left unfinished by a previous libvfiod", record->id);
		/* A normal release (off the loop, with the write timeout), in full. */
		Operation *op = calloc(1, sizeof(*op));
		if (!op) {
			r = -ENOMEM;
			continue;
		}
		*op = (Operation){ .engine = engine, .kind = OPERATION_DESTROY, .leftover = true };
		op->record = *record;
		*record = (PartitionRecord){ 0 };
		engine_enqueue(engine, op);
	}
	for (size_t i = 0; i < n; i++)
		partition_record_done(&records[i]);
	free(records);
	if (r >= 0)
		r = reconcile_autoprobe(engine);
	if (r >= 0 && !finish_leftovers(engine))
		r = -ECANCELED;
	return r;
}
