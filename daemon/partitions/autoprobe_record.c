/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "partitions/autoprobe_record.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_records.h"
#include "json_util.h"
#include "macro.h"

/* A record is some 60 bytes; a host has far fewer SR-IOV PFs than this. */
#define AUTOPROBE_RECORD_MAX_SIZE 4096
#define AUTOPROBE_RECORD_MAX_FILES 4096

json_object *autoprobe_record_to_json(const AutoprobeRecord *record)
{
	char pf[PCI_ADDRESS_TEXT_SIZE];
	_cleanup_json_ json_object *o = json_object_new_object();

	if (!o || json_add_string(o, "pf", pci_address_format(&record->pf, pf)) < 0 ||
	    json_add_bool(o, "autoprobeBefore", record->before) < 0)
		return NULL;
	return TAKE_PTR(o);
}

int autoprobe_record_from_json(json_object *o, AutoprobeRecord *ret)
{
	json_object *pf, *before;
	AutoprobeRecord record;

	if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, "pf", &pf) ||
	    !json_object_is_type(pf, json_type_string) ||
	    pci_address_parse(json_object_get_string(pf), &record.pf) < 0 ||
	    !json_object_object_get_ex(o, "autoprobeBefore", &before) ||
	    !json_object_is_type(before, json_type_boolean))
		return -EINVAL;
	record.before = json_object_get_boolean(before);
	*ret = record;
	return 0;
}

/* One file, named for its PF; one named otherwise would hide another. */
static int parse_record(json_object *object, const char *name, void *element, char *problem,
			size_t problem_size)
{
	AutoprobeRecord *record = element;
	char pf[PCI_ADDRESS_TEXT_SIZE];

	if (autoprobe_record_from_json(object, record) < 0) {
		snprintf(problem, problem_size, "is damaged");
		return 0;
	}
	if (strcmp(name, pci_address_format(&record->pf, pf)) != 0) {
		snprintf(problem, problem_size, "names another PF");
		return 0;
	}
	return 1;
}

static void record_done(void *element)
{
	(void)element; /* nothing owned */
}

int autoprobe_records_load(AutoprobeRecords *set, const char *directory, char ***ret_problems)
{
	void *records = NULL;
	size_t n = 0;

	*set = (AutoprobeRecords){ 0 };
	set->directory = strdup(directory);
	if (!set->directory)
		return -ENOMEM;
	int r = json_record_load_all(directory, AUTOPROBE_RECORD_MAX_FILES,
				     AUTOPROBE_RECORD_MAX_SIZE, sizeof(AutoprobeRecord),
				     parse_record, record_done, &records, &n, ret_problems);
	if (r < 0) {
		autoprobe_records_done(set);
		return r;
	}
	set->records = records;
	set->n_records = n;
	return 0;
}

void autoprobe_records_done(AutoprobeRecords *set)
{
	free(set->directory);
	free(set->records);
	*set = (AutoprobeRecords){ 0 };
}

static AutoprobeRecord *find(const AutoprobeRecords *set, const PciAddress *pf)
{
	for (size_t i = 0; i < set->n_records; i++)
		if (pci_address_compare(&set->records[i].pf, pf) == 0)
			return &set->records[i];
	return NULL;
}

int autoprobe_records_find(const AutoprobeRecords *set, const PciAddress *pf)
{
	const AutoprobeRecord *record = find(set, pf);
	return record ? record->before : -ENOENT;
}

int autoprobe_records_add(AutoprobeRecords *set, const PciAddress *pf, bool before)
{
	AutoprobeRecord record = { .pf = *pf, .before = before };
	char name[PCI_ADDRESS_TEXT_SIZE];

	if (find(set, pf))
		return 0;
	if (!set->directory)
		return -EINVAL; /* never loaded: nowhere to write it down */
	AutoprobeRecord *records =
		reallocarray(set->records, set->n_records + 1, sizeof(AutoprobeRecord));
	if (!records)
		return -ENOMEM;
	set->records = records;
	_cleanup_json_ json_object *o = autoprobe_record_to_json(&record);
	if (!o)
		return -ENOMEM;
	int r = json_record_save(set->directory, pci_address_format(pf, name), o);
	if (r < 0)
		return r;
	set->records[set->n_records++] = record;
	return 0;
}

int autoprobe_records_remove(AutoprobeRecords *set, const PciAddress *pf)
{
	AutoprobeRecord *record = find(set, pf);
	char name[PCI_ADDRESS_TEXT_SIZE];

	if (!record)
		return 0;
	int r = json_record_remove(set->directory, pci_address_format(pf, name));
	if (r < 0)
		return r;
	size_t i = (size_t)(record - set->records);
	memmove(&set->records[i], &set->records[i + 1],
		(set->n_records - i - 1) * sizeof(AutoprobeRecord));
	set->n_records--;
	return 0;
}
