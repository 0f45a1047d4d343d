/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The io.libvfio errors on the wire: the one place their names are spelled
 * (as the .varlink files in common/ declare them), and the one switch from
 * the domain's outcomes (an AllocError, a VmFailure, a partition engine that
 * failed) to them. The layers below report codes and sentences and know no
 * Varlink; the faces (*_api.c) reply through here. Every io.libvfio error
 * carries "message", a sentence that says what to do.
 *
 * vfioctl does not include this: it shows the name and the sentence it gets,
 * and names its own local failures (io.libvfio.Client.*) itself.
 */
#pragma once

#include <errno.h>

#include "api/server.h"
#include "partitions/alloc.h"
#include "partitions/partitions.h"
#include "string_table.h"
#include "vm/vm.h"

typedef enum ApiError {
	/* io.libvfio.Manager: what any call can end with */
	API_ERROR_MESSAGE_TOO_LARGE,
	API_ERROR_TOO_MANY_CONNECTIONS,
	API_ERROR_TIMEOUT,
	API_ERROR_PROTOCOL,
	API_ERROR_INTERNAL,
	API_ERROR_PERMISSION_DENIED, /* reading, where access.read is group */
	/* io.libvfio.Host */
	API_ERROR_HOST_NO_SUCH_GPU,
	/* io.libvfio.Partitions */
	API_ERROR_PARTITIONS_PERMISSION_DENIED,
	API_ERROR_PARTITIONS_NO_SUCH_PARTITION,
	API_ERROR_PARTITIONS_NO_SUCH_GPU,
	API_ERROR_PARTITIONS_NOT_A_GPU,
	API_ERROR_PARTITIONS_NO_MATCHING_GPU,
	API_ERROR_PARTITIONS_MODE_UNSUPPORTED,
	API_ERROR_PARTITIONS_UNKNOWN_TYPE,
	API_ERROR_PARTITIONS_NONE_FREE,
	API_ERROR_PARTITIONS_BOOT_DISPLAY,
	API_ERROR_PARTITIONS_GROUP_NOT_ISOLATED,
	API_ERROR_PARTITIONS_BUSY,
	API_ERROR_PARTITIONS_DEVICE_IN_USE,
	API_ERROR_PARTITIONS_DEVICE_VANISHED,
	API_ERROR_PARTITIONS_FAILED,
	/* io.libvfio.VMs */
	API_ERROR_VMS_NO_SUCH_VM,
	API_ERROR_VMS_INVALID_DEFINITION,
	API_ERROR_VMS_VM_EXISTS,
	API_ERROR_VMS_WRONG_STATE,
	API_ERROR_VMS_START_FAILED,
	API_ERROR_VMS_PERMISSION_DENIED,
	_API_ERROR_MAX,
	_API_ERROR_INVALID = -EINVAL,
} ApiError;

/* api_error_to_string(): the wire name ("io.libvfio.VMs.NoSuchVM"); and back. */
DECLARE_STRING_TABLE_LOOKUP(api_error, ApiError);

/*
 * The error for why no partition fits; _API_ERROR_INVALID for ALLOC_OK and
 * values outside the enum. A type unknown to the GPU asked for and one unknown
 * to the whole host are both UnknownType (the sentence and the address tell
 * them apart).
 */
ApiError api_error_from_alloc(AllocError error);

/* The error for a partition engine that failed (`result` < 0) not for the choice. */
ApiError api_error_from_partition_result(int result);

/* The error for a VM call's failure; _API_ERROR_INVALID for VM_OK and VM_FAIL_PARTITION. */
ApiError api_error_from_vm_failure(VmFailure failure);

/* Replies `error`; takes `parameters` (NULL for {}). */
int api_reply_error(VarlinkCall *call, ApiError error, json_object *parameters);

/* Replies `error` with only "message", formatted like printf. */
int api_reply_errorf(VarlinkCall *call, ApiError error, const char *format, ...)
	__attribute__((format(printf, 3, 4)));

/* InternalError "The daemon ran out of memory.". */
int api_reply_out_of_memory(VarlinkCall *call);

/*
 * Replies the failure of a partition engine call: the io.libvfio.Partitions
 * error for why no partition fits (with the GPU or parent it is about), or
 * for what the kernel refused. Also used by calls that create partitions on
 * the way (a VM's Start).
 */
void api_reply_partition_failure(VarlinkCall *call, const PartitionOutcome *outcome);

/*
 * Replies an io.libvfio.VMs error about the VM `name` (NULL: none), with the
 * `state` it is in (NULL: none) and `message`; InternalError when out of memory.
 */
void api_reply_vm_error(VarlinkCall *call, ApiError error, const char *name, const char *state,
			const char *message);

/*
 * Replies the failure of a VM call about the VM `name` (NULL when the call
 * named none, as Define), with the state it is in where that is the reason.
 */
void api_reply_vm_failure(VarlinkCall *call, const char *name, const VmOutcome *outcome);
