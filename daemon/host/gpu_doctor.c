/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/gpu_doctor.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/rebar.h"
#include "macro.h"
#include "strv.h"

/* Where Debian puts the kernel's arguments (update-grub reads it). */
#define GRUB_LINE "GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub"

/*
 * Debian's dkms signs what it builds with its own key; with Secure Boot on,
 * the kernel loads the modules only once that key is enrolled
 * (wiki.debian.org/SecureBoot; mokutil --import /var/lib/dkms/mok.pub).
 */
#define MOK_IMPORT "mokutil --import /var/lib/dkms/mok.pub"

/* The Secure Boot step for an out-of-tree module, by what host_facts.c read. */
static int mok_step(const HostModel *model, char ***steps)
{
	if (!model->facts.efi_boot || model->facts.secure_boot == 0)
		return 0; /* no UEFI or Secure Boot off: any module loads */
	if (model->facts.secure_boot == 1)
		return strv_append(steps, "Secure Boot is on: enroll the DKMS key, " MOK_IMPORT
					  ", and confirm it at the next boot");
	return strv_append(steps, "Secure Boot's state is unknown: if mokutil --sb-state says "
				  "it is on, enroll the DKMS key, " MOK_IMPORT);
}

static bool module_loaded(const HostModel *model, const char *module)
{
	return strv_contains(model->facts.modules_loaded, module);
}

/* A word of the kernel command line, exactly. */
static bool cmdline_has(const HostModel *model, const char *word)
{
	const char *p = model->facts.cmdline;
	size_t n = strlen(word);

	while (p && (p = strstr(p, word))) {
		bool starts = p == model->facts.cmdline || p[-1] == ' ' || p[-1] == '\t';
		bool ends = p[n] == '\0' || p[n] == ' ' || p[n] == '\t' || p[n] == '\n';
		if (starts && ends)
			return true;
		p += n;
	}
	return false;
}

/* The running kernel's major.minor as one number (6.1 -> 601); -1 when unknown. */
static int kernel_version(const HostModel *model)
{
	unsigned major, minor;

	if (!model->facts.kernel_release ||
	    sscanf(model->facts.kernel_release, "%u.%u", &major, &minor) != 2 || major > 99 ||
	    minor > 99)
		return -1;
	return (int)(major * 100 + minor);
}

/* Adds one mechanism; `reason` and `steps` (a strv, joined by ", ") count only when not usable. */
static int add_advice(GpuDoctor *d, const char *mechanism, PartitionModeKind mode, bool usable,
		      const char *reason, char **steps)
{
	GpuAdvice *advice = reallocarray(d->advice, d->n_advice + 1, sizeof(GpuAdvice));
	if (!advice)
		return -ENOMEM;
	d->advice = advice;

	GpuAdvice *a = &advice[d->n_advice++];
	*a = (GpuAdvice){ .mechanism = strdup(mechanism), .mode = mode, .usable = usable };
	if (!a->mechanism)
		return -ENOMEM;
	if (usable)
		return 0;
	if (reason && !(a->reason = strdup(reason)))
		return -ENOMEM;
	if (!steps)
		return 0;

	size_t length = 0;
	FILE *f = open_memstream(&a->steps, &length);
	if (!f)
		return -ENOMEM;
	for (size_t i = 0; steps[i]; i++)
		fprintf(f, "%s%s", i ? ", " : "", steps[i]);
	return fclose(f) == 0 ? 0 : -ENOMEM;
}

/* The grub steps: the words, update-grub; `words` NULL when the line already has them. */
static int grub_steps(char ***steps, const char *words)
{
	if (!words)
		return 0;
	return strv_appendf(steps, "add %s to %s", words, GRUB_LINE) < 0 ||
			       strv_append(steps, "update-grub") < 0
		       ? -ENOMEM
		       : 0;
}

static int examine_gvtg(const HostModel *model, const PciFunction *gpu, const ModeAssessment *mdev,
			GpuDoctor *d)
{
	_cleanup_strv_ char **steps = NULL;
	int r = 0;

	if (mdev->available || gpu->n_mdev_types > 0)
		return add_advice(d, "mdev (GVT-g)", PARTITION_MDEV, true, NULL, NULL);
	if (!gpu->driver || strcmp(gpu->driver, "i915") != 0)
		r = strv_append(&steps, "let i915 drive the GPU");
	if (r >= 0 && model->facts.i915_enable_gvt < 0 && module_loaded(model, "i915"))
		r = strv_append(&steps, "use a kernel whose i915 has GVT-g (Debian's has)");
	if (r >= 0 && model->facts.i915_enable_gvt != 1)
		r = grub_steps(&steps, "i915.enable_gvt=1");
	if (r >= 0 && !module_loaded(model, "kvmgt"))
		r = strv_append(&steps, "echo kvmgt > /etc/modules-load.d/kvmgt.conf");
	/* Nothing to change, yet no types: the note says why, a reboot would not help. */
	if (r >= 0 && steps)
		r = strv_append(&steps, "reboot");
	return r < 0 ? r : add_advice(d, "mdev (GVT-g)", PARTITION_MDEV, false, mdev->note, steps);
}

/* Intel's out-of-tree i915 with SR-IOV, packaged by strongtz/i915-sriov-dkms (its README). */
static int examine_intel_sriov(const HostModel *model, const PciFunction *gpu, GpuDoctor *d)
{
	_cleanup_strv_ char **steps = NULL;
	const char *mechanism = "SR-IOV, up to 7 VFs";
	bool words =
		cmdline_has(model, "i915.enable_guc=3") && cmdline_has(model, "i915.max_vfs=7");
	int r = 0;

	if (gpu->sriov_total_vfs > 0)
		return add_advice(d, mechanism, PARTITION_SRIOV, true, NULL, NULL);
	if (gpu->driver && strcmp(gpu->driver, "xe") == 0) {
		/* xe is the PF driver: its own parameter (issue 13), no out-of-tree module. */
		if (grub_steps(&steps, cmdline_has(model, "xe.max_vfs=7") ? NULL : "xe.max_vfs=7") <
			    0 ||
		    strv_append(&steps, "reboot") < 0)
			return -ENOMEM;
		return add_advice(d, mechanism, PARTITION_SRIOV, false,
				  "xe offers no VFs without xe.max_vfs", steps);
	}
	if (words)
		r = strv_append(&steps,
				"check that dkms status lists i915-sriov-dkms for this "
				"kernel (the command line has its words, but i915 offers no "
				"VFs)");
	else
		r = strv_append(&steps, "install i915-sriov-dkms (github.com/strongtz/"
					"i915-sriov-dkms, a release for this kernel)");
	if (r >= 0)
		r = mok_step(model, &steps);
	if (r >= 0)
		r = grub_steps(&steps, words ? NULL : "i915.enable_guc=3 i915.max_vfs=7");
	if (r >= 0)
		r = strv_append(&steps, "update-initramfs -u");
	if (r >= 0)
		r = strv_append(&steps, "reboot");
	if (r < 0)
		return r;
	/* Debian 12's kernel is 6.1; xe (and its SR-IOV) came to Linux in 6.8. */
	int version = kernel_version(model);
	if (version >= 0 && version < 608 &&
	    strv_appendf(&d->warnings,
			 "Linux %s has no xe driver: on it, SR-IOV for this GPU comes only from "
			 "the out-of-tree i915",
			 model->facts.kernel_release) < 0)
		return -ENOMEM;
	return add_advice(d, mechanism, PARTITION_SRIOV, false,
			  "the GPU has no SR-IOV VFs: Debian's i915 does not offer them", steps);
}

static int examine_intel_xe(const HostModel *model, const PciFunction *gpu, GpuDoctor *d)
{
	_cleanup_strv_ char **steps = NULL;
	int version = kernel_version(model);
	int r = 0;

	if (gpu->sriov_total_vfs > 0)
		return add_advice(d, "SR-IOV (xe)", PARTITION_SRIOV, true, NULL, NULL);
	/*
	 * SR-IOV on these GPUs is native in xe from 6.17 (issue 13); the VFs xe
	 * manages are bounded by xe.max_vfs (drivers/gpu/drm/xe/xe_module.c:
	 * 0, the default, allows none).
	 */
	if (version >= 0 && version < 617)
		r = strv_appendf(&steps,
				 "run Linux 6.17 or later (this is %s; Debian 12 ships 6.1)",
				 model->facts.kernel_release);
	if (r >= 0 && (!gpu->driver || strcmp(gpu->driver, "xe") != 0))
		r = strv_append(&steps, "let xe drive the GPU");
	if (r >= 0)
		r = grub_steps(&steps, "xe.max_vfs=N (the VFs wanted)");
	if (r >= 0)
		r = strv_append(&steps, "reboot");
	return r < 0 ? r
		     : add_advice(d, "SR-IOV (xe)", PARTITION_SRIOV, false,
				  "the GPU has no SR-IOV VFs", steps);
}

/* NVIDIA Virtual GPU Software User Guide: the vGPU Manager is NVIDIA's, licensed. */
/*
 * A resizable BAR below its largest size (rebar.h). QEMU shows the guest a
 * passed-through BAR at the size it has on the host, so a guest driver that
 * wants the whole VRAM mapped (Resizable BAR on in Windows) needs the host's
 * resized first, while no driver holds the GPU (sysfs-bus-pci:
 * resourceN_resize, EBUSY otherwise), and the VM's 64-bit MMIO window large
 * enough for it: OVMF takes its size from fw_cfg opt/ovmf/X-PciMmio64Mb
 * (EDK2 OvmfPkg).
 */
static int note_small_bar(const PciFunction *gpu, const PciRebar *bar, GpuDoctor *d)
{
	uint64_t largest = rebar_largest(bar);
	if (!bar->current || bar->current >= largest)
		return 0;
	int bit = 0;
	while ((UINT64_C(1) << (bit + 20)) < largest)
		bit++;
	return strv_appendf(
		&d->warnings,
		"Resizable BAR: BAR %u is %" PRIu64 " MiB of up to %" PRIu64 " MiB, and a VM "
		"gets it at the size it has: for the whole of it, resize it while no driver holds "
		"the GPU (echo %d > /sys/bus/pci/devices/%s/resource%u_resize, Linux 6.1+) and "
		"give the VM a 64-bit MMIO window that fits (qemu-args: -fw_cfg "
		"name=opt/ovmf/X-PciMmio64Mb,string=%" PRIu64 ")",
		bar->bar, bar->current >> 20, largest >> 20, bit, gpu->address_text, bar->bar,
		(largest >> 20) * 2);
}

static int examine_nvidia(const HostModel *model, const PciFunction *gpu, GpuDoctor *d)
{
	_cleanup_strv_ char **steps = NULL;
	/*
	 * The vGPU Manager: nvidia_vgpu_vfio before vGPU 17 (mdev); from 17 on
	 * Linux 6.8+ nvidia.ko itself, seen in its VFs' nvidia/ files.
	 */
	bool vgpu17 = pf_has_nvidia_vgpu_vfs(model, gpu);
	bool manager = module_loaded(model, "nvidia_vgpu_vfio") || vgpu17;
	int r = 0;

	if (gpu->sriov_total_vfs > 0) {
		/* Ampere and later: the vGPUs live on VFs that NVIDIA's sriov-manage enables. */
		const char *mechanism = "vGPU on SR-IOV VFs";
		if (manager && gpu->sriov_num_vfs > 0)
			return add_advice(d, mechanism, vgpu17 ? PARTITION_SRIOV : PARTITION_MDEV,
					  true, NULL, NULL);
		if (!manager)
			r = strv_append(&steps, "install NVIDIA's vGPU host driver (licensed, from "
						"NVIDIA), signed for Secure Boot when it is on");
		if (r >= 0)
			r = strv_appendf(
				&steps,
				"enable the VFs after each boot: /usr/lib/nvidia/sriov-manage "
				"-e %s",
				gpu->address_text);
		if (r >= 0)
			r = add_advice(d, mechanism, PARTITION_SRIOV, false,
				       manager ? "no VFs are enabled"
					       : "NVIDIA's vGPU host driver is not loaded",
				       steps);
		return r;
	}
	if (gpu->n_mdev_types > 0)
		return add_advice(d, "vGPU (mdev)", PARTITION_MDEV, true, NULL, NULL);
	if (strv_append(&steps, "install NVIDIA's vGPU host driver (licensed, from NVIDIA; only "
				"GPUs its release lists get vGPU types), signed for Secure Boot "
				"when it is on") < 0 ||
	    strv_append(&steps, "reboot") < 0)
		return -ENOMEM;
	return add_advice(d, "vGPU (mdev)", PARTITION_MDEV, false,
			  "no vGPU types: NVIDIA's vGPU host driver is not loaded", steps);
}

/*
 * AMD MxGPU. The PF must be gim's, not amdgpu's: the legacy GIM's
 * docs/environment_setup (1.2.5) blacklists amdgpu in
 * /etc/modprobe.d/blacklist.conf. gim comes from AMD, not Debian: the open
 * GIM (github.com/amd/MxGPU-Virtualization, a DKMS package, MI300 series and
 * later) or the legacy one (github.com/GPUOpen-LibrariesAndSDKs/
 * MxGPU-Virtualization, S7150). Both enable the VFs themselves when they load,
 * as many as the vf_num module parameter says (legacy:
 * docs/gim_runtime_configuration and drv/gim_config.c, also /etc/gim_config;
 * open: gim_shim/gim_config.c, one count per GPU, "vf_num=N0,N1").
 */
static int mxgpu_steps(const HostModel *model, const PciFunction *gpu, char ***steps)
{
	bool on_gim = gpu->driver && strcmp(gpu->driver, "gim") == 0;
	int r = 0;

	if (!on_gim &&
	    (module_loaded(model, "amdgpu") || (gpu->driver && strcmp(gpu->driver, "amdgpu") == 0)))
		r = strv_append(steps, "keep amdgpu off the GPU: echo 'blacklist amdgpu' >> "
				       "/etc/modprobe.d/blacklist.conf (AMD's GIM setup), "
				       "update-initramfs -u");
	if (r >= 0 && !on_gim && !module_loaded(model, "gim") &&
	    !strv_contains(model->facts.modules_loadable, "gim"))
		r = strv_append(steps, "install AMD's gim as DKMS: github.com/amd/"
				       "MxGPU-Virtualization (Instinct MI300 and later, Radeon "
				       "PRO V710), github.com/GPUOpen-LibrariesAndSDKs/"
				       "MxGPU-Virtualization (FirePro S7150)");
	if (r >= 0 && !on_gim && !module_loaded(model, "gim"))
		r = mok_step(model, steps);
	if (r >= 0)
		r = strv_append(steps, "set the VF count: echo 'options gim vf_num=N' > "
				       "/etc/modprobe.d/gim.conf");
	if (r >= 0)
		r = strv_append(steps, on_gim ? "reload gim (modprobe -r gim; modprobe gim) or "
						"reboot"
					      : "reboot");
	return r;
}

static int examine_mxgpu(const HostModel *model, const PciFunction *gpu,
			 const ModeAssessment *sriov, GpuDoctor *d)
{
	_cleanup_strv_ char **steps = NULL;

	/* A VF, or a PF without the capability: no setting of gim changes that. */
	if (sriov->available || gpu->is_vf || gpu->sriov_total_vfs <= 0)
		return add_advice(d, "SR-IOV (MxGPU)", PARTITION_SRIOV, sriov->available,
				  sriov->note, NULL);
	if (mxgpu_steps(model, gpu, &steps) < 0)
		return -ENOMEM;
	return add_advice(d, "SR-IOV (MxGPU)", PARTITION_SRIOV, false, sriov->note, steps);
}

/* gnif/vendor-reset: a DKMS module; the reset is chosen with reset_method device_specific. */
static int examine_vendor_reset(const HostModel *model, const PciFunction *gpu, GpuDoctor *d)
{
	_cleanup_strv_ char **steps = NULL;

	if (module_loaded(model, "vendor_reset"))
		return add_advice(d, "reset between VMs (vendor-reset)", _PARTITION_MODE_MAX, true,
				  NULL, NULL);
	if (strv_append(&steps, "install vendor-reset (DKMS, github.com/gnif/vendor-reset)") < 0 ||
	    mok_step(model, &steps) < 0 ||
	    strv_append(&steps, "echo vendor-reset > /etc/modules-load.d/vendor-reset.conf") < 0 ||
	    strv_append(&steps, "reboot (libvfio then sets reset_method to device_specific while "
				"a VM holds the GPU)") < 0)
		return -ENOMEM;
	return add_advice(d, "reset between VMs (vendor-reset)", _PARTITION_MODE_MAX, false,
			  "vendor-reset is not loaded: without it this GPU may not reset when a VM "
			  "stops, and the next start fails until the host reboots",
			  steps);
}

int gpu_doctor_examine(const HostModel *model, const PciFunction *gpu, GpuDoctor *ret)
{
	ModeAssessment modes[_PARTITION_MODE_MAX];
	GpuDoctor d = { .family = gpu_family_lookup(gpu) };
	int r = 0;

	if (gpu_assess_modes(model, gpu, modes) < 0)
		return -ENOMEM;

	switch (d.family->kind) {
	case GPU_FAMILY_INTEL_GVTG:
		r = examine_gvtg(model, gpu, &modes[PARTITION_MDEV], &d);
		break;
	case GPU_FAMILY_INTEL_SRIOV_I915:
	case GPU_FAMILY_INTEL_SRIOV_OOT:
		r = examine_intel_sriov(model, gpu, &d);
		/*
		 * strongtz/i915-sriov-dkms issues 8, 225 and 313: Windows on a VF
		 * often stops at Code 43; the GOP ROM is one of the fixes users
		 * report (others: the guest driver's version, VBS off).
		 */
		if (r >= 0)
			r = strv_append(
				&d.warnings,
				"Windows guests on a VF often show Code 43: give the VM the "
				"GPU's GOP ROM (rom: in its gpu entry) and Intel's current "
				"driver");
		break;
	case GPU_FAMILY_INTEL_SRIOV_XE:
		r = examine_intel_xe(model, gpu, &d);
		break;
	case GPU_FAMILY_NVIDIA_DATACENTER:
		r = examine_nvidia(model, gpu, &d);
		break;
	case GPU_FAMILY_AMD_MXGPU:
		r = examine_mxgpu(model, gpu, &modes[PARTITION_SRIOV], &d);
		break;
	case GPU_FAMILY_AMD_VENDOR_RESET:
		r = examine_vendor_reset(model, gpu, &d);
		break;
	case GPU_FAMILY_AMD_OTHER:
		/* Not in vendor-reset's list: nothing libvfio knows can reset it for a VM. */
		r = strv_append(&d.warnings, "vendor-reset does not know this AMD GPU: if it does "
					     "not come back after a VM stops, reboot the host");
		break;
	default:
		break;
	}
	/*
	 * An empty reset_method (Linux 5.15+, sysfs-bus-pci) is the kernel saying it
	 * has no way at all to reset the device between two users.
	 */
	if (r >= 0 && gpu->reset_method && !gpu->reset_method[0])
		r = strv_append(&d.warnings,
				"the kernel knows no way to reset this GPU (its reset_method is "
				"empty): after a VM stops, the next may find it unusable until the "
				"host reboots");
	for (size_t i = 0; r >= 0 && i < gpu->n_rebars; i++)
		r = note_small_bar(gpu, &gpu->rebars[i], &d);
	if (r >= 0) {
		const ModeAssessment *p = &modes[PARTITION_PASSTHROUGH];
		r = add_advice(&d, "passthrough", PARTITION_PASSTHROUGH, p->available, p->note,
			       NULL);
	}
	mode_assessments_done(modes);
	if (r < 0) {
		gpu_doctor_done(&d);
		return -ENOMEM;
	}
	*ret = d;
	return 0;
}

void gpu_doctor_done(GpuDoctor *d)
{
	for (size_t i = 0; i < d->n_advice; i++) {
		free(d->advice[i].mechanism);
		free(d->advice[i].reason);
		free(d->advice[i].steps);
	}
	free(d->advice);
	strv_free(d->warnings);
	*d = (GpuDoctor){ 0 };
}
