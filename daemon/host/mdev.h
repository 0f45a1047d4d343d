/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Creating and removing mediated devices (Documentation/driver-api/
 * vfio-mediated-device.rst): a UUID written to the type's `create` makes the
 * device, "1" written to its `remove` takes it away. Pure: plans for the
 * partition engine (the reading of types lives in mdev.c too, see
 * host_internal.h).
 */
#pragma once

#include "host/host.h"
#include "host/sysfs_plan.h"
#include "parse_util.h"

/*
 * The write that creates an mdev of `type` on `parent` named `uuid`: the
 * parent is a PCI address ("0000:00:02.0") or the name of a parent outside
 * PCI ("mbochs"). -EINVAL for a bad uuid or name.
 */
int mdev_create_plan(const char *parent, const MdevType *type, const char *uuid, SysfsPlan *ret);

/* The write that removes the mdev `uuid`. */
int mdev_remove_plan(const char *uuid, SysfsPlan *ret);
