/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Checks on command-line arguments that several commands take: each prints
 * what is wrong and what to type instead, so a command only returns
 * EXIT_USAGE.
 */
#pragma once

#include "pci_address.h"

/* "1:0.0", "0000:01:00.0" → "0000:01:00.0" in ret. 0, or -EINVAL after a message. */
int argument_pci_address(const char *text, char ret[PCI_ADDRESS_TEXT_SIZE]);

/* A PCI address, or the name of an mdev parent outside PCI, and NUL. */
#define ARGUMENT_GPU_SIZE 65

/*
 * A GPU as commands take it: a PCI address (canonical form in ret, as
 * argument_pci_address()) or the device name of an mdev parent outside PCI
 * ("mbochs"), as is. 0, or -EINVAL after a message.
 */
int argument_gpu(const char *text, char ret[ARGUMENT_GPU_SIZE]);

/* A decimal number in 0...max; `what` names it in the message ("--node"). 0 or -EINVAL. */
int argument_whole_number(const char *what, const char *text, long long max, long long *ret);

/*
 * The VM name of a command that takes exactly one ("vfioctl start NAME"):
 * checks that there is one and that it is a name a definition may have, so
 * that a typo is told here rather than as "no such VM". 0 with the name in
 * *ret, or -EINVAL after a message.
 */
int argument_vm_name(const char *command, int argc, char *argv[], const char **ret);
