/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The hardware doctor on host models built by hand: the family table (IDs,
 * rules, the unknown GPU, each row citing a source) and the advice for each
 * family, asserted word for word where it is what the user types: an Alder
 * Lake iGPU on Debian 12's i915, the same with the out-of-tree module, a
 * Broadwell..Comet Lake iGPU with GVT-g off, a Battlemage card on 6.1, NVIDIA
 * data-centre and consumer cards, a Polaris card with and without
 * vendor-reset, a newer AMD card.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "host/gpu_doctor.h"
#include "host/gpu_family.h"
#include "host/host.h"
#include "host/host_internal.h"
#include "host_builder.h"
#include "macro.h"
#include "strv.h"

#define IGPU "0000:00:02.0"
#define DGPU "0000:03:00.0"

#define MOK                                                                                \
	"Secure Boot is on: enroll the DKMS key, mokutil --import /var/lib/dkms/mok.pub, " \
	"and confirm it at the next boot"

static GpuDoctor doctor;

static int teardown(void **state)
{
	gpu_doctor_done(&doctor);
	return models_teardown(state);
}

/* A Debian 12 host: kernel 6.1, an IOMMU, the usual modules. */
static HostModel *debian_host(const char *cmdline)
{
	HostModel *model = model_new();

	model->facts.kernel_release = strdup("6.1.0-57-amd64");
	model->facts.cmdline = strdup(cmdline);
	assert_non_null(model->facts.kernel_release);
	assert_non_null(model->facts.cmdline);
	assert_int_equal(strv_append(&model->facts.modules_loaded, "i915"), 0);
	model->facts.efi_boot = true;
	model->facts.secure_boot = 1;
	return model;
}

static PciFunction *add_gpu(HostModel *model, const char *address, uint16_t vendor, uint16_t device,
			    uint32_t class, const char *driver)
{
	PciFunction *gpu = model_add_function(model, address, vendor, class, driver);

	gpu->device_id = device;
	return gpu;
}

static const PciFunction *examine(HostModel *model, const char *address, int group)
{
	model_add_group(model, group, address, NULL);
	model_finish(model);
	const PciFunction *gpu = model_function(model, address);
	gpu_doctor_done(&doctor);
	assert_int_equal(gpu_doctor_examine(model, gpu, &doctor), 0);
	return gpu;
}

static const GpuAdvice *advice(const char *mechanism)
{
	for (size_t i = 0; i < doctor.n_advice; i++)
		if (strcmp(doctor.advice[i].mechanism, mechanism) == 0)
			return &doctor.advice[i];
	fail_msg("no advice for %s", mechanism);
	return NULL;
}

static void test_every_row_cites_a_source(void **state)
{
	size_t n;
	const GpuFamily *rows = gpu_family_table(&n);

	assert_true(n > 0);
	for (size_t i = 0; i < n; i++) {
		assert_non_null(rows[i].name);
		assert_non_null(rows[i].mechanisms);
		assert_non_null(rows[i].source);
		assert_true(strlen(rows[i].source) > 0);
	}
	/* The last row is the fallback: it matches anything. */
	assert_int_equal(rows[n - 1].kind, GPU_FAMILY_UNKNOWN);
}

static void test_lookup(void **state)
{
	static const struct {
		uint16_t vendor, device;
		uint32_t class;
		const char *driver;
		GpuFamilyKind kind;
	} cases[] = {
		{ 0x8086, 0x3e92, CLASS_VGA, "i915", GPU_FAMILY_INTEL_GVTG }, /* Coffee Lake */
		{ 0x8086, 0x1616, CLASS_VGA, "i915", GPU_FAMILY_INTEL_GVTG }, /* Broadwell */
		{ 0x8086, 0x9bc5, CLASS_VGA, "i915", GPU_FAMILY_INTEL_GVTG }, /* Comet Lake */
		{ 0x8086, 0x46a6, CLASS_VGA, "i915", GPU_FAMILY_INTEL_SRIOV_I915 }, /* ADL-P */
		{ 0x8086, 0xa780, CLASS_VGA, "i915", GPU_FAMILY_INTEL_SRIOV_I915 }, /* RPL-S */
		{ 0x8086, 0x46d1, CLASS_VGA, "i915", GPU_FAMILY_INTEL_SRIOV_I915 }, /* ADL-N */
		{ 0x8086, 0x9a49, CLASS_VGA, "i915", GPU_FAMILY_INTEL_SRIOV_I915 }, /* TGL */
		{ 0x8086, 0x7d55, CLASS_VGA, "i915", GPU_FAMILY_INTEL_SRIOV_OOT }, /* MTL */
		{ 0x8086, 0x7d67, CLASS_VGA, "i915", GPU_FAMILY_INTEL_SRIOV_OOT }, /* ARL-S */
		{ 0x8086, 0xe211, CLASS_VGA, "xe", GPU_FAMILY_INTEL_SRIOV_XE }, /* BMG */
		{ 0x8086, 0xb080, CLASS_VGA, "xe", GPU_FAMILY_INTEL_SRIOV_XE }, /* PTL */
		{ 0x8086, 0x0412, CLASS_VGA, "i915", GPU_FAMILY_UNKNOWN }, /* Haswell */
		{ 0x10de, 0x1eb8, CLASS_3D, "nvidia", GPU_FAMILY_NVIDIA_DATACENTER },
		{ 0x10de, 0x2684, CLASS_VGA, "nvidia", GPU_FAMILY_NVIDIA_OTHER },
		{ 0x1002, 0x6929, CLASS_VGA, "gim", GPU_FAMILY_AMD_MXGPU },
		{ 0x1002, 0x6929, CLASS_VGA, "amdgpu", GPU_FAMILY_AMD_MXGPU }, /* by ID */
		{ 0x1002, 0x67df, CLASS_VGA, "amdgpu", GPU_FAMILY_AMD_VENDOR_RESET }, /* RX 580 */
		{ 0x1002, 0x73ff, CLASS_VGA, "vfio-pci",
		  GPU_FAMILY_AMD_VENDOR_RESET }, /* Navi 23 */
		{ 0x1002, 0x744c, CLASS_VGA, "amdgpu", GPU_FAMILY_AMD_OTHER }, /* Navi 31 */
		{ 0x1234, 0x1111, CLASS_VGA, "bochs-drm", GPU_FAMILY_UNKNOWN },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		PciFunction gpu = {
			.vendor_id = cases[i].vendor,
			.device_id = cases[i].device,
			.class_code = cases[i].class,
			.driver = (char *)cases[i].driver,
			.readable = true,
		};
		const GpuFamily *family = gpu_family_lookup(&gpu);
		if (family->kind != cases[i].kind)
			fail_msg("%04x:%04x (%s): family %s", cases[i].vendor, cases[i].device,
				 cases[i].driver, family->name);
	}

	/* IDs that could not be read say nothing. */
	PciFunction unreadable = { .vendor_id = 0x8086, .device_id = 0x46a6 };
	assert_int_equal(gpu_family_lookup(&unreadable)->kind, GPU_FAMILY_UNKNOWN);
}

/* The example: an Alder Lake iGPU on Debian 12's plain i915. */
static void test_alder_lake_on_plain_i915(void **state)
{
	HostModel *model = debian_host("BOOT_IMAGE=/vmlinuz root=/dev/sda1 intel_iommu=on");

	add_gpu(model, IGPU, VENDOR_INTEL, 0x46a6, CLASS_VGA, "i915");
	examine(model, IGPU, 0);

	assert_int_equal(doctor.family->kind, GPU_FAMILY_INTEL_SRIOV_I915);
	const GpuAdvice *sriov = advice("SR-IOV, up to 7 VFs");
	assert_false(sriov->usable);
	assert_int_equal(sriov->mode, PARTITION_SRIOV);
	assert_string_equal(sriov->steps,
			    "install i915-sriov-dkms (github.com/strongtz/i915-sriov-dkms, a "
			    "release for this kernel), " MOK ", add i915.enable_guc=3 "
			    "i915.max_vfs=7 to GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, "
			    "update-grub, update-initramfs -u, reboot");
	assert_true(advice("passthrough")->usable);
	/* Debian 12's 6.1 has no xe: the out-of-tree i915 is the only way there. */
	assert_int_equal(strv_length(doctor.warnings), 2);
	assert_string_equal(doctor.warnings[0],
			    "Linux 6.1.0-57-amd64 has no xe driver: on it, SR-IOV for this GPU "
			    "comes only from the out-of-tree i915");
	/* Windows guests on Intel VFs. */
	assert_non_null(strstr(doctor.warnings[1], "Code 43"));
	assert_non_null(strstr(doctor.warnings[1], "GOP ROM (rom: in its gpu entry)"));
}

/* The command line has the words but i915 offers no VFs: the module is missing. */
static void test_alder_lake_words_without_module(void **state)
{
	HostModel *model = debian_host("root=/dev/sda1 i915.enable_guc=3 i915.max_vfs=7 quiet");

	add_gpu(model, IGPU, VENDOR_INTEL, 0x4680, CLASS_VGA, "i915");
	examine(model, IGPU, 0);

	const GpuAdvice *sriov = advice("SR-IOV, up to 7 VFs");
	assert_false(sriov->usable);
	assert_non_null(strstr(sriov->steps, "check that dkms status lists i915-sriov-dkms"));
	assert_null(strstr(sriov->steps, "GRUB_CMDLINE_LINUX_DEFAULT"));
}

/* A word inside another is not the word. */
static void test_cmdline_words_are_whole(void **state)
{
	HostModel *model = debian_host("xi915.enable_guc=3 i915.max_vfs=70");

	add_gpu(model, IGPU, VENDOR_INTEL, 0x4680, CLASS_VGA, "i915");
	examine(model, IGPU, 0);
	assert_non_null(strstr(advice("SR-IOV, up to 7 VFs")->steps,
			       "add i915.enable_guc=3 i915.max_vfs=7 to"));
}

/* With the out-of-tree module, the iGPU has SR-IOV: usable now, nothing to do. */
static void test_alder_lake_with_sriov(void **state)
{
	HostModel *model = debian_host("i915.enable_guc=3 i915.max_vfs=7");

	function_set_sriov(add_gpu(model, IGPU, VENDOR_INTEL, 0x46a6, CLASS_VGA, "i915"), 7, 0);
	examine(model, IGPU, 0);

	const GpuAdvice *sriov = advice("SR-IOV, up to 7 VFs");
	assert_true(sriov->usable);
	assert_null(sriov->steps);
	assert_null(sriov->reason);
	assert_int_equal(strv_length(doctor.warnings), 1); /* Code 43 */
}

static void test_gvtg_off(void **state)
{
	HostModel *model = debian_host("quiet");

	model->facts.i915_enable_gvt = 0;
	add_gpu(model, IGPU, VENDOR_INTEL, 0x3e92, CLASS_VGA, "i915");
	examine(model, IGPU, 0);

	const GpuAdvice *mdev = advice("mdev (GVT-g)");
	assert_false(mdev->usable);
	assert_string_equal(mdev->steps, "add i915.enable_gvt=1 to GRUB_CMDLINE_LINUX_DEFAULT in "
					 "/etc/default/grub, update-grub, echo kvmgt > "
					 "/etc/modules-load.d/kvmgt.conf, reboot");
	assert_non_null(mdev->reason); /* gpu_modes' note */
}

static void test_gvtg_on(void **state)
{
	HostModel *model = debian_host("i915.enable_gvt=1");

	model->facts.i915_enable_gvt = 1;
	function_add_mdev_type(add_gpu(model, IGPU, VENDOR_INTEL, 0x5912, CLASS_VGA, "i915"),
			       "i915-GVTg_V5_4", 2, 0);
	examine(model, IGPU, 0);
	assert_true(advice("mdev (GVT-g)")->usable);
}

/* GVT-g on, kvmgt loaded, still no types: nothing to change, so no steps (not "reboot"). */
static void test_gvtg_on_without_types(void **state)
{
	HostModel *model = debian_host("i915.enable_gvt=1");

	model->facts.i915_enable_gvt = 1;
	assert_int_equal(strv_append(&model->facts.modules_loaded, "kvmgt"), 0);
	add_gpu(model, IGPU, VENDOR_INTEL, 0x5912, CLASS_VGA, "i915");
	examine(model, IGPU, 0);

	const GpuAdvice *mdev = advice("mdev (GVT-g)");
	assert_false(mdev->usable);
	assert_null(mdev->steps);
	assert_non_null(mdev->reason);
}

/* A tab separates command-line words too; a kernel release past 99.99 is unknown. */
static void test_cmdline_tabs_and_odd_releases(void **state)
{
	HostModel *model = debian_host("quiet\ti915.enable_guc=3\ti915.max_vfs=7");

	free(model->facts.kernel_release);
	model->facts.kernel_release = strdup("4294967295.1-odd");
	add_gpu(model, IGPU, VENDOR_INTEL, 0x4680, CLASS_VGA, "i915");
	examine(model, IGPU, 0);

	assert_null(strstr(advice("SR-IOV, up to 7 VFs")->steps, "GRUB_CMDLINE_LINUX_DEFAULT"));
	/* No "has no xe driver": the version is not known. */
	assert_int_equal(strv_length(doctor.warnings), 1);
	assert_non_null(strstr(doctor.warnings[0], "Code 43"));
}

/* Battlemage on Debian 12: xe's SR-IOV needs a far newer kernel. */
static void test_battlemage_on_debian_12(void **state)
{
	HostModel *model = debian_host("quiet");

	add_gpu(model, DGPU, VENDOR_INTEL, 0xe211, CLASS_VGA, NULL);
	examine(model, DGPU, 1);

	assert_int_equal(doctor.family->kind, GPU_FAMILY_INTEL_SRIOV_XE);
	assert_string_equal(advice("SR-IOV (xe)")->steps,
			    "run Linux 6.17 or later (this is 6.1.0-57-amd64; Debian 12 ships "
			    "6.1), let xe drive the GPU, add xe.max_vfs=N (the VFs wanted) to "
			    "GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub, update-grub, reboot");
}

static void test_nvidia_datacentre_ampere(void **state)
{
	HostModel *model = debian_host("quiet");

	function_set_sriov(add_gpu(model, DGPU, VENDOR_NVIDIA, 0x27b8, CLASS_3D, "nvidia"), 16, 0);
	examine(model, DGPU, 1);

	const GpuAdvice *vgpu = advice("vGPU on SR-IOV VFs");
	assert_false(vgpu->usable);
	assert_string_equal(vgpu->reason, "NVIDIA's vGPU host driver is not loaded");
	assert_non_null(strstr(vgpu->steps, "sriov-manage -e 0000:03:00.0"));
}

/* vGPU 17 on Linux 6.8+: no nvidia_vgpu_vfio, the VFs' nvidia/ files say the manager runs. */
static void test_nvidia_datacentre_vgpu17(void **state)
{
	HostModel *model = debian_host("quiet");

	function_set_sriov(add_gpu(model, DGPU, VENDOR_NVIDIA, 0x27b8, CLASS_3D, "nvidia"), 16, 1);
	function_set_nvidia_vgpu(
		model_add_vf(model, DGPU, "0000:03:00.4", VENDOR_NVIDIA, CLASS_3D, "nvidia"), 0,
		"1155 : NVIDIA L4-8Q\n");
	examine(model, DGPU, 1);

	const GpuAdvice *vgpu = advice("vGPU on SR-IOV VFs");
	assert_true(vgpu->usable);
	assert_int_equal(vgpu->mode, PARTITION_SRIOV);
	assert_null(doctor.warnings);
}

/* A BAR below its largest size: resize it first (which bit, where), and OVMF's window. */
static void test_resizable_bar_below_its_largest(void **state)
{
	HostModel *model = debian_host("quiet");
	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_AMD, 0x73bf, CLASS_VGA, "amdgpu");
	gpu->rebars[0] = (PciRebar){ .bar = 0, .sizes = 0x7f00, .current = 256 << 20 };
	gpu->n_rebars = 1;
	examine(model, DGPU, 1);

	const char *note = NULL;
	for (char **w = doctor.warnings; w && *w; w++)
		if (strstr(*w, "Resizable BAR"))
			note = *w;
	assert_non_null(note);
	assert_non_null(strstr(note, "BAR 0 is 256 MiB of up to 16384 MiB"));
	assert_non_null(
		strstr(note, "echo 14 > /sys/bus/pci/devices/0000:03:00.0/resource0_resize"));
	assert_non_null(strstr(note, "X-PciMmio64Mb,string=32768"));

	/* At its largest already: nothing to say. */
	model = debian_host("quiet");
	gpu = add_gpu(model, DGPU, VENDOR_AMD, 0x73bf, CLASS_VGA, "amdgpu");
	gpu->rebars[0] = (PciRebar){ .bar = 0, .sizes = 0x7f00, .current = UINT64_C(16) << 30 };
	gpu->n_rebars = 1;
	examine(model, DGPU, 1);
	for (char **w = doctor.warnings; w && *w; w++)
		assert_null(strstr(*w, "Resizable BAR"));
}

static void test_nvidia_datacentre_turing_with_types(void **state)
{
	HostModel *model = debian_host("quiet");

	function_add_mdev_type(add_gpu(model, DGPU, VENDOR_NVIDIA, 0x1eb8, CLASS_3D, "nvidia"),
			       "nvidia-222", 4, 0);
	examine(model, DGPU, 1);
	assert_true(advice("vGPU (mdev)")->usable);
}

static void test_geforce_passthrough_only(void **state)
{
	HostModel *model = debian_host("quiet");

	add_gpu(model, DGPU, VENDOR_NVIDIA, 0x2684, CLASS_VGA, "nvidia");
	examine(model, DGPU, 1);

	assert_int_equal(doctor.family->kind, GPU_FAMILY_NVIDIA_OTHER);
	assert_int_equal(doctor.n_advice, 1);
	assert_true(advice("passthrough")->usable);
}

/* An RX 580 without vendor-reset: passthrough works once; the reset needs vendor-reset. */
static void test_polaris_without_vendor_reset(void **state)
{
	HostModel *model = debian_host("quiet");

	add_gpu(model, DGPU, VENDOR_AMD, 0x67df, CLASS_VGA, "amdgpu");
	examine(model, DGPU, 1);

	assert_int_equal(doctor.family->kind, GPU_FAMILY_AMD_VENDOR_RESET);
	const GpuAdvice *reset = advice("reset between VMs (vendor-reset)");
	assert_false(reset->usable);
	assert_int_equal(reset->mode, _PARTITION_MODE_MAX);
	assert_string_equal(reset->steps,
			    "install vendor-reset (DKMS, github.com/gnif/vendor-reset), " MOK
			    ", echo vendor-reset > /etc/modules-load.d/vendor-reset.conf, reboot "
			    "(libvfio then sets reset_method to device_specific while a VM holds "
			    "the GPU)");
}

static void test_polaris_with_vendor_reset(void **state)
{
	HostModel *model = debian_host("quiet");

	assert_int_equal(strv_append(&model->facts.modules_loaded, "vendor_reset"), 0);
	add_gpu(model, DGPU, VENDOR_AMD, 0x67df, CLASS_VGA, "vfio-pci");
	examine(model, DGPU, 1);
	assert_true(advice("reset between VMs (vendor-reset)")->usable);
}

static void test_newer_amd_warns_about_resets(void **state)
{
	HostModel *model = debian_host("quiet");

	add_gpu(model, DGPU, VENDOR_AMD, 0x744c, CLASS_VGA, "amdgpu");
	examine(model, DGPU, 1);

	assert_int_equal(doctor.family->kind, GPU_FAMILY_AMD_OTHER);
	assert_int_equal(strv_length(doctor.warnings), 1);
	assert_non_null(strstr(doctor.warnings[0], "vendor-reset does not know this AMD GPU"));
}

/* reset_method empty: the kernel has no reset for it; absent (before 5.15): nothing said. */
static void test_a_gpu_without_any_reset_is_warned_about(void **state)
{
	HostModel *model = debian_host("quiet");
	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, 0x2684, CLASS_VGA, "nvidia");
	gpu->reset_method = strdup("");
	examine(model, DGPU, 1);
	assert_int_equal(strv_length(doctor.warnings), 1);
	assert_non_null(strstr(doctor.warnings[0], "the kernel knows no way to reset this GPU"));
}

static void test_a_gpu_with_a_reset_or_an_older_kernel_is_not(void **state)
{
	HostModel *model = debian_host("quiet");
	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, 0x2684, CLASS_VGA, "nvidia");
	gpu->reset_method = strdup("flr bus");
	examine(model, DGPU, 1);
	assert_int_equal(strv_length(doctor.warnings), 0);
}

static void test_unknown_gpu(void **state)
{
	HostModel *model = debian_host("quiet");

	add_gpu(model, DGPU, 0x1234, 0x1111, CLASS_VGA, "bochs-drm");
	examine(model, DGPU, 1);

	assert_int_equal(doctor.family->kind, GPU_FAMILY_UNKNOWN);
	assert_string_equal(doctor.family->mechanisms, "passthrough only, as far as libvfio knows");
	assert_int_equal(doctor.n_advice, 1);
}

/* Without an IOMMU, passthrough is not usable, and gpu_modes' note says why. */
static void test_passthrough_reason(void **state)
{
	HostModel *model = debian_host("quiet");

	add_gpu(model, DGPU, VENDOR_NVIDIA, 0x2684, CLASS_VGA, "nvidia");
	model_finish(model);
	assert_int_equal(gpu_doctor_examine(model, model_function(model, DGPU), &doctor), 0);

	const GpuAdvice *p = advice("passthrough");
	assert_false(p->usable);
	assert_null(p->steps);
	assert_string_equal(p->reason,
			    "it is in no IOMMU group: the IOMMU is off (see the iommu check)");
}

/* Secure Boot off, unknown, or no UEFI at all: the enrolment step follows what was read. */
static void test_secure_boot_decides_the_mok_step(void **state)
{
	static const struct {
		bool efi;
		int secure_boot;
		const char *step; /* NULL: none */
	} cases[] = {
		{ true, 0, NULL },
		{ false, -1, NULL },
		{ true, -1,
		  "Secure Boot's state is unknown: if mokutil --sb-state says it is on, "
		  "enroll the DKMS key, mokutil --import /var/lib/dkms/mok.pub" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		HostModel *model = debian_host("quiet");
		model->facts.efi_boot = cases[i].efi;
		model->facts.secure_boot = cases[i].secure_boot;
		add_gpu(model, DGPU, VENDOR_AMD, 0x67df, CLASS_VGA, "amdgpu");
		examine(model, DGPU, 1);
		const char *steps = advice("reset between VMs (vendor-reset)")->steps;
		assert_null(strstr(steps, "Secure Boot is on"));
		if (cases[i].step)
			assert_non_null(strstr(steps, cases[i].step));
		else
			assert_null(strstr(steps, "mokutil"));
		assert_int_equal(models_teardown(state), 0);
		gpu_doctor_done(&doctor);
	}
}

static void test_secure_boot_variable(void **state)
{
	static const uint8_t on[] = { 7, 0, 0, 0, 1 }, off[] = { 6, 0, 0, 0, 0 },
			     odd[] = { 7, 0, 0, 0, 2 }, longer[] = { 7, 0, 0, 0, 1, 0 };

	assert_int_equal(secure_boot_from_efivar(on, sizeof(on)), 1);
	assert_int_equal(secure_boot_from_efivar(off, sizeof(off)), 0);
	assert_int_equal(secure_boot_from_efivar(odd, sizeof(odd)), -1);
	assert_int_equal(secure_boot_from_efivar(longer, sizeof(longer)), -1);
	assert_int_equal(secure_boot_from_efivar(on, 4), -1);
	assert_int_equal(secure_boot_from_efivar(on, 0), -1);
}

/* A V710 that amdgpu took: keep amdgpu off, install gim, sign it, set vf_num. */
static void test_v710_on_amdgpu(void **state)
{
	HostModel *model = debian_host("quiet amd_iommu=on");
	assert_int_equal(strv_append(&model->facts.modules_loaded, "amdgpu"), 0);

	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_AMD, 0x7460, 0x038000, "amdgpu");
	gpu->sriov_total_vfs = 12;
	examine(model, DGPU, 1);

	assert_int_equal(doctor.family->kind, GPU_FAMILY_AMD_MXGPU);
	const GpuAdvice *sriov = advice("SR-IOV (MxGPU)");
	assert_false(sriov->usable);
	assert_string_equal(sriov->reason, "the VFs of an MxGPU come from AMD's gim, and amdgpu "
					   "drives this GPU");
	assert_string_equal(
		sriov->steps,
		"keep amdgpu off the GPU: echo 'blacklist amdgpu' >> "
		"/etc/modprobe.d/blacklist.conf "
		"(AMD's GIM setup), update-initramfs -u, install AMD's gim as DKMS: "
		"github.com/amd/MxGPU-Virtualization (Instinct MI300 and later, Radeon PRO V710), "
		"github.com/GPUOpen-LibrariesAndSDKs/MxGPU-Virtualization (FirePro S7150), " MOK
		", set the VF count: echo 'options gim vf_num=N' > /etc/modprobe.d/gim.conf, "
		"reboot");
}

/* gim drives the PF but enabled no VFs: only its vf_num can, not sriov_numvfs. */
static void test_gim_without_vfs(void **state)
{
	HostModel *model = debian_host("quiet");
	assert_int_equal(strv_append(&model->facts.modules_loaded, "gim"), 0);

	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_AMD, 0x74a1, 0x038000, "gim");
	gpu->sriov_total_vfs = 1;
	examine(model, DGPU, 1);

	const GpuAdvice *sriov = advice("SR-IOV (MxGPU)");
	assert_false(sriov->usable);
	assert_non_null(strstr(sriov->reason, "from its vf_num parameter"));
	assert_string_equal(sriov->steps,
			    "set the VF count: echo 'options gim vf_num=N' > "
			    "/etc/modprobe.d/gim.conf, reload gim (modprobe -r gim; modprobe gim) "
			    "or reboot");
}

/* MI25: SR-IOV hardware, no published host driver: not offered, and the doctor agrees. */
static void test_mi25_is_not_offered_sriov(void **state)
{
	HostModel *model = debian_host("quiet");
	ModeAssessment modes[_PARTITION_MODE_MAX];

	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_AMD, 0x6860, 0x038000, "amdgpu");
	gpu->sriov_total_vfs = 16;
	examine(model, DGPU, 1);
	assert_int_equal(doctor.family->kind, GPU_FAMILY_AMD_VENDOR_RESET);
	assert_int_equal(gpu_assess_modes(model, model_function(model, DGPU), modes), 0);
	assert_false(modes[PARTITION_SRIOV].available);
	assert_non_null(strstr(modes[PARTITION_SRIOV].note, "no published host driver"));
	mode_assessments_done(modes);
}

int main(void)
{
#define HOST_TEST(f) cmocka_unit_test_teardown(f, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_row_cites_a_source),
		cmocka_unit_test(test_lookup),
		HOST_TEST(test_alder_lake_on_plain_i915),
		HOST_TEST(test_alder_lake_words_without_module),
		HOST_TEST(test_cmdline_words_are_whole),
		HOST_TEST(test_alder_lake_with_sriov),
		HOST_TEST(test_gvtg_off),
		HOST_TEST(test_gvtg_on),
		HOST_TEST(test_gvtg_on_without_types),
		HOST_TEST(test_cmdline_tabs_and_odd_releases),
		HOST_TEST(test_battlemage_on_debian_12),
		HOST_TEST(test_nvidia_datacentre_ampere),
		HOST_TEST(test_nvidia_datacentre_vgpu17),
		HOST_TEST(test_resizable_bar_below_its_largest),
		HOST_TEST(test_nvidia_datacentre_turing_with_types),
		HOST_TEST(test_geforce_passthrough_only),
		HOST_TEST(test_polaris_without_vendor_reset),
		HOST_TEST(test_secure_boot_decides_the_mok_step),
		cmocka_unit_test(test_secure_boot_variable),
		HOST_TEST(test_v710_on_amdgpu),
		HOST_TEST(test_gim_without_vfs),
		HOST_TEST(test_mi25_is_not_offered_sriov),
		HOST_TEST(test_polaris_with_vendor_reset),
		HOST_TEST(test_newer_amd_warns_about_resets),
		HOST_TEST(test_a_gpu_without_any_reset_is_warned_about),
		HOST_TEST(test_a_gpu_with_a_reset_or_an_older_kernel_is_not),
		HOST_TEST(test_unknown_gpu),
		HOST_TEST(test_passthrough_reason),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
