/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What to keep in mind about a valid VM definition: not mistakes, but setups
 * known to fail in the guest, each with what usually fixes it. Pure: from the
 * definition alone, so `vfioctl validate` says it without the daemon.
 */
#pragma once

#include "vm_definition.h"

/*
 * The notes for `d`, one sentence each, naming the gpu entry (counted from
 * 1). Returns 0 and a strv (NULL: none; strv_free() it) or -ENOMEM.
 */
int vm_definition_notes(const VmDefinition *d, char ***ret);
