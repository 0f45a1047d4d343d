/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/readiness.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/gpu_doctor.h"
#include "macro.h"
#include "string_table.h"
#include "strv.h"

static const char *const check_status_table[_CHECK_STATUS_MAX] = {
	[CHECK_PASS] = "pass",
	[CHECK_WARN] = "warn",
	[CHECK_FAIL] = "fail",
	[CHECK_SKIP] = "skip",
};

DEFINE_STRING_TABLE_LOOKUP(check_status, CheckStatus)

/* Adds a check; `fix` may be NULL. Returns the status added, or -ENOMEM. */
_printf_(6, 7) static int add(Readiness *r, const char *id, const char *gpu, CheckStatus status,
			      const char *fix, const char *format, ...)
{
	CheckResult *checks = reallocarray(r->checks, r->n_checks + 1, sizeof(CheckResult));
	if (!checks)
		return -ENOMEM;
	r->checks = checks;
	CheckResult *c = &checks[r->n_checks];
	*c = (CheckResult){ .status = status };

	va_list ap;
	va_start(ap, format);
	int k = vasprintf(&c->summary, format, ap);
	va_end(ap);
	if (k < 0)
		c->summary = NULL; /* vasprintf leaves it undefined */
	c->id = strdup(id);
	c->fix = fix ? strdup(fix) : NULL;
	c->gpu = gpu ? strdup(gpu) : NULL;
	r->n_checks++;
	if (k < 0 || !c->id || (fix && !c->fix) || (gpu && !c->gpu))
		return -ENOMEM;
	return (int)status;
}

static bool is_amd_cpu(const HostModel *model)
{
	return model->facts.cpu_vendor && strcmp(model->facts.cpu_vendor, "AuthenticAMD") == 0;
}

static bool iommu_on(const HostModel *model)
{
	return model->n_groups > 0;
}

static int check_iommu(const HostModel *model, Readiness *r)
{
	const HostFacts *f = &model->facts;
	bool amd = is_amd_cpu(model);
	const char *option = amd ? "amd_iommu=on iommu=pt" : "intel_iommu=on iommu=pt";
	char fix[512];

	if (iommu_on(model))
		return add(r, "iommu", NULL, CHECK_PASS, NULL,
			   "The IOMMU is on (%s): %zu IOMMU group%s.",
			   f->dmar   ? "Intel VT-d"
			   : f->ivrs ? "AMD-Vi"
				     : "enabled",
			   model->n_groups, model->n_groups == 1 ? "" : "s");
	if (!f->dmar && !f->ivrs)
		return add(
			r, "iommu", NULL, CHECK_FAIL,
			amd ? "Enable the IOMMU (AMD-Vi, often called 'IOMMU' or 'SVM/IOMMU') in "
			      "the firmware setup, then add amd_iommu=on iommu=pt to the kernel "
			      "command line."
			    : "Enable VT-d (Intel Virtualization Technology for Directed I/O) in "
			      "the firmware setup, then add intel_iommu=on iommu=pt to the kernel "
			      "command line.",
			"The IOMMU is off: the firmware describes none (no ACPI %s table) and "
			"there are no IOMMU groups.",
			amd ? "IVRS" : "DMAR");
	snprintf(fix, sizeof(fix),
		 "Add %s to GRUB_CMDLINE_LINUX in /etc/default/grub, run update-grub and reboot.",
		 option);
	return add(r, "iommu", NULL, CHECK_FAIL, fix,
		   "The IOMMU is off: the firmware has one (ACPI %s table) but the kernel did not "
		   "enable it, so there are no IOMMU groups.",
		   f->dmar ? "DMAR" : "IVRS");
}

static int check_interrupt_remapping(const HostModel *model, Readiness *r)
{
	if (!iommu_on(model))
		return add(r, "interrupt-remapping", NULL, CHECK_SKIP, NULL,
			   "Interrupt remapping needs the IOMMU.");
	switch (model->facts.irq_remapping) {
	case 1:
		return add(r, "interrupt-remapping", NULL, CHECK_PASS, NULL,
			   "Interrupt remapping is on.");
	case 0:
		if (model->facts.unsafe_interrupts_allowed)
			return add(
				r, "interrupt-remapping", NULL, CHECK_WARN,
				"Enable interrupt remapping in the firmware setup and drop "
				"vfio_iommu_type1.allow_unsafe_interrupts=1.",
				"Interrupt remapping is off; vfio assigns devices anyway because "
				"unsafe interrupts are allowed, so a VM could forge interrupts.");
		return add(r, "interrupt-remapping", NULL, CHECK_FAIL,
			   "Enable interrupt remapping in the firmware setup (x2APIC, VT-d or "
			   "AMD-Vi options); as a last resort, and only on a trusted host, add "
			   "vfio_iommu_type1.allow_unsafe_interrupts=1 to the kernel command line.",
			   "Interrupt remapping is off: vfio refuses to assign PCI devices unless "
			   "unsafe interrupts are allowed.");
	default:
		return add(r, "interrupt-remapping", NULL, CHECK_SKIP, NULL,
			   "Whether interrupts are remapped is unknown (proc/interrupts is "
			   "unreadable).");
	}
}

static int check_kvm(const HostModel *model, Readiness *r)
{
	const char *module = is_amd_cpu(model) ? "kvm_amd" : "kvm_intel";
	char fix[256];

	if (model->facts.kvm_usable)
		return add(r, "kvm", NULL, CHECK_PASS, NULL, "/dev/kvm is usable.");
	if (model->facts.kvm_present)
		return add(r, "kvm", NULL, CHECK_FAIL,
			   "Check the permissions of /dev/kvm (crw-rw---- root:kvm).",
			   "/dev/kvm exists but cannot be opened.");
	snprintf(fix, sizeof(fix),
		 "Enable virtualization (%s) in the firmware setup and load %s (modprobe %s).",
		 is_amd_cpu(model) ? "AMD-V/SVM" : "Intel VT-x", module, module);
	return add(r, "kvm", NULL, CHECK_FAIL, fix,
		   "There is no /dev/kvm: without KVM, VMs run emulated and far too slowly for "
		   "a GPU.");
}

/* A module is fine when loaded, a warning when only loadable, a failure when absent. */
static int check_module(const HostModel *model, Readiness *r, const char *module)
{
	char id[64], fix[128];

	snprintf(id, sizeof(id), "module-%s", module);
	if (strv_contains(model->facts.modules_loaded, module))
		return add(r, id, NULL, CHECK_PASS, NULL, "The %s module is loaded.", module);
	if (strv_contains(model->facts.modules_loadable, module)) {
		snprintf(fix, sizeof(fix), "modprobe %s (and add it to /etc/modules to keep it)",
			 module);
		return add(r, id, NULL, CHECK_WARN, fix,
			   "The %s module is not loaded, but this kernel has it.", module);
	}
	return add(r, id, NULL, CHECK_FAIL,
		   "Use a kernel built with VFIO (CONFIG_VFIO_PCI, CONFIG_VFIO_MDEV), such as "
		   "Debian's.",
		   "This kernel has no %s module.", module);
}

static int check_hugepages(const HostModel *model, Readiness *r)
{
	uint64_t reserved_kib = 0, free_kib = 0;

	for (size_t i = 0; i < model->facts.n_hugepages; i++) {
		const HugepagePool *p = &model->facts.hugepages[i];
		reserved_kib += p->total * p->size_kib;
		free_kib += p->free * p->size_kib;
	}
	if (reserved_kib == 0)
		return add(
			r, "hugepages", NULL, CHECK_WARN,
			"Reserve hugepages for VM memory, for example 8 GiB: echo 4096 > "
			"/proc/sys/vm/nr_hugepages (or vm.nr_hugepages in /etc/sysctl.d/).",
			"No hugepages are reserved: VMs will use normal pages, which is slower.");
	return add(r, "hugepages", NULL, CHECK_PASS, NULL,
		   "%llu MiB of hugepages are reserved, %llu MiB free.",
		   (unsigned long long)(reserved_kib / 1024),
		   (unsigned long long)(free_kib / 1024));
}

static int check_qemu(const QemuInfo *qemu, Readiness *r)
{
	if (qemu->binary && qemu->version)
		return add(r, "qemu", NULL, CHECK_PASS, NULL, "QEMU %s (%s).", qemu->version,
			   qemu->binary);
	return add(r, "qemu", NULL, CHECK_FAIL,
		   "apt install qemu-system-x86, or set qemu-binary in /etc/libvfio/libvfiod.yaml.",
		   "QEMU is not usable: %s.", qemu->problem ? qemu->problem : "unknown reason");
}

static int check_ovmf(const HostModel *model, Readiness *r)
{
	if (model->facts.ovmf_files)
		return add(r, "ovmf", NULL, CHECK_PASS, NULL, "UEFI firmware for guests: %s.",
			   model->facts.ovmf_files[0]);
	return add(r, "ovmf", NULL, CHECK_WARN, "apt install ovmf",
		   "No OVMF (UEFI firmware for guests) was found: Windows 11 and most GPU guests "
		   "need it.");
}

/* VFIO pins all guest RAM against QEMU's RLIMIT_MEMLOCK, which the daemon raises for it. */
static int check_memlock(const HostModel *model, Readiness *r)
{
	const uint64_t margin = UINT64_C(1) << 30; /* as qemu_memlock_limit() adds */
	const char *fix = "Give libvfiod CAP_SYS_RESOURCE (the shipped unit does) or raise its "
			  "hard limit (LimitMEMLOCK=infinity in the unit, ulimit -l unlimited).";
	uint64_t grantable = model->facts.memlock_grantable;

	if (!model->facts.memlock_known)
		return add(r, "memlock", NULL, CHECK_SKIP, NULL,
			   "How much locked memory QEMU can be given is unknown (proc/self is "
			   "unreadable).");
	if (grantable == UINT64_MAX)
		return add(r, "memlock", NULL, CHECK_PASS, NULL,
			   "QEMU can be given the locked memory VFIO pins (guest RAM + 1 GiB).");
	if (grantable <= margin)
		return add(r, "memlock", NULL, CHECK_FAIL, fix,
			   "The daemon can give QEMU only %" PRIu64 " MiB of locked memory: "
			   "no VM with a GPU can start (VFIO pins guest RAM + 1 GiB).",
			   grantable >> 20);
	return add(r, "memlock", NULL, CHECK_WARN, fix,
		   "The daemon can give QEMU only %" PRIu64 " MiB of locked memory: VMs with a "
		   "GPU and more than %" PRIu64 " MiB of RAM cannot start (VFIO pins guest RAM + "
		   "1 GiB).",
		   grantable >> 20, (grantable - margin) >> 20);
}

/* The host prerequisites of each mode, from the checks already made. */
static bool prerequisites_pass(const Readiness *r, PartitionModeKind mode)
{
	/* mdev devices are used through a type1 container too; their interrupts are emulated. */
	static const char *const common[] = { "kvm", "qemu", "module-vfio",
					      "module-vfio_iommu_type1", "memlock" };
	static const char *const mdev[] = { "module-mdev" };
	static const char *const vfio_pci[] = { "iommu", "interrupt-remapping", "module-vfio_pci" };

	for (size_t i = 0; i < r->n_checks; i++) {
		const CheckResult *c = &r->checks[i];
		bool needed = false;
		for (size_t k = 0; k < ELEMENTSOF(common); k++)
			needed |= strcmp(c->id, common[k]) == 0;
		for (size_t k = 0; mode == PARTITION_MDEV && k < ELEMENTSOF(mdev); k++)
			needed |= strcmp(c->id, mdev[k]) == 0;
		for (size_t k = 0; mode != PARTITION_MDEV && k < ELEMENTSOF(vfio_pci); k++)
			needed |= strcmp(c->id, vfio_pci[k]) == 0;
		/* A loadable module (warn) is fine: libvfio's unit can load it. */
		if (needed && c->status == CHECK_FAIL)
			return false;
	}
	return true;
}

/*
 * The doctor's view of one GPU (gpu_doctor.c): its family and what it
 * supports, then each mechanism this host cannot use yet with the steps that
 * would make it so (a warning: the GPU still works for what is ready), unless
 * the mode's own check below already has a fix; then the doctor's warnings.
 */
static int check_gpu_family(const HostModel *model, const PciFunction *gpu,
			    const ModeAssessment modes[_PARTITION_MODE_MAX], Readiness *r)
{
	GpuDoctor d;
	char id[64];
	int k;

	if (gpu_doctor_examine(model, gpu, &d) < 0)
		return -ENOMEM;
	snprintf(id, sizeof(id), "gpu-%s-family", gpu->address_text);
	k = add(r, id, gpu->address_text, CHECK_PASS, NULL, "%s %04x:%04x: supports %s.",
		d.family->name, gpu->vendor_id, gpu->device_id, d.family->mechanisms);
	for (size_t i = 0; k >= 0 && i < d.n_advice; i++) {
		const GpuAdvice *a = &d.advice[i];
		if (a->usable || !a->steps ||
		    (a->mode < _PARTITION_MODE_MAX && modes[a->mode].fixable))
			continue;
		snprintf(id, sizeof(id), "gpu-%s-doctor-%zu", gpu->address_text, i);
		k = add(r, id, gpu->address_text, CHECK_WARN, a->steps, "%s: not usable yet%s%s.",
			a->mechanism, a->reason ? ": " : "", a->reason ? a->reason : "");
	}
	for (size_t i = 0; k >= 0 && d.warnings && d.warnings[i]; i++) {
		snprintf(id, sizeof(id), "gpu-%s-doctor-warning-%zu", gpu->address_text, i);
		k = add(r, id, gpu->address_text, CHECK_WARN, NULL, "%s.", d.warnings[i]);
	}
	gpu_doctor_done(&d);
	return k;
}

static int check_gpu(const HostModel *model, const PciFunction *gpu, Readiness *r)
{
	ModeAssessment modes[_PARTITION_MODE_MAX];
	int k = gpu_assess_modes(model, gpu, modes);
	if (k < 0)
		return k;
	k = check_gpu_family(model, gpu, modes, r);

	for (int m = 0; m < _PARTITION_MODE_MAX && k >= 0; m++) {
		const ModeAssessment *a = &modes[m];
		const char *name = partition_mode_to_string(a->mode);
		char id[64];
		snprintf(id, sizeof(id), "gpu-%s-%s", gpu->address_text, name);

		if (a->available) {
			bool ready = prerequisites_pass(r, a->mode);
			r->ready_modes[m] |= ready;
			k = add(r, id, gpu->address_text, ready ? CHECK_PASS : CHECK_WARN,
				ready ? NULL : "Fix the failed host checks above.", "%s: %s%s%s%s.",
				name, a->capacity ? a->capacity : "available", a->note ? " (" : "",
				a->note ? a->note : "", a->note ? ")" : "");
		} else
			k = add(r, id, gpu->address_text, a->fixable ? CHECK_WARN : CHECK_SKIP,
				a->fix, "%s: not offered: %s.", name,
				a->note ? a->note : "unknown reason");
	}
	mode_assessments_done(modes);
	return k;
}

/* What discovery could not read about the host as a whole (host.h): a warning each. */
static int check_host_warnings(const HostModel *model, Readiness *r)
{
	for (char **w = model->warnings; w && *w; w++)
		if (add(r, "host", NULL, CHECK_WARN, NULL, "%s.", *w) < 0)
			return -ENOMEM;
	return 0;
}

int readiness_evaluate(const HostModel *model, const QemuInfo *qemu, Readiness *ret)
{
	Readiness r = { 0 };
	size_t n_gpus = 0;
	int k = 0;

	if (check_iommu(model, &r) < 0 || check_interrupt_remapping(model, &r) < 0 ||
	    check_kvm(model, &r) < 0 || check_module(model, &r, "vfio") < 0 ||
	    check_module(model, &r, "vfio_pci") < 0 ||
	    check_module(model, &r, "vfio_iommu_type1") < 0 ||
	    check_module(model, &r, "mdev") < 0 || check_hugepages(model, &r) < 0 ||
	    check_qemu(qemu, &r) < 0 || check_ovmf(model, &r) < 0 || check_memlock(model, &r) < 0 ||
	    check_host_warnings(model, &r) < 0)
		k = -ENOMEM;

	for (size_t i = 0; k >= 0 && i < model->n_functions; i++) {
		const PciFunction *f = &model->functions[i];
		if (!pci_function_is_gpu(f) || f->is_vf)
			continue;
		n_gpus++;
		k = check_gpu(model, f, &r);
	}
	if (k >= 0 && n_gpus == 0)
		k = add(&r, "gpus", NULL, CHECK_FAIL,
			"libvfio needs a GPU (a PCI display controller); check that it is seated "
			"and enabled in the firmware setup.",
			"No GPU was found on the PCI bus.");
	if (k < 0) {
		readiness_done(&r);
		return -ENOMEM;
	}
	for (int m = 0; m < _PARTITION_MODE_MAX; m++)
		r.ready |= r.ready_modes[m];
	*ret = r;
	return 0;
}

void readiness_done(Readiness *r)
{
	for (size_t i = 0; i < r->n_checks; i++) {
		free(r->checks[i].id);
		free(r->checks[i].summary);
		free(r->checks[i].fix);
		free(r->checks[i].gpu);
	}
	free(r->checks);
	*r = (Readiness){ 0 };
}
