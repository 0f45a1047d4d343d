/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Authorization: who a caller is, and whether they may do an action (on a
 * VM). Every method that changes something asks here, after its parameters
 * are checked and before it acts; nothing else decides, and the refusal
 * sentences live here. Identity is the SO_PEERCRED the server read when it
 * accepted the connection, never anything in the message.
 *
 * Today's rule: root may do everything, everyone may read. Where the VM's
 * `owner` and polkit (io.libvfio.vm.control, io.libvfio.manage) come in,
 * authz_decide() grows and authz_check() may ask polkit and answer later.
 */
#pragma once

#include <stdbool.h>
#include <sys/socket.h>

#include "api/errors.h"
#include "api/server.h"

typedef enum AuthzAction {
	AUTHZ_READ, /* reading a VM (Get): anyone; List and Watch do not ask yet */
	AUTHZ_VM_MANAGE, /* Define, Undefine */
	AUTHZ_VM_CONTROL, /* Start, Stop, Kill, Pause, Resume a VM */
	AUTHZ_PARTITION_CREATE,
	AUTHZ_PARTITION_DESTROY,
	AUTHZ_VF_COUNT_SET,
	_AUTHZ_ACTION_MAX,
} AuthzAction;

/* A refusal: the error and the sentence that says what to do. */
typedef struct AuthzRefusal {
	ApiError error;
	const char *message;
} AuthzRefusal;

/* Who made `call`: SO_PEERCRED of its connection, read when it was accepted. */
const struct ucred *authz_caller(const VarlinkCall *call);

/*
 * The decision, a pure function: true when `caller` may do `action` (on the
 * VM `vm_name`, NULL for actions on no VM); false with *ret_refusal filled.
 */
bool authz_decide(const struct ucred *caller, AuthzAction action, const char *vm_name,
		  AuthzRefusal *ret_refusal);

/*
 * The entry point for methods. Returns 1 when the call may go on; 0 when it
 * may not, having replied the refusal (then the method returns 0); < 0 on
 * failure. A method does
 *
 *         r = authz_check(call, AUTHZ_VM_CONTROL, name);
 *         if (r <= 0)
 *                 return r;
 */
int authz_check(VarlinkCall *call, AuthzAction action, const char *vm_name);
