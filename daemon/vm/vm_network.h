/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A VM's port on a host bridge: a tap device the daemon makes, attaches to the
 * bridge and brings up, then hands to QEMU as an open fd (`-netdev tap,fd=`).
 * QEMU needs no privilege and no helper (its sandbox forbids spawning one).
 * The tap is not persistent: it disappears when the last fd on it closes,
 * that is when QEMU ends.
 */
#pragma once

#include <net/if.h>

/*
 * Makes a tap ("lvtapN") on `bridge`, up, with vnet headers for virtio-net.
 * Returns its fd (close-on-exec) with its name in ret_name, or a negative errno
 * with *ret_message (no such bridge, not a bridge, no /dev/net/tun, ...).
 */
int vm_tap_on_bridge(const char *bridge, char ret_name[IFNAMSIZ], char **ret_message);
