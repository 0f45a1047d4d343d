/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/errors.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "json_util.h"
#include "macro.h"
#include "pci_address.h"

static const char *const api_error_table[_API_ERROR_MAX] = {
	[API_ERROR_MESSAGE_TOO_LARGE] = "io.libvfio.Manager.MessageTooLarge",
	[API_ERROR_TOO_MANY_CONNECTIONS] = "io.libvfio.Manager.TooManyConnections",
	[API_ERROR_TIMEOUT] = "io.libvfio.Manager.Timeout",
	[API_ERROR_PROTOCOL] = "io.libvfio.Manager.ProtocolError",
	[API_ERROR_PERMISSION_DENIED] = "io.libvfio.Manager.PermissionDenied",
	[API_ERROR_INTERNAL] = "io.libvfio.Manager.InternalError",
	[API_ERROR_HOST_NO_SUCH_GPU] = "io.libvfio.Host.NoSuchGPU",
	[API_ERROR_PARTITIONS_PERMISSION_DENIED] = "io.libvfio.Partitions.PermissionDenied",
	[API_ERROR_PARTITIONS_NO_SUCH_PARTITION] = "io.libvfio.Partitions.NoSuchPartition",
	[API_ERROR_PARTITIONS_NO_SUCH_GPU] = "io.libvfio.Partitions.NoSuchGPU",
	[API_ERROR_PARTITIONS_NOT_A_GPU] = "io.libvfio.Partitions.NotAGPU",
	[API_ERROR_PARTITIONS_NO_MATCHING_GPU] = "io.libvfio.Partitions.NoMatchingGPU",
	[API_ERROR_PARTITIONS_MODE_UNSUPPORTED] = "io.libvfio.Partitions.ModeUnsupported",
	[API_ERROR_PARTITIONS_UNKNOWN_TYPE] = "io.libvfio.Partitions.UnknownType",
	[API_ERROR_PARTITIONS_NONE_FREE] = "io.libvfio.Partitions.NoneFree",
	[API_ERROR_PARTITIONS_BOOT_DISPLAY] = "io.libvfio.Partitions.BootDisplay",
	[API_ERROR_PARTITIONS_GROUP_NOT_ISOLATED] = "io.libvfio.Partitions.GroupNotIsolated",
	[API_ERROR_PARTITIONS_BUSY] = "io.libvfio.Partitions.Busy",
	[API_ERROR_PARTITIONS_DEVICE_IN_USE] = "io.libvfio.Partitions.DeviceInUse",
	[API_ERROR_PARTITIONS_DEVICE_VANISHED] = "io.libvfio.Partitions.DeviceVanished",
	[API_ERROR_PARTITIONS_FAILED] = "io.libvfio.Partitions.Failed",
	[API_ERROR_VMS_NO_SUCH_VM] = "io.libvfio.VMs.NoSuchVM",
	[API_ERROR_VMS_INVALID_DEFINITION] = "io.libvfio.VMs.InvalidDefinition",
	[API_ERROR_VMS_VM_EXISTS] = "io.libvfio.VMs.VMExists",
	[API_ERROR_VMS_WRONG_STATE] = "io.libvfio.VMs.WrongState",
	[API_ERROR_VMS_START_FAILED] = "io.libvfio.VMs.StartFailed",
	[API_ERROR_VMS_PERMISSION_DENIED] = "io.libvfio.VMs.PermissionDenied",
};

DEFINE_STRING_TABLE_LOOKUP(api_error, ApiError)

ApiError api_error_from_alloc(AllocError error)
{
	switch (error) {
	case ALLOC_NO_SUCH_GPU:
		return API_ERROR_PARTITIONS_NO_SUCH_GPU;
	case ALLOC_NOT_A_GPU:
		return API_ERROR_PARTITIONS_NOT_A_GPU;
	case ALLOC_NO_MATCHING_GPU:
		return API_ERROR_PARTITIONS_NO_MATCHING_GPU;
	case ALLOC_MODE_UNSUPPORTED:
		return API_ERROR_PARTITIONS_MODE_UNSUPPORTED;
	case ALLOC_UNKNOWN_TYPE:
	case ALLOC_NO_SUCH_TYPE:
		return API_ERROR_PARTITIONS_UNKNOWN_TYPE;
	case ALLOC_NONE_FREE:
		return API_ERROR_PARTITIONS_NONE_FREE;
	case ALLOC_BOOT_VGA:
		return API_ERROR_PARTITIONS_BOOT_DISPLAY;
	case ALLOC_NOT_ISOLATED:
		return API_ERROR_PARTITIONS_GROUP_NOT_ISOLATED;
	case ALLOC_HELD:
		return API_ERROR_PARTITIONS_BUSY;
	case ALLOC_DEVICE_IN_USE:
		return API_ERROR_PARTITIONS_DEVICE_IN_USE;
	case ALLOC_OK:
	case _ALLOC_ERROR_MAX:
		break;
	}
	return _API_ERROR_INVALID;
}

ApiError api_error_from_partition_result(int result)
{
	return result == -ENODEV ? API_ERROR_PARTITIONS_DEVICE_VANISHED
				 : API_ERROR_PARTITIONS_FAILED;
}

ApiError api_error_from_vm_failure(VmFailure failure)
{
	switch (failure) {
	case VM_FAIL_NO_SUCH_VM:
		return API_ERROR_VMS_NO_SUCH_VM;
	case VM_FAIL_INVALID_DEFINITION:
		return API_ERROR_VMS_INVALID_DEFINITION;
	case VM_FAIL_EXISTS:
		return API_ERROR_VMS_VM_EXISTS;
	case VM_FAIL_WRONG_STATE:
		return API_ERROR_VMS_WRONG_STATE;
	case VM_FAIL_START:
		return API_ERROR_VMS_START_FAILED;
	case VM_FAIL_INTERNAL:
		return API_ERROR_INTERNAL;
	case VM_OK:
	case VM_FAIL_PARTITION:
		break;
	}
	return _API_ERROR_INVALID;
}

int api_reply_error(VarlinkCall *call, ApiError error, json_object *parameters)
{
	const char *name = api_error_to_string(error);
	if (!name) {
		json_object_put(parameters);
		return -EINVAL;
	}
	return varlink_call_reply_error(call, name, parameters);
}

int api_reply_errorf(VarlinkCall *call, ApiError error, const char *format, ...)
{
	const char *name = api_error_to_string(error);
	char message[1024]; /* as long as the server's own */
	va_list ap;

	if (!name)
		return -EINVAL;
	va_start(ap, format);
	(void)vsnprintf(message, sizeof(message), format, ap);
	va_end(ap);
	return varlink_call_reply_errorf(call, name, "%s", message);
}

int api_reply_out_of_memory(VarlinkCall *call)
{
	return api_reply_errorf(call, API_ERROR_INTERNAL, "The daemon ran out of memory.");
}

/* The AllocError of an outcome: its error, what it is about, and the engine's sentence. */
static void reply_alloc_error(VarlinkCall *call, const PartitionOutcome *outcome)
{
	char buf[PCI_ADDRESS_TEXT_SIZE];
	json_object *parameters = json_object_new_object();
	/* A type nobody offers is about no GPU. */
	const char *address = outcome->error == ALLOC_NO_SUCH_TYPE ? NULL
			      : outcome->parent                    ? outcome->parent
						: pci_address_format(&outcome->gpu, buf);

	if (parameters && json_add_string(parameters, "address", address) >= 0 &&
	    json_add_string(parameters, "message", outcome->message) >= 0)
		(void)api_reply_error(call, api_error_from_alloc(outcome->error), parameters);
	else
		json_object_put(parameters);
}

void api_reply_partition_failure(VarlinkCall *call, const PartitionOutcome *outcome)
{
	if (outcome->error != ALLOC_OK)
		reply_alloc_error(call, outcome);
	else
		(void)api_reply_errorf(call, api_error_from_partition_result(outcome->result), "%s",
				       outcome->message);
}

void api_reply_vm_error(VarlinkCall *call, ApiError error, const char *name, const char *state,
			const char *message)
{
	json_object *parameters = json_object_new_object();
	if (!parameters || (name && json_add_string(parameters, "name", name) < 0) ||
	    (state && json_add_string(parameters, "state", state) < 0) ||
	    json_add_string(parameters, "message", message) < 0) {
		json_object_put(parameters);
		(void)api_reply_out_of_memory(call);
		return;
	}
	(void)api_reply_error(call, error, parameters);
}

void api_reply_vm_failure(VarlinkCall *call, const char *name, const VmOutcome *outcome)
{
	const char *message = outcome->message ? outcome->message : "The call failed.";
	ApiError error = api_error_from_vm_failure(outcome->failure);

	switch (outcome->failure) {
	case VM_FAIL_NO_SUCH_VM:
	case VM_FAIL_EXISTS:
	case VM_FAIL_START:
		api_reply_vm_error(call, error, name, NULL, message);
		break;
	case VM_FAIL_INVALID_DEFINITION:
		api_reply_vm_error(call, error, NULL, NULL, message);
		break;
	case VM_FAIL_WRONG_STATE:
		api_reply_vm_error(call, error, name,
				   outcome->vm ? vm_state_to_string(outcome->vm->state) : "unknown",
				   message);
		break;
	case VM_FAIL_PARTITION:
		api_reply_partition_failure(call, outcome->partition);
		break;
	default:
		(void)api_reply_errorf(call, API_ERROR_INTERNAL, "%s", message);
		break;
	}
}
