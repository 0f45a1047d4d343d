/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Whether this machine can run GPU VMs, in the spirit of libvirt's
 * virt-host-validate but for this one job: the host prerequisites (IOMMU,
 * interrupt remapping, KVM, VFIO modules, hugepages, QEMU, OVMF) and, per
 * GPU, each partition mode. Every check has a status, one sentence, and the
 * exact fix when there is one. A pure function of the host model and the
 * QEMU probe's answer.
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "host/gpu_modes.h"
#include "host/host.h"
#include "host/qemu_probe.h"
#include "string_table.h"

typedef enum CheckStatus {
	CHECK_PASS,
	CHECK_WARN,
	CHECK_FAIL,
	CHECK_SKIP,
	_CHECK_STATUS_MAX,
} CheckStatus;

typedef struct CheckResult {
	char *id; /* "iommu", "gpu-0000:00:02.0-mdev" */
	CheckStatus status;
	char *summary;
	char *fix; /* NULL when there is nothing to do */
	char *gpu; /* the GPU it is about, or NULL */
} CheckResult;

typedef struct Readiness {
	CheckResult *checks;
	size_t n_checks;
	bool ready_modes[_PARTITION_MODE_MAX]; /* usable on at least one GPU */
	bool ready; /* any of them */
} Readiness;

DECLARE_STRING_TABLE_LOOKUP(check_status, CheckStatus);

int readiness_evaluate(const HostModel *model, const QemuInfo *qemu, Readiness *ret);
void readiness_done(Readiness *readiness);
