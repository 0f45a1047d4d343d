/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The readiness checks on host models built by hand: each host prerequisite
 * in each of its states with its exact sentence and fix, the per-GPU mode
 * checks, and which modes the host is ready for. A check is what a user
 * reads before a VM fails to start, so the words are asserted too.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/host.h"
#include "host/qemu_probe.h"
#include "host/readiness.h"
#include "host_builder.h"
#include "macro.h"
#include "strv.h"

#define IGPU "0000:00:02.0"
#define DGPU "0000:01:00.0"
#define DGPU_AUDIO "0000:01:00.1"
#define ROOT_PORT "0000:00:01.0"
#define AMD_PF "0000:03:00.0"

#define QEMU_PATH "/usr/bin/qemu-system-x86_64"
#define OVMF_PATH "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define PREREQUISITES_FIX "Fix the failed host checks above."
#define MODULE_ABSENT_FIX \
	"Use a kernel built with VFIO (CONFIG_VFIO_PCI, CONFIG_VFIO_MDEV), such as Debian's."

/* The problem qemu_probe reports when the binary is not in $PATH. */
#define QEMU_NOT_FOUND                                                                           \
	"qemu-system-x86_64 was not found in PATH; install it (apt install qemu-system-x86) or " \
	"set qemu-binary in libvfiod.yaml"

static const QemuInfo qemu_ok = { QEMU_PATH, "7.2.0", NULL };

static const char *const host_check_ids[] = {
	"iommu",
	"interrupt-remapping",
	"kvm",
	"module-vfio",
	"module-vfio_pci",
	"module-vfio_iommu_type1",
	"module-mdev",
	"hugepages",
	"qemu",
	"ovmf",
	"memlock",
};

/* Appends module names to a list, NULL last. */
static void add_modules(char ***list, const char *first, ...) __attribute__((sentinel));

static void add_modules(char ***list, const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	for (const char *m = first; m; m = va_arg(ap, const char *))
		assert_int_equal(strv_append(list, m), 0);
	va_end(ap);
}

/*
 * Everything a host needs, on an Intel machine: VT-d on with interrupt
 * remapping, KVM, the VFIO modules loaded, hugepages, OVMF. No GPU yet;
 * the tests add theirs and call model_finish().
 */
static HostModel *ready_host(void)
{
	HostModel *model = model_new();
	HostFacts *facts = &model->facts;

	facts->cpu_vendor = strdup("GenuineIntel");
	assert_non_null(facts->cpu_vendor);
	facts->dmar = true;
	facts->iommu_class = true;
	facts->irq_remapping = 1;
	facts->kvm_present = true;
	facts->kvm_usable = true;
	add_modules(&facts->modules_loaded, "vfio", "vfio_pci", "vfio_iommu_type1", "mdev", "kvm",
		    "kvm_intel", "i915", "kvmgt", NULL);
	add_modules(&facts->modules_loadable, "vfio", "vfio_pci", "vfio_iommu_type1", "mdev", "kvm",
		    "kvm_intel", "i915", "kvmgt", NULL);
	facts->i915_enable_gvt = 1;
	assert_int_equal(strv_append(&facts->ovmf_files, OVMF_PATH), 0);
	model_add_hugepages(model, 2048, 4096, 1024);
	return model;
}

/* An Intel iGPU with GVT-g types, alone in IOMMU group 0. */
static void add_igpu(HostModel *model)
{
	PciFunction *gpu = model_add_function(model, IGPU, VENDOR_INTEL, CLASS_VGA, "i915");

	gpu->boot_vga = 0;
	function_add_mdev_type(gpu, "i915-GVTg_V5_4", 2, 0);
	function_add_mdev_type(gpu, "i915-GVTg_V5_8", 4, 0);
	model_add_group(model, 0, IGPU, NULL);
}

/* An NVIDIA card with its audio function behind a root port, all in IOMMU group 1. */
static void add_dgpu(HostModel *model)
{
	model_add_function(model, ROOT_PORT, VENDOR_INTEL, CLASS_PCI_BRIDGE, "pcieport");
	model_add_function(model, DGPU, VENDOR_NVIDIA, CLASS_VGA, "vfio-pci")->boot_vga = 0;
	model_add_function(model, DGPU_AUDIO, VENDOR_NVIDIA, CLASS_AUDIO, "vfio-pci");
	model_add_group(model, 1, ROOT_PORT, DGPU, DGPU_AUDIO, NULL);
}

/*
 * An SR-IOV card with no VFs enabled, in IOMMU group 2. Not AMD's: an AMD PF
 * cannot have its VFs enabled through sriov_numvfs (gpu_modes.c), so it
 * would offer no SR-IOV here.
 */
static void add_amd_sriov(HostModel *model)
{
	function_set_sriov(model_add_function(model, AMD_PF, VENDOR_INTEL, CLASS_VGA, "i915"), 16,
			   0);
	model_add_group(model, 2, AMD_PF, NULL);
}

/* The last evaluation, kept for the teardown when an assertion ends a test early. */
static Readiness evaluated;

static int teardown(void **state)
{
	readiness_done(&evaluated);
	return models_teardown(state);
}

/* Finishes the model and evaluates it; the result is good until the next evaluation. */
static const Readiness *evaluate(HostModel *model, const QemuInfo *qemu)
{
	model_finish(model);
	readiness_done(&evaluated);
	assert_int_equal(readiness_evaluate(model, qemu, &evaluated), 0);
	return &evaluated;
}

static const CheckResult *find_check(const Readiness *r, const char *id)
{
	const CheckResult *found = NULL;

	for (size_t i = 0; i < r->n_checks; i++)
		if (strcmp(r->checks[i].id, id) == 0) {
			if (found)
				fail_msg("check %s is there twice", id);
			found = &r->checks[i];
		}
	if (!found)
		fail_msg("no check %s", id);
	return found;
}

static bool has_check(const Readiness *r, const char *id)
{
	for (size_t i = 0; i < r->n_checks; i++)
		if (strcmp(r->checks[i].id, id) == 0)
			return true;
	return false;
}

static void expect_text(const char *id, const char *field, const char *got, const char *expected)
{
	if (!got && !expected)
		return;
	if (!got || !expected || strcmp(got, expected) != 0)
		fail_msg("%s %s: got '%s', expected '%s'", id, field, got ? got : "(none)",
			 expected ? expected : "(none)");
}

/* The check `id` has this status, summary and fix (NULL: none). */
static void expect_result(const Readiness *r, const char *id, CheckStatus status,
			  const char *summary, const char *fix)
{
	const CheckResult *c = find_check(r, id);

	if (c->status != status)
		fail_msg("%s: status %s, expected %s", id, check_status_to_string(c->status),
			 check_status_to_string(status));
	expect_text(id, "summary", c->summary, summary);
	expect_text(id, "fix", c->fix, fix);
}

static void expect_status(const Readiness *r, const char *id, CheckStatus status)
{
	const CheckResult *c = find_check(r, id);

	if (c->status != status)
		fail_msg("%s: status %s, expected %s", id, check_status_to_string(c->status),
			 check_status_to_string(status));
}

static void expect_ready(const Readiness *r, bool mdev, bool sriov, bool passthrough)
{
	if (r->ready_modes[PARTITION_MDEV] != mdev || r->ready_modes[PARTITION_SRIOV] != sriov ||
	    r->ready_modes[PARTITION_PASSTHROUGH] != passthrough ||
	    r->ready != (mdev || sriov || passthrough))
		fail_msg("ready %d (mdev %d, sriov %d, passthrough %d), expected %d (%d, %d, %d)",
			 r->ready, r->ready_modes[PARTITION_MDEV], r->ready_modes[PARTITION_SRIOV],
			 r->ready_modes[PARTITION_PASSTHROUGH], mdev || sriov || passthrough, mdev,
			 sriov, passthrough);
}

static void test_status_names(void **state)
{
	assert_string_equal(check_status_to_string(CHECK_PASS), "pass");
	assert_string_equal(check_status_to_string(CHECK_WARN), "warn");
	assert_string_equal(check_status_to_string(CHECK_FAIL), "fail");
	assert_string_equal(check_status_to_string(CHECK_SKIP), "skip");
	assert_null(check_status_to_string(_CHECK_STATUS_MAX));
	assert_null(check_status_to_string((CheckStatus)-1));
}

static void test_ready_host(void **state)
{
	HostModel *model = ready_host();
	const Readiness *r;

	add_igpu(model);
	model_add_function(model, "0000:02:00.0", VENDOR_INTEL, CLASS_ETHERNET, "igb");
	model_add_group(model, 3, "0000:02:00.0", NULL);
	r = evaluate(model, &qemu_ok);

	/* The host checks in their order, then the GPU's family and its three modes. */
	assert_int_equal(r->n_checks, ELEMENTSOF(host_check_ids) + 4);
	for (size_t i = 0; i < ELEMENTSOF(host_check_ids); i++) {
		assert_string_equal(r->checks[i].id, host_check_ids[i]);
		assert_int_equal(r->checks[i].status, CHECK_PASS);
		assert_null(r->checks[i].fix);
		assert_null(r->checks[i].gpu);
	}
	assert_string_equal(r->checks[11].id, "gpu-0000:00:02.0-family");
	assert_string_equal(r->checks[12].id, "gpu-0000:00:02.0-mdev");
	assert_string_equal(r->checks[13].id, "gpu-0000:00:02.0-sriov");
	assert_string_equal(r->checks[14].id, "gpu-0000:00:02.0-passthrough");
	for (size_t i = 11; i < 15; i++)
		assert_string_equal(r->checks[i].gpu, IGPU);

	expect_result(r, "iommu", CHECK_PASS, "The IOMMU is on (Intel VT-d): 2 IOMMU groups.",
		      NULL);
	expect_result(r, "interrupt-remapping", CHECK_PASS, "Interrupt remapping is on.", NULL);
	expect_result(r, "kvm", CHECK_PASS, "/dev/kvm is usable.", NULL);
	expect_result(r, "module-vfio", CHECK_PASS, "The vfio module is loaded.", NULL);
	expect_result(r, "module-vfio_pci", CHECK_PASS, "The vfio_pci module is loaded.", NULL);
	expect_result(r, "module-vfio_iommu_type1", CHECK_PASS,
		      "The vfio_iommu_type1 module is loaded.", NULL);
	expect_result(r, "module-mdev", CHECK_PASS, "The mdev module is loaded.", NULL);
	expect_result(r, "hugepages", CHECK_PASS,
		      "8192 MiB of hugepages are reserved, 2048 MiB free.", NULL);
	expect_result(r, "qemu", CHECK_PASS, "QEMU 7.2.0 (/usr/bin/qemu-system-x86_64).", NULL);
	expect_result(r, "ovmf", CHECK_PASS,
		      "UEFI firmware for guests: /usr/share/OVMF/OVMF_CODE_4M.fd.", NULL);
	expect_result(r, "memlock", CHECK_PASS,
		      "QEMU can be given the locked memory VFIO pins (guest RAM + 1 GiB).", NULL);
	expect_result(r, "gpu-0000:00:02.0-mdev", CHECK_PASS,
		      "mdev: i915-GVTg_V5_4: 2 free, i915-GVTg_V5_8: 4 free.", NULL);
	expect_result(r, "gpu-0000:00:02.0-sriov", CHECK_SKIP,
		      "sriov: not offered: it has no SR-IOV capability.", NULL);
	expect_result(r, "gpu-0000:00:02.0-passthrough", CHECK_PASS,
		      "passthrough: the whole GPU (1 function) (its driver i915 is "
		      "unbound while a VM holds it, and restored afterwards).",
		      NULL);
	assert_false(has_check(r, "gpus"));
	expect_ready(r, true, false, true);

	/* Done empties the result, and may be called again. */
	readiness_done(&evaluated);
	assert_null(r->checks);
	assert_int_equal(r->n_checks, 0);
	assert_false(r->ready);
	readiness_done(&evaluated);
}

static void test_iommu_on(void **state)
{
	static const struct {
		bool dmar, ivrs;
		const char *summary;
	} cases[] = {
		{ true, false, "The IOMMU is on (Intel VT-d): 3 IOMMU groups." },
		{ false, true, "The IOMMU is on (AMD-Vi): 3 IOMMU groups." },
		{ false, false, "The IOMMU is on (enabled): 3 IOMMU groups." },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		HostModel *model = ready_host();
		const Readiness *r;

		model->facts.dmar = cases[i].dmar;
		model->facts.ivrs = cases[i].ivrs;
		add_igpu(model);
		add_dgpu(model);
		add_amd_sriov(model);
		r = evaluate(model, &qemu_ok);
		expect_result(r, "iommu", CHECK_PASS, cases[i].summary, NULL);
		expect_ready(r, true, true, true);
	}
}

/* A host with one group: the sentence stays English. */
static void test_iommu_one_group(void **state)
{
	HostModel *model = ready_host();
	const Readiness *r;

	add_igpu(model);
	r = evaluate(model, &qemu_ok);
	expect_result(r, "iommu", CHECK_PASS, "The IOMMU is on (Intel VT-d): 1 IOMMU group.", NULL);
}

/* No groups: the IOMMU is off, whatever the firmware has. */
static HostModel *host_without_iommu(const char *cpu_vendor, bool dmar, bool ivrs)
{
	HostModel *model = ready_host();

	free(model->facts.cpu_vendor);
	model->facts.cpu_vendor = cpu_vendor ? strdup(cpu_vendor) : NULL;
	model->facts.dmar = dmar;
	model->facts.ivrs = ivrs;
	model->facts.iommu_class = false;
	model_add_function(model, IGPU, VENDOR_INTEL, CLASS_VGA, "i915");
	return model;
}

static void test_iommu_off_intel(void **state)
{
	HostModel *with_dmar = host_without_iommu("GenuineIntel", true, false);
	HostModel *without = host_without_iommu("GenuineIntel", false, false);
	HostModel *unknown_cpu = host_without_iommu(NULL, false, false);
	const Readiness *r;

	r = evaluate(with_dmar, &qemu_ok);
	expect_result(r, "iommu", CHECK_FAIL,
		      "The IOMMU is off: the firmware has one (ACPI DMAR table) but the kernel did "
		      "not enable it, so there are no IOMMU groups.",
		      "Add intel_iommu=on iommu=pt to GRUB_CMDLINE_LINUX in /etc/default/grub, run "
		      "update-grub and reboot.");

	r = evaluate(without, &qemu_ok);
	expect_result(
		r, "iommu", CHECK_FAIL,
		"The IOMMU is off: the firmware describes none (no ACPI DMAR table) and there "
		"are no IOMMU groups.",
		"Enable VT-d (Intel Virtualization Technology for Directed I/O) in the "
		"firmware setup, then add intel_iommu=on iommu=pt to the kernel command "
		"line.");

	/* No vendor in cpuinfo: the Intel advice. */
	r = evaluate(unknown_cpu, &qemu_ok);
	expect_result(
		r, "iommu", CHECK_FAIL,
		"The IOMMU is off: the firmware describes none (no ACPI DMAR table) and there "
		"are no IOMMU groups.",
		"Enable VT-d (Intel Virtualization Technology for Directed I/O) in the "
		"firmware setup, then add intel_iommu=on iommu=pt to the kernel command "
		"line.");
}

static void test_iommu_off_amd(void **state)
{
	HostModel *with_ivrs = host_without_iommu("AuthenticAMD", false, true);
	HostModel *without = host_without_iommu("AuthenticAMD", false, false);
	const Readiness *r;

	r = evaluate(with_ivrs, &qemu_ok);
	expect_result(r, "iommu", CHECK_FAIL,
		      "The IOMMU is off: the firmware has one (ACPI IVRS table) but the kernel did "
		      "not enable it, so there are no IOMMU groups.",
		      "Add amd_iommu=on iommu=pt to GRUB_CMDLINE_LINUX in /etc/default/grub, run "
		      "update-grub and reboot.");

	r = evaluate(without, &qemu_ok);
	expect_result(
		r, "iommu", CHECK_FAIL,
		"The IOMMU is off: the firmware describes none (no ACPI IVRS table) and there "
		"are no IOMMU groups.",
		"Enable the IOMMU (AMD-Vi, often called 'IOMMU' or 'SVM/IOMMU') in the "
		"firmware setup, then add amd_iommu=on iommu=pt to the kernel command line.");
}

/* Without the IOMMU only mdev is left; SR-IOV and passthrough wait for it. */
static void test_iommu_off_leaves_mdev(void **state)
{
	HostModel *model = ready_host();
	const Readiness *r;

	/* The cards as they are with the IOMMU off: in no group. */
	model_add_function(model, ROOT_PORT, VENDOR_INTEL, CLASS_PCI_BRIDGE, "pcieport");
	model_add_function(model, DGPU, VENDOR_NVIDIA, CLASS_VGA, "vfio-pci");
	function_add_mdev_type(model_add_function(model, IGPU, VENDOR_INTEL, CLASS_VGA, "i915"),
			       "i915-GVTg_V5_4", 1, 0);
	function_set_sriov(model_add_function(model, AMD_PF, VENDOR_INTEL, CLASS_VGA, "i915"), 16,
			   0);
	r = evaluate(model, &qemu_ok);

	expect_status(r, "iommu", CHECK_FAIL);
	expect_result(r, "interrupt-remapping", CHECK_SKIP, "Interrupt remapping needs the IOMMU.",
		      NULL);
	expect_result(r, "gpu-0000:00:02.0-mdev", CHECK_PASS, "mdev: i915-GVTg_V5_4: 1 free.",
		      NULL);
	expect_result(r, "gpu-0000:00:02.0-passthrough", CHECK_SKIP,
		      "passthrough: not offered: it is in no IOMMU group: the IOMMU "
		      "is off (see the iommu check).",
		      NULL);
	expect_result(r, "gpu-0000:03:00.0-sriov", CHECK_WARN,
		      "sriov: 0/16 VFs enabled (no VFs are enabled yet; libvfio "
		      "enables them when a partition is created).",
		      PREREQUISITES_FIX);
	expect_status(r, "gpu-0000:01:00.0-passthrough", CHECK_SKIP);
	expect_ready(r, true, false, false);
}

static void test_interrupt_remapping(void **state)
{
	static const struct {
		int irq_remapping;
		bool unsafe_allowed;
		CheckStatus status;
		const char *summary, *fix;
		bool passthrough_ready;
	} cases[] = {
		{ 1, false, CHECK_PASS, "Interrupt remapping is on.", NULL, true },
		/* vfio refuses PCI devices: passthrough is not ready. */
		{ 0, false, CHECK_FAIL,
		  "Interrupt remapping is off: vfio refuses to assign PCI devices unless unsafe "
		  "interrupts are allowed.",
		  "Enable interrupt remapping in the firmware setup (x2APIC, VT-d or AMD-Vi "
		  "options); as a last resort, and only on a trusted host, add "
		  "vfio_iommu_type1.allow_unsafe_interrupts=1 to the kernel command line.",
		  false },
		/* The escape is taken: it works, with a warning. */
		{ 0, true, CHECK_WARN,
		  "Interrupt remapping is off; vfio assigns devices anyway because unsafe "
		  "interrupts are allowed, so a VM could forge interrupts.",
		  "Enable interrupt remapping in the firmware setup and drop "
		  "vfio_iommu_type1.allow_unsafe_interrupts=1.",
		  true },
		{ -1, false, CHECK_SKIP,
		  "Whether interrupts are remapped is unknown (proc/interrupts is unreadable).",
		  NULL, true },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		HostModel *model = ready_host();
		const Readiness *r;

		model->facts.irq_remapping = cases[i].irq_remapping;
		model->facts.unsafe_interrupts_allowed = cases[i].unsafe_allowed;
		add_dgpu(model);
		r = evaluate(model, &qemu_ok);
		expect_result(r, "interrupt-remapping", cases[i].status, cases[i].summary,
			      cases[i].fix);
		expect_ready(r, false, false, cases[i].passthrough_ready);
	}
}

static void test_kvm(void **state)
{
	static const struct {
		const char *cpu_vendor;
		bool present, usable;
		CheckStatus status;
		const char *summary, *fix;
	} cases[] = {
		{ "GenuineIntel", true, true, CHECK_PASS, "/dev/kvm is usable.", NULL },
		{ "GenuineIntel", true, false, CHECK_FAIL, "/dev/kvm exists but cannot be opened.",
		  "Check the permissions of /dev/kvm (crw-rw---- root:kvm)." },
		{ "GenuineIntel", false, false, CHECK_FAIL,
		  "There is no /dev/kvm: without KVM, VMs run emulated and far too slowly for a "
		  "GPU.",
		  "Enable virtualization (Intel VT-x) in the firmware setup and load kvm_intel "
		  "(modprobe kvm_intel)." },
		{ "AuthenticAMD", false, false, CHECK_FAIL,
		  "There is no /dev/kvm: without KVM, VMs run emulated and far too slowly for a "
		  "GPU.",
		  "Enable virtualization (AMD-V/SVM) in the firmware setup and load kvm_amd "
		  "(modprobe kvm_amd)." },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		HostModel *model = ready_host();
		const Readiness *r;

		free(model->facts.cpu_vendor);
		model->facts.cpu_vendor = strdup(cases[i].cpu_vendor);
		model->facts.kvm_present = cases[i].present;
		model->facts.kvm_usable = cases[i].usable;
		add_igpu(model);
		add_dgpu(model);
		r = evaluate(model, &qemu_ok);
		expect_result(r, "kvm", cases[i].status, cases[i].summary, cases[i].fix);
		if (cases[i].status == CHECK_PASS) {
			expect_ready(r, true, false, true);
		} else {
			/* Every mode needs KVM: the offered ones are warnings now. */
			expect_ready(r, false, false, false);
			expect_result(r, "gpu-0000:00:02.0-mdev", CHECK_WARN,
				      "mdev: i915-GVTg_V5_4: 2 free, i915-GVTg_V5_8: "
				      "4 free.",
				      PREREQUISITES_FIX);
			expect_result(r, "gpu-0000:01:00.0-passthrough", CHECK_WARN,
				      "passthrough: the whole GPU (2 functions).",
				      PREREQUISITES_FIX);
		}
	}
}

/* Replaces the module lists: `loaded` and `loadable` are "a,b,c" or "". */
static void set_modules(HostModel *model, const char *loaded, const char *loadable)
{
	const char *lists[2] = { loaded, loadable };
	char ***targets[2] = { &model->facts.modules_loaded, &model->facts.modules_loadable };

	for (int l = 0; l < 2; l++) {
		_cleanup_free_ char *copy = strdup(lists[l]);
		char *save = NULL;

		assert_non_null(copy);
		*targets[l] = strv_free(*targets[l]);
		for (char *m = strtok_r(copy, ",", &save); m; m = strtok_r(NULL, ",", &save))
			assert_int_equal(strv_append(targets[l], m), 0);
	}
}

static void test_modules(void **state)
{
	HostModel *model = ready_host();
	const Readiness *r;

	/* vfio loaded, vfio_pci and mdev loadable, vfio_iommu_type1 absent. */
	set_modules(model, "vfio,kvm,kvm_intel", "vfio,vfio_pci,mdev,kvm,kvm_intel");
	add_dgpu(model);
	r = evaluate(model, &qemu_ok);

	expect_result(r, "module-vfio", CHECK_PASS, "The vfio module is loaded.", NULL);
	expect_result(r, "module-vfio_pci", CHECK_WARN,
		      "The vfio_pci module is not loaded, but this kernel has it.",
		      "modprobe vfio_pci (and add it to /etc/modules to keep it)");
	expect_result(r, "module-mdev", CHECK_WARN,
		      "The mdev module is not loaded, but this kernel has it.",
		      "modprobe mdev (and add it to /etc/modules to keep it)");
	expect_result(r, "module-vfio_iommu_type1", CHECK_FAIL,
		      "This kernel has no vfio_iommu_type1 module.", MODULE_ABSENT_FIX);
	expect_result(r, "gpu-0000:01:00.0-passthrough", CHECK_WARN,
		      "passthrough: the whole GPU (2 functions).", PREREQUISITES_FIX);
	expect_ready(r, false, false, false);
}

/* Loadable is enough: libvfio's unit loads what it needs. */
static void test_modules_loadable_are_ready(void **state)
{
	HostModel *model = ready_host();
	const Readiness *r;

	set_modules(model, "", "vfio,vfio_pci,vfio_iommu_type1,mdev");
	add_igpu(model);
	add_dgpu(model);
	r = evaluate(model, &qemu_ok);

	for (size_t i = 3; i < 7; i++)
		expect_status(r, host_check_ids[i], CHECK_WARN);
	expect_status(r, "gpu-0000:00:02.0-mdev", CHECK_PASS);
	expect_status(r, "gpu-0000:01:00.0-passthrough", CHECK_PASS);
	expect_ready(r, true, false, true);
}

/* mdev needs vfio and mdev; passthrough and SR-IOV need vfio, vfio_pci and vfio_iommu_type1. */
static void test_modules_per_mode(void **state)
{
	static const struct {
		const char *loaded;
		bool mdev, sriov, passthrough;
	} cases[] = {
		{ "vfio,vfio_pci,vfio_iommu_type1,mdev", true, true, true },
		{ "vfio_pci,vfio_iommu_type1,mdev", false, false, false },
		{ "vfio,vfio_iommu_type1,mdev", true, false, false },
		/* mdev devices are used through a type1 container too */
		{ "vfio,vfio_pci,mdev", false, false, false },
		{ "vfio,vfio_pci,vfio_iommu_type1", false, true, true },
		{ "", false, false, false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		HostModel *model = ready_host();
		const Readiness *r;

		/* Nothing loadable: what is not loaded is absent, a failure. */
		set_modules(model, cases[i].loaded, "");
		add_igpu(model);
		add_dgpu(model);
		add_amd_sriov(model);
		r = evaluate(model, &qemu_ok);
		expect_ready(r, cases[i].mdev, cases[i].sriov, cases[i].passthrough);
		expect_status(r, "gpu-0000:00:02.0-mdev", cases[i].mdev ? CHECK_PASS : CHECK_WARN);
		expect_status(r, "gpu-0000:03:00.0-sriov",
			      cases[i].sriov ? CHECK_PASS : CHECK_WARN);
		expect_status(r, "gpu-0000:01:00.0-passthrough",
			      cases[i].passthrough ? CHECK_PASS : CHECK_WARN);
	}
}

static void test_hugepages(void **state)
{
	HostModel *none = ready_host();
	HostModel *empty_pools = ready_host();
	HostModel *two_sizes = ready_host();
	const Readiness *r;

	free(none->facts.hugepages);
	none->facts.hugepages = NULL;
	none->facts.n_hugepages = 0;
	add_dgpu(none);
	r = evaluate(none, &qemu_ok);
	expect_result(r, "hugepages", CHECK_WARN,
		      "No hugepages are reserved: VMs will use normal pages, which is slower.",
		      "Reserve hugepages for VM memory, for example 8 GiB: echo 4096 > "
		      "/proc/sys/vm/nr_hugepages (or vm.nr_hugepages in /etc/sysctl.d/).");
	/* Slower, not impossible. */
	expect_ready(r, false, false, true);

	/* Pools that exist but hold nothing are no hugepages either. */
	empty_pools->facts.hugepages[0].total = 0;
	empty_pools->facts.hugepages[0].free = 0;
	model_add_hugepages(empty_pools, 1048576, 0, 0);
	r = evaluate(empty_pools, &qemu_ok);
	expect_status(r, "hugepages", CHECK_WARN);

	/* 4096 x 2 MiB and 2 x 1 GiB reserved; 1024 x 2 MiB and 1 x 1 GiB free. */
	model_add_hugepages(two_sizes, 1048576, 2, 1);
	r = evaluate(two_sizes, &qemu_ok);
	expect_result(r, "hugepages", CHECK_PASS,
		      "10240 MiB of hugepages are reserved, 3072 MiB free.", NULL);
}

static void test_qemu(void **state)
{
	static const struct {
		QemuInfo info;
		const char *summary;
	} cases[] = {
		{ { NULL, NULL, QEMU_NOT_FOUND },
		  "QEMU is not usable: qemu-system-x86_64 was not found in PATH; install it (apt "
		  "install qemu-system-x86) or set qemu-binary in libvfiod.yaml." },
		{ { QEMU_PATH, NULL, "it hung when run with --version" },
		  "QEMU is not usable: it hung when run with --version." },
		{ { NULL, NULL, NULL }, "QEMU is not usable: unknown reason." },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		HostModel *model = ready_host();
		const Readiness *r;

		add_igpu(model);
		r = evaluate(model, &cases[i].info);
		expect_result(r, "qemu", CHECK_FAIL, cases[i].summary,
			      "apt install qemu-system-x86, or set qemu-binary in "
			      "/etc/libvfio/libvfiod.yaml.");
		expect_ready(r, false, false, false);
		expect_status(r, "gpu-0000:00:02.0-mdev", CHECK_WARN);
	}
}

static void test_ovmf(void **state)
{
	HostModel *two = ready_host();
	HostModel *none = ready_host();
	const Readiness *r;

	assert_int_equal(strv_append(&two->facts.ovmf_files, "/usr/share/ovmf/OVMF.fd"), 0);
	add_igpu(two);
	r = evaluate(two, &qemu_ok);
	expect_result(r, "ovmf", CHECK_PASS,
		      "UEFI firmware for guests: /usr/share/OVMF/OVMF_CODE_4M.fd.", NULL);

	none->facts.ovmf_files = strv_free(none->facts.ovmf_files);
	add_igpu(none);
	r = evaluate(none, &qemu_ok);
	expect_result(r, "ovmf", CHECK_WARN,
		      "No OVMF (UEFI firmware for guests) was found: Windows 11 and most GPU "
		      "guests need it.",
		      "apt install ovmf");
	expect_ready(r, true, false, true);
}

/* A daemon that cannot raise QEMU's locked-memory limit says so, and how far VMs can go. */
static void test_memlock(void **state)
{
	static const char fix[] = "Give libvfiod CAP_SYS_RESOURCE (the shipped unit does) or raise "
				  "its hard limit (LimitMEMLOCK=infinity in the unit, ulimit -l "
				  "unlimited).";
	HostModel *some = ready_host();
	HostModel *little = ready_host();
	const Readiness *r;

	some->facts.memlock_grantable = UINT64_C(5) << 30;
	add_igpu(some);
	r = evaluate(some, &qemu_ok);
	expect_result(r, "memlock", CHECK_WARN,
		      "The daemon can give QEMU only 5120 MiB of locked memory: VMs with a GPU "
		      "and more than 4096 MiB of RAM cannot start (VFIO pins guest RAM + 1 GiB).",
		      fix);
	expect_ready(r, true, false, true);

	little->facts.memlock_grantable = UINT64_C(8) << 20; /* systemd's default */
	add_igpu(little);
	r = evaluate(little, &qemu_ok);
	expect_result(r, "memlock", CHECK_FAIL,
		      "The daemon can give QEMU only 8 MiB of locked memory: no VM with a GPU can "
		      "start (VFIO pins guest RAM + 1 GiB).",
		      fix);
	expect_ready(r, false, false, false);
}

static void test_no_gpu(void **state)
{
	HostModel *empty = ready_host();
	HostModel *no_display = ready_host();
	const Readiness *r;

	r = evaluate(empty, &qemu_ok);
	assert_int_equal(r->n_checks, ELEMENTSOF(host_check_ids) + 1);
	assert_string_equal(r->checks[r->n_checks - 1].id, "gpus");
	expect_result(r, "gpus", CHECK_FAIL, "No GPU was found on the PCI bus.",
		      "libvfio needs a GPU (a PCI display controller); check that it is seated and "
		      "enabled in the firmware setup.");
	expect_ready(r, false, false, false);

	/* A bridge, a network card, and a display controller whose class could not be read. */
	model_add_function(no_display, ROOT_PORT, VENDOR_INTEL, CLASS_PCI_BRIDGE, "pcieport");
	model_add_function(no_display, "0000:02:00.0", VENDOR_INTEL, CLASS_ETHERNET, "igb");
	model_add_function(no_display, DGPU, VENDOR_NVIDIA, CLASS_VGA, NULL)->readable = false;
	model_add_group(no_display, 1, ROOT_PORT, "0000:02:00.0", DGPU, NULL);
	r = evaluate(no_display, &qemu_ok);
	expect_status(r, "gpus", CHECK_FAIL);
	assert_int_equal(r->n_checks, ELEMENTSOF(host_check_ids) + 1);
	expect_ready(r, false, false, false);
}

/* What discovery could not read about the host (a Secure Boot variable, ...) is a warning. */
static void test_host_warnings_are_shown(void **state)
{
	HostModel *model = ready_host();
	const Readiness *r;

	add_igpu(model);
	assert_int_equal(strv_append(&model->warnings,
				     "the SecureBoot EFI variable could not be read (not 5 bytes "
				     "ending in 0 or 1): Secure Boot's state is unknown"),
			 0);
	r = evaluate(model, &qemu_ok);
	expect_result(r, "host", CHECK_WARN,
		      "the SecureBoot EFI variable could not be read (not 5 bytes ending in 0 or "
		      "1): Secure Boot's state is unknown.",
		      NULL);
}

/* VFs are partitions of their PF, not GPUs of their own. */
static void test_vfs_are_not_gpus(void **state)
{
	HostModel *model = ready_host();
	const Readiness *r;

	function_set_sriov(model_add_function(model, AMD_PF, VENDOR_AMD, CLASS_VGA, "amdgpu"), 16,
			   2);
	model_add_vf(model, AMD_PF, "0000:03:02.0", VENDOR_AMD, CLASS_VGA, "amdgpu");
	model_add_vf(model, AMD_PF, "0000:03:02.1", VENDOR_AMD, CLASS_VGA, "vfio-pci");
	model_add_group(model, 2, AMD_PF, NULL);
	model_add_group(model, 3, "0000:03:02.0", NULL);
	model_add_group(model, 4, "0000:03:02.1", NULL);
	r = evaluate(model, &qemu_ok);

	/* The family, the doctor's reset warning (an AMD card vendor-reset does not know). */
	assert_int_equal(r->n_checks, ELEMENTSOF(host_check_ids) + 5);
	expect_status(r, "gpu-0000:03:00.0-family", CHECK_PASS);
	expect_status(r, "gpu-0000:03:00.0-doctor-warning-0", CHECK_WARN);
	expect_result(r, "gpu-0000:03:00.0-sriov", CHECK_PASS, "sriov: 1/2 VFs free.", NULL);
	expect_result(r, "gpu-0000:03:00.0-mdev", CHECK_SKIP,
		      "mdev: not offered: AMD GPUs offer no mediated devices; AMD "
		      "splits data-centre GPUs with SR-IOV (MxGPU).",
		      NULL);
	assert_false(has_check(r, "gpu-0000:03:02.0-sriov"));
	assert_false(has_check(r, "gpu-0000:03:02.1-passthrough"));
	expect_ready(r, false, true, true);
}

/* A mode a change would make available is a warning with that change as the fix. */
static void test_gpu_fixable_is_warning(void **state)
{
	HostModel *gvt_off = ready_host();
	HostModel *no_kvmgt = ready_host();
	const Readiness *r;

	gvt_off->facts.i915_enable_gvt = 0;
	model_add_function(gvt_off, IGPU, VENDOR_INTEL, CLASS_VGA, "i915");
	model_add_group(gvt_off, 0, IGPU, NULL);
	r = evaluate(gvt_off, &qemu_ok);
	expect_result(r, "gpu-0000:00:02.0-mdev", CHECK_WARN,
		      "mdev: not offered: GVT-g is off (i915.enable_gvt); only Intel "
		      "graphics of the 5th to 9th generation (Broadwell to Comet Lake) support "
		      "it, newer ones use SR-IOV.",
		      "Add i915.enable_gvt=1 to the kernel command line, load kvmgt (echo kvmgt > "
		      "/etc/modules-load.d/kvmgt.conf) and reboot.");
	/* mdev is not ready, passthrough of the same GPU is. */
	expect_ready(r, false, false, true);

	set_modules(no_kvmgt, "vfio,vfio_pci,vfio_iommu_type1,mdev,i915", "");
	model_add_function(no_kvmgt, IGPU, VENDOR_INTEL, CLASS_VGA, "i915");
	r = evaluate(no_kvmgt, &qemu_ok);
	expect_result(
		r, "gpu-0000:00:02.0-mdev", CHECK_WARN,
		"mdev: not offered: GVT-g is on but the kvmgt module is not "
		"loaded.",
		"modprobe kvmgt (and echo kvmgt > /etc/modules-load.d/kvmgt.conf to keep it).");
	expect_ready(r, false, false, false);
}

/* A mode that cannot be had on this card is skipped, and says why. */
static void test_gpu_impossible_is_skip(void **state)
{
	HostModel *model = ready_host();
	const Readiness *r;

	model_add_function(model, "0000:02:00.0", VENDOR_INTEL, CLASS_ETHERNET, "igb");
	model_add_function(model, DGPU, VENDOR_NVIDIA, CLASS_VGA, "nvidia")->boot_vga = 1;
	model_add_group(model, 1, DGPU, "0000:02:00.0", NULL);
	r = evaluate(model, &qemu_ok);

	expect_result(r, "gpu-0000:01:00.0-mdev", CHECK_SKIP,
		      "mdev: not offered: no vGPU types: they come with NVIDIA's "
		      "vGPU host driver (nvidia-vgpu-mgr, licensed); the standard driver offers "
		      "none.",
		      NULL);
	expect_result(r, "gpu-0000:01:00.0-sriov", CHECK_SKIP,
		      "sriov: not offered: it has no SR-IOV capability.", NULL);
	expect_result(r, "gpu-0000:01:00.0-passthrough", CHECK_SKIP,
		      "passthrough: not offered: IOMMU group 1 also holds "
		      "0000:02:00.0, which would go to the VM with it; put the card in another "
		      "slot.",
		      NULL);
	for (size_t i = ELEMENTSOF(host_check_ids); i < r->n_checks; i++)
		assert_string_equal(r->checks[i].gpu, DGPU);
	expect_ready(r, false, false, false);
}

/* Two GPUs: the host is ready for a mode when any GPU offers it. */
static void test_ready_modes_across_gpus(void **state)
{
	HostModel *model = ready_host();
	const Readiness *r;

	add_igpu(model);
	add_dgpu(model);
	add_amd_sriov(model);
	r = evaluate(model, &qemu_ok);

	/* In address order: each GPU's family, its modes. */
	assert_int_equal(r->n_checks, ELEMENTSOF(host_check_ids) + 12);
	assert_string_equal(r->checks[11].id, "gpu-0000:00:02.0-family");
	assert_string_equal(r->checks[12].id, "gpu-0000:00:02.0-mdev");
	assert_string_equal(r->checks[15].id, "gpu-0000:01:00.0-family");
	assert_string_equal(r->checks[16].id, "gpu-0000:01:00.0-mdev");
	assert_string_equal(r->checks[17].id, "gpu-0000:01:00.0-sriov");
	assert_string_equal(r->checks[18].id, "gpu-0000:01:00.0-passthrough");
	assert_string_equal(r->checks[19].id, "gpu-0000:03:00.0-family");
	assert_string_equal(r->checks[20].id, "gpu-0000:03:00.0-mdev");
	expect_status(r, "gpu-0000:00:02.0-mdev", CHECK_PASS);
	expect_status(r, "gpu-0000:00:02.0-sriov", CHECK_SKIP);
	expect_status(r, "gpu-0000:01:00.0-passthrough", CHECK_PASS);
	expect_status(r, "gpu-0000:03:00.0-sriov", CHECK_PASS);
	expect_ready(r, true, true, true);
}

int main(void)
{
#define HOST_TEST(f) cmocka_unit_test_teardown(f, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_status_names),
		HOST_TEST(test_ready_host),
		HOST_TEST(test_iommu_on),
		HOST_TEST(test_iommu_one_group),
		HOST_TEST(test_iommu_off_intel),
		HOST_TEST(test_iommu_off_amd),
		HOST_TEST(test_iommu_off_leaves_mdev),
		HOST_TEST(test_interrupt_remapping),
		HOST_TEST(test_kvm),
		HOST_TEST(test_modules),
		HOST_TEST(test_modules_loadable_are_ready),
		HOST_TEST(test_modules_per_mode),
		HOST_TEST(test_hugepages),
		HOST_TEST(test_qemu),
		HOST_TEST(test_ovmf),
		HOST_TEST(test_memlock),
		HOST_TEST(test_no_gpu),
		HOST_TEST(test_host_warnings_are_shown),
		HOST_TEST(test_vfs_are_not_gpus),
		HOST_TEST(test_gpu_fixable_is_warning),
		HOST_TEST(test_gpu_impossible_is_skip),
		HOST_TEST(test_ready_modes_across_gpus),
	};
#undef HOST_TEST

	return cmocka_run_group_tests_name("readiness", tests, NULL, NULL);
}
