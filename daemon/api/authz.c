/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/authz.h"

#include "macro.h"

/* What a non-root caller is told, per action; the wire error goes with the interface. */
static const AuthzRefusal refusals[_AUTHZ_ACTION_MAX] = {
	[AUTHZ_VM_MANAGE] = { API_ERROR_VMS_PERMISSION_DENIED,
			      "Only root may change VMs for now (run vfioctl with sudo)." },
	[AUTHZ_VM_CONTROL] = { API_ERROR_VMS_PERMISSION_DENIED,
			       "Only root may change VMs for now (run vfioctl with sudo)." },
	[AUTHZ_PARTITION_CREATE] = { API_ERROR_PARTITIONS_PERMISSION_DENIED,
				     "Only root may create partitions for now (run vfioctl with "
				     "sudo)." },
	[AUTHZ_PARTITION_DESTROY] = { API_ERROR_PARTITIONS_PERMISSION_DENIED,
				      "Only root may destroy partitions for now (run vfioctl "
				      "with sudo)." },
	[AUTHZ_VF_COUNT_SET] = { API_ERROR_PARTITIONS_PERMISSION_DENIED,
				 "Only root may change VF counts for now (run vfioctl with "
				 "sudo)." },
};

const struct ucred *authz_caller(const VarlinkCall *call)
{
	return varlink_call_peer(call);
}

bool authz_decide(const struct ucred *caller, AuthzAction action, const char *vm_name,
		  AuthzRefusal *ret_refusal)
{
	(void)vm_name; /* for the VM's owner, later */

	if (action == AUTHZ_READ || caller->uid == 0)
		return true;
	if ((unsigned)action < ELEMENTSOF(refusals) && refusals[action].message)
		*ret_refusal = refusals[action];
	else /* an action without a sentence is refused all the same */
		*ret_refusal = (AuthzRefusal){ API_ERROR_INTERNAL,
					       "The daemon does not know this action." };
	return false;
}

int authz_check(VarlinkCall *call, AuthzAction action, const char *vm_name)
{
	AuthzRefusal refusal;

	if (authz_decide(authz_caller(call), action, vm_name, &refusal))
		return 1;
	int r = api_reply_errorf(call, refusal.error, "%s", refusal.message);
	return r < 0 ? r : 0;
}
