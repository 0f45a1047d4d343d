/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Authorization: who a caller is, and whether they may do an action (on a
 * VM). Every method asks here, after its parameters are checked and before it
 * acts; nothing else decides, and the refusal sentences live here. Identity
 * is the SO_PEERCRED the server read when it accepted the connection, never
 * anything in the message.
 *
 * The rule (README, "Who may call what"): root may do everything. Reading is
 * for everyone, or with access.read: group for root, access.group and a VM's
 * owner. Controlling a VM (Start, Stop, Kill, Pause, Resume, Reboot, Reset) is for its
 * owner, members of access.group, or whom polkit allows
 * io.libvfio.vm.control (details vm, owner). Managing (Define, Undefine,
 * partitions, VF counts) is for whom polkit allows io.libvfio.manage: a group
 * that may start VMs should not thereby rewrite their definitions (disk
 * paths, QEMU arguments) or repartition the GPU under other users' VMs.
 * Without polkit the group rule alone decides.
 *
 * Polkit answers later: authz_check() then keeps the call and, once polkit
 * has answered, runs the method again (varlink_call_redispatch()), which
 * calls authz_check() again and finds the answer.
 */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

#include "api/errors.h"
#include "api/polkit.h"
#include "api/server.h"
#include "base/config.h"
#include "vm/vm.h"

typedef enum AuthzAction {
	AUTHZ_READ, /* List, Get, Watch, Validate, Host.*, Partitions.List, GetVersion */
	AUTHZ_VM_MANAGE, /* Define, Undefine */
	AUTHZ_VM_CONTROL, /* Start, Stop, Kill, Pause, Resume, Reboot, Reset a VM */
	AUTHZ_PARTITION_CREATE,
	AUTHZ_PARTITION_DESTROY,
	AUTHZ_VF_COUNT_SET,
	_AUTHZ_ACTION_MAX,
} AuthzAction;

/* What is known of the caller, for the decision. */
typedef struct AuthzFacts {
	bool root;
	bool in_group; /* of access.group */
	bool owner; /* of the VM the call is about */
	bool read_group_only; /* access.read: group */
} AuthzFacts;

typedef enum AuthzVerdict {
	AUTHZ_ALLOW,
	AUTHZ_DENY,
	AUTHZ_ASK_POLKIT, /* polkit decides; without polkit, refused */
} AuthzVerdict;

/* The decision, a pure function. */
AuthzVerdict authz_decide(AuthzAction action, const AuthzFacts *facts);

/* The polkit action that can allow `action`, or NULL. */
const char *authz_polkit_action(AuthzAction action);

/*
 * The refusal of `action` (on VM `vm_name`, by `method`, "io.libvfio.VMs.Start"),
 * a sentence naming what was needed and what to do, in `buf`; returns the error.
 */
ApiError authz_refusal(AuthzAction action, const char *method, const char *vm_name,
		       const char *group, char *buf, size_t size);

typedef struct Authz {
	const DaemonConfig *config; /* may change (reload) */
	VmManager *vms; /* for owners; NULL until there is one */
	Polkit *polkit;
	bool told_no_polkit; /* logged once that the group rule decides alone */
	char *group_name; /* access.group as last looked up, and its id (-1: none) */
	gid_t group_id;
} Authz;

int authz_init(Authz *authz, sd_event *event, const DaemonConfig *config);
/* Pending polkit questions end; their calls are answered as refused. */
void authz_done(Authz *authz);

/* Who made `call`: SO_PEERCRED of its connection, read when it was accepted. */
const struct ucred *authz_caller(const VarlinkCall *call);

/*
 * The entry point for methods. Returns 1 when the call may go on; 0 when the
 * method must return 0 now: the refusal was replied, or polkit was asked and
 * the method will run again when it answers; < 0 on failure. `interactive`:
 * the client's allowInteractiveAuthentication. A method does
 *
 *         r = authz_check(authz, call, AUTHZ_VM_CONTROL, name, interactive);
 *         if (r <= 0)
 *                 return r;
 */
int authz_check(Authz *authz, VarlinkCall *call, AuthzAction action, const char *vm_name,
		bool interactive);
