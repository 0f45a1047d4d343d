/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * io.libvfio.VMs.Logs: a VM's last log lines (vm/vm_logs.h) for those who
 * may control it, and with follow (and "more") each new line as it comes,
 * until the client goes away.
 */
#pragma once

#include "api/vms_api.h"

/* The method's handler; `userdata` is the VmsApi. */
int vm_logs_api_call(VarlinkCall *call, json_object *parameters, void *userdata);

/* Ends every follow (the daemon exits); their calls are let go. */
void vm_logs_api_done(VmsApi *api);
