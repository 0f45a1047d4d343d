/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What libvfio owes the host of sriov_drivers_autoprobe. New VFs must come
 * up without a host driver, so libvfio turns a PF's autoprobe off before it
 * enables them (sriov.h). The setting is the administrator's: its value
 * before is written down first, one record per PF in RUNTIME_DIR/autoprobe/
 * (json_records.h: atomic, and kept until the next boot), and put back by whatever removes the
 * PF's last VF: 'vfioctl vfs PF 0', the release of the partition that made
 * the VFs, or the next start when a daemon died in between. A PF has one
 * record however often autoprobe is turned off: the first change is the one
 * that knows the administrator's value. The records are also kept in memory;
 * only the load, save and remove do I/O.
 */
#pragma once

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "pci_address.h"

typedef struct AutoprobeRecord {
	PciAddress pf;
	bool before; /* sriov_drivers_autoprobe before libvfio turned it off */
} AutoprobeRecord;

typedef struct AutoprobeRecords {
	char *directory;
	AutoprobeRecord *records;
	size_t n_records;
} AutoprobeRecords;

/* Pure conversions; from_json returns -EINVAL for anything but a record. */
json_object *autoprobe_record_to_json(const AutoprobeRecord *record);
int autoprobe_record_from_json(json_object *object, AutoprobeRecord *ret);

/*
 * Reads every record in `directory` (which the set keeps). A damaged record
 * is skipped with a sentence in *ret_problems (strv); only -ENOMEM fails.
 */
int autoprobe_records_load(AutoprobeRecords *set, const char *directory, char ***ret_problems);
void autoprobe_records_done(AutoprobeRecords *set);

/* The value recorded for `pf` (0 or 1), or -ENOENT. */
int autoprobe_records_find(const AutoprobeRecords *set, const PciAddress *pf);

/*
 * Writes down (before the caller changes anything) that `pf` had
 * autoprobe `before`. A PF recorded already keeps its first value: 0.
 */
int autoprobe_records_add(AutoprobeRecords *set, const PciAddress *pf, bool before);

/* Forgets `pf`, once its autoprobe is put back. Not recorded is fine. */
int autoprobe_records_remove(AutoprobeRecords *set, const PciAddress *pf);
