/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/authz.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "macro.h"

/* What a call found out from polkit, noted on it between its dispatches. */
enum {
	AUTHZ_NOTED_ALLOWED = 1,
	AUTHZ_NOTED_REFUSED,
};

/* More groups than this and the user's membership is not looked at further. */

AuthzVerdict authz_decide(AuthzAction action, const AuthzFacts *facts)
{
	if (facts->root)
		return AUTHZ_ALLOW;
	switch (action) {
	case AUTHZ_READ:
		return !facts->read_group_only || facts->in_group || facts->owner ? AUTHZ_ALLOW
										  : AUTHZ_DENY;
	case AUTHZ_VM_CONTROL:
		return facts->owner || facts->in_group ? AUTHZ_ALLOW : AUTHZ_ASK_POLKIT;
	case AUTHZ_VM_MANAGE:
	case AUTHZ_PARTITION_CREATE:
	case AUTHZ_PARTITION_DESTROY:
	case AUTHZ_VF_COUNT_SET:
		return AUTHZ_ASK_POLKIT;
	default:
		return AUTHZ_DENY;
	}
}

const char *authz_polkit_action(AuthzAction action)
{
	switch (action) {
	case AUTHZ_VM_CONTROL:
		return "io.libvfio.vm.control";
	case AUTHZ_VM_MANAGE:
	case AUTHZ_PARTITION_CREATE:
	case AUTHZ_PARTITION_DESTROY:
	case AUTHZ_VF_COUNT_SET:
		return "io.libvfio.manage";
	default:
		return NULL;
	}
}

ApiError authz_refusal(AuthzAction action, const char *method, const char *vm_name,
		       const char *group, char *buf, size_t size)
{
	static const char ask[] = "ask an administrator, run vfioctl with sudo, or with "
				  "--ask-password";
	const char *short_method = method ? strrchr(method, '.') : NULL;
	short_method = short_method ? short_method + 1 : "this call";

	switch (action) {
	case AUTHZ_READ:
		snprintf(buf, size,
			 "%s needs root or membership of group '%s' (access.read is group): ask "
			 "an administrator.",
			 short_method, group);
		return API_ERROR_PERMISSION_DENIED;
	case AUTHZ_VM_CONTROL:
		snprintf(buf, size,
			 "%s of VM '%s' needs you to be its owner, in group '%s', or allowed "
			 "polkit's io.libvfio.vm.control: %s.",
			 short_method, vm_name ? vm_name : "?", group, ask);
		return API_ERROR_VMS_PERMISSION_DENIED;
	case AUTHZ_VM_MANAGE:
		snprintf(buf, size, "%s of VMs needs root or polkit's io.libvfio.manage: %s.",
			 short_method, ask);
		return API_ERROR_VMS_PERMISSION_DENIED;
	case AUTHZ_PARTITION_CREATE:
	case AUTHZ_PARTITION_DESTROY:
	case AUTHZ_VF_COUNT_SET:
		snprintf(buf, size,
			 "%s of partitions needs root or polkit's io.libvfio.manage: %s.",
			 short_method, ask);
		return API_ERROR_PARTITIONS_PERMISSION_DENIED;
	default:
		snprintf(buf, size, "The daemon does not know this action.");
		return API_ERROR_INTERNAL;
	}
}

int authz_init(Authz *authz, sd_event *event, const DaemonConfig *config)
{
	*authz = (Authz){ .config = config };
	return polkit_new(event, &authz->polkit);
}

void authz_done(Authz *authz)
{
	authz->polkit = polkit_free(authz->polkit);
	authz->group_name = mfree(authz->group_name);
}

const struct ucred *authz_caller(const VarlinkCall *call)
{
	return varlink_call_peer(call);
}

/*
 * The id of the group called `name`, looked up when the name changed (at start
 * and after a reload that changed it), not at every call. -1 when there is none.
 */
static gid_t access_group_id(Authz *authz, const char *name)
{
	if (authz->group_name && strcmp(authz->group_name, name) == 0)
		return authz->group_id;
	char buf[16384];
	struct group gr, *grp = NULL;
	free(authz->group_name);
	authz->group_name = strdup(name);
	authz->group_id =
		getgrnam_r(name, &gr, buf, sizeof(buf), &grp) == 0 && grp ? grp->gr_gid : (gid_t)-1;
	if (authz->group_id == (gid_t)-1)
		log_notice("access.group '%s' does not exist: nobody is a member", name);
	return authz->group_id;
}

/* The owner of VM `name` as written in its definition, copied to `buf`; false when none. */
static bool vm_owner(Authz *authz, const char *name, char *buf, size_t size)
{
	return authz->vms && name && vm_manager_owner(authz->vms, name, buf, size);
}

static bool user_is(const char *user, uid_t uid)
{
	char buf[16384];
	struct passwd pw, *pwp = NULL;
	return getpwnam_r(user, &pw, buf, sizeof(buf), &pwp) == 0 && pwp && pwp->pw_uid == uid;
}

static int refuse(Authz *authz, VarlinkCall *call, AuthzAction action, const char *vm_name)
{
	char sentence[512];
	ApiError error = authz_refusal(action, varlink_call_method(call), vm_name,
				       authz->config->access_group, sentence, sizeof(sentence));
	int r = api_reply_errorf(call, error, "%s", sentence);
	return r < 0 && r != -ECONNRESET ? r : 0;
}

typedef struct AuthzQuestion {
	Authz *authz;
	VarlinkCall *call;
} AuthzQuestion;

static void on_polkit_answer(PolkitAnswer answer, void *userdata)
{
	AuthzQuestion *question = userdata;
	Authz *authz = question->authz;
	VarlinkCall *call = question->call;
	free(question);

	if (answer == POLKIT_ABSENT && !authz->told_no_polkit) {
		log_notice("polkit cannot be reached on the system bus: the owner and group '%s' "
			   "rules decide alone",
			   authz->config->access_group);
		authz->told_no_polkit = true;
	} else if (answer != POLKIT_ABSENT)
		authz->told_no_polkit = false; /* tell again when it goes away again */
	varlink_call_set_verdict(call,
				 answer == POLKIT_YES ? AUTHZ_NOTED_ALLOWED : AUTHZ_NOTED_REFUSED);
	if (answer != POLKIT_CANCELLED)
		varlink_call_redispatch(call); /* a no-op when the client has left */
	varlink_call_unref(call);
}

int authz_check(Authz *authz, VarlinkCall *call, AuthzAction action, const char *vm_name,
		bool interactive)
{
	const struct ucred *caller = authz_caller(call);
	char owner[256] = "";
	bool has_owner = false;

	AuthzFacts facts = { .root = caller->uid == 0,
			     .read_group_only = authz->config->access_read_group };
	if (!facts.root) {
		if (action != AUTHZ_READ || facts.read_group_only) {
			facts.in_group = varlink_call_peer_in_group(
				call, access_group_id(authz, authz->config->access_group));
			has_owner = vm_owner(authz, vm_name, owner, sizeof(owner));
			facts.owner = has_owner && user_is(owner, caller->uid);
		}
	}
	switch (authz_decide(action, &facts)) {
	case AUTHZ_ALLOW:
		return 1;
	case AUTHZ_DENY:
		return refuse(authz, call, action, vm_name);
	case AUTHZ_ASK_POLKIT:
		break;
	}

	switch (varlink_call_verdict(call)) {
	case AUTHZ_NOTED_ALLOWED:
		return 1;
	case AUTHZ_NOTED_REFUSED:
		return refuse(authz, call, action, vm_name);
	}

	AuthzQuestion *question = calloc(1, sizeof(*question));
	if (!question)
		return -ENOMEM;
	*question = (AuthzQuestion){ .authz = authz, .call = varlink_call_ref(call) };
	const char *details[] = { vm_name ? "vm" : NULL, vm_name, has_owner ? "owner" : NULL, owner,
				  NULL };
	const char *const *d = details;
	if (!vm_name) /* no VM: no details */
		d = details + 4;
	else if (!has_owner) /* a VM without owner: vm only */
		details[2] = NULL;
	int r = polkit_check(authz->polkit, caller, varlink_call_peer_start_time(call),
			     authz_polkit_action(action), d, interactive, on_polkit_answer,
			     question);
	if (r < 0) {
		varlink_call_unref(question->call);
		free(question);
		return r;
	}
	return 0;
}
