/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The system facts behind the readiness checks: IOMMU (ACPI DMAR/IVRS
 * tables, sys/class/iommu), interrupt remapping (IR- chips in
 * proc/interrupts), /dev/kvm, the VFIO and GPU modules (loaded:
 * sys/module; loadable: lib/modules/RELEASE/modules.dep and
 * modules.builtin), i915's enable_gvt, OVMF firmware, hugepage pools and
 * UEFI Secure Boot (sys/firmware/efi/efivars);
 * and one fact of the daemon itself: how much locked memory it can give QEMU.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_util.h"
#include "host/host_internal.h"
#include "macro.h"
#include "parse_util.h"
#include "strv.h"

/* The modules the checks ask about. */
static const char *const interesting_modules[] = {
	"vfio",  "vfio_pci",  "vfio_iommu_type1", "mdev",
	"kvm",   "kvm_intel", "kvm_amd",          "i915",
	"kvmgt", "nvidia",    "nvidia_vgpu_vfio", "amdgpu",
	"gim",   "xe",        "vendor_reset",
};

/* Firmware QEMU can boot UEFI guests with, as Debian and others install it. */
static const char *const ovmf_paths[] = {
	"usr/share/OVMF/OVMF_CODE_4M.fd",         "usr/share/OVMF/OVMF_CODE.fd",
	"usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "usr/share/ovmf/OVMF.fd",
	"usr/share/edk2/ovmf/OVMF_CODE.fd",       "usr/share/edk2/x64/OVMF_CODE.fd",
	"usr/share/OVMF/OVMF_CODE.secboot.fd",    "usr/share/edk2/ovmf/OVMF_CODE.secboot.fd",
};

/* The UEFI variables templates that go with them (vm/vm_firmware.c pairs them up). */
static const char *const ovmf_vars_paths[] = {
	"usr/share/OVMF/OVMF_VARS_4M.fd",    "usr/share/OVMF/OVMF_VARS.fd",
	"usr/share/OVMF/OVMF_VARS_4M.ms.fd", "usr/share/OVMF/OVMF_VARS.ms.fd",
	"usr/share/edk2/ovmf/OVMF_VARS.fd",  "usr/share/edk2/ovmf/OVMF_VARS.secboot.fd",
	"usr/share/edk2/x64/OVMF_VARS.fd",
};

/* modules.dep on a distribution kernel is under a megabyte. */
#define MODULES_FILE_MAX (16 * 1024 * 1024)

static int read_optional(const SysfsRoot *root, const char *path, size_t max, char **ret)
{
	int r = sysfs_read_text(root, path, max, ret);
	return r == -ENOMEM ? r : 0;
}

/* "kernel/drivers/vfio/pci/vfio-pci.ko.xz: ..." → is `module` (with _ for -) listed? */
static bool modules_file_lists(const char *text, const char *module)
{
	for (const char *line = text; line && *line;) {
		const char *end = strchr(line, '\n');
		size_t length = end ? (size_t)(end - line) : strlen(line);
		const char *colon = memchr(line, ':', length);
		size_t path_length = colon ? (size_t)(colon - line) : length;
		const char *base = line;
		for (size_t i = 0; i < path_length; i++)
			if (line[i] == '/')
				base = line + i + 1;
		size_t name_length = 0;
		while (base + name_length < line + path_length && base[name_length] != '.')
			name_length++;
		if (name_length == strlen(module)) {
			bool same = true;
			for (size_t i = 0; i < name_length && same; i++) {
				char c = base[i] == '-' ? '_' : base[i];
				same = c == module[i];
			}
			if (same)
				return true;
		}
		line = end ? end + 1 : NULL;
	}
	return false;
}

static int read_modules(const SysfsRoot *root, HostFacts *facts)
{
	_cleanup_free_ char *dep = NULL, *builtin = NULL;
	char path[512];

	if (facts->kernel_release && !strchr(facts->kernel_release, '/')) {
		snprintf(path, sizeof(path), "lib/modules/%s/modules.dep", facts->kernel_release);
		if (read_optional(root, path, MODULES_FILE_MAX, &dep) < 0)
			return -ENOMEM;
		snprintf(path, sizeof(path), "lib/modules/%s/modules.builtin",
			 facts->kernel_release);
		if (read_optional(root, path, MODULES_FILE_MAX, &builtin) < 0)
			return -ENOMEM;
	}
	for (size_t i = 0; i < ELEMENTSOF(interesting_modules); i++) {
		const char *module = interesting_modules[i];
		snprintf(path, sizeof(path), "sys/module/%s", module);
		if (sysfs_exists(root, path) && strv_append(&facts->modules_loaded, module) < 0)
			return -ENOMEM;
		if (((dep && modules_file_lists(dep, module)) ||
		     (builtin && modules_file_lists(builtin, module))) &&
		    strv_append(&facts->modules_loadable, module) < 0)
			return -ENOMEM;
	}
	return 0;
}

static int read_cpu_vendor(const SysfsRoot *root, HostFacts *facts)
{
	_cleanup_free_ char *cpuinfo = NULL;
	if (read_optional(root, "proc/cpuinfo", 4 * 1024 * 1024, &cpuinfo) < 0)
		return -ENOMEM;
	const char *p = cpuinfo ? strstr(cpuinfo, "vendor_id") : NULL;
	if (!p)
		return 0;
	p = strchr(p, ':');
	if (!p)
		return 0;
	p += 1 + strspn(p + 1, " \t");
	facts->cpu_vendor = strndup(p, strcspn(p, "\n"));
	return facts->cpu_vendor ? 0 : -ENOMEM;
}

static int stop_at_first(const char *name, void *userdata)
{
	*(bool *)userdata = true;
	return -ECANCELED; /* one entry is enough */
}

static bool directory_has_entries(const SysfsRoot *root, const char *relative)
{
	bool found = false;
	(void)sysfs_list_dir(root, relative, 1024, stop_at_first, &found);
	return found;
}

static int read_interrupt_remapping(const SysfsRoot *root, HostFacts *facts)
{
	_cleanup_free_ char *interrupts = NULL;
	int r = sysfs_read_text(root, "proc/interrupts", 16 * 1024 * 1024, &interrupts);
	if (r == -ENOMEM)
		return r;
	/* With remapping on, the kernel names the interrupt chips "IR-PCI-MSI", "IR-IO-APIC". */
	facts->irq_remapping = r < 0 ? -1 : strstr(interrupts, " IR-") != NULL;
	return 0;
}

/*
 * What the daemon can give QEMU as RLIMIT_MEMLOCK: anything with
 * CAP_SYS_RESOURCE (bit 24 of CapEff in proc/self/status), else up to its
 * own hard limit ("Max locked memory  SOFT  HARD  bytes" in proc/self/limits).
 */
static int read_memlock(const SysfsRoot *root, HostFacts *facts)
{
	_cleanup_free_ char *status = NULL, *limits = NULL;
	unsigned long long effective;
	char hard[32];

	if (read_optional(root, "proc/self/status", 64 * 1024, &status) < 0 ||
	    read_optional(root, "proc/self/limits", 64 * 1024, &limits) < 0)
		return -ENOMEM;
	const char *cap = status ? strstr(status, "\nCapEff:") : NULL;
	const char *line = limits ? strstr(limits, "\nMax locked memory ") : NULL;
	if (cap && sscanf(cap, "\nCapEff: %llx", &effective) == 1 && effective & (1ULL << 24)) {
		facts->memlock_grantable = UINT64_MAX;
		facts->memlock_known = true;
	} else if (cap && line && sscanf(line, "\nMax locked memory %*s %31s", hard) == 1) {
		facts->memlock_known = true;
		if (strcmp(hard, "unlimited") == 0)
			facts->memlock_grantable = UINT64_MAX;
		else if (parse_uint64(hard, &facts->memlock_grantable) < 0)
			facts->memlock_known = false;
	}
	return 0;
}

/*
 * efivarfs (Documentation/filesystems/efivarfs.rst): a variable's file holds
 * its 4 bytes of attributes, then its data. SecureBoot (EFI global variable
 * GUID 8be4df61-93ca-11d2-aa0d-e0f3d0e8f5c8, UEFI specification 3.3) is one
 * byte: 1 when Secure Boot is on, 0 when off.
 */
#define EFIVARS "sys/firmware/efi/efivars"
#define SECURE_BOOT_VARIABLE "SecureBoot-8be4df61-93ca-11d2-aa0d-e0f3d0e8f5c8"

int secure_boot_from_efivar(const uint8_t *data, size_t size)
{
	if (size != 5 || data[4] > 1)
		return -1;
	return data[4];
}

/* Reads a regular file, never through a link: up to `max` + 1 bytes (read_full_fd()). */
static int read_small_file_at(int dir, const char *name, size_t max, char **ret, size_t *ret_size)
{
	_cleanup_close_ int fd =
		openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | O_NOFOLLOW);
	struct stat st;

	if (fd < 0 || fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EBADF;
	return read_full_fd(fd, max, ret, ret_size);
}

static int read_secure_boot(const SysfsRoot *root, HostFacts *facts)
{
	_cleanup_free_ char *data = NULL;
	size_t size = 0;

	facts->secure_boot = -1;
	facts->efi_boot = sysfs_exists(root, "sys/firmware/efi");
	if (!facts->efi_boot)
		return 0;
	_cleanup_close_ int dir = sysfs_open_dir(root, EFIVARS);
	int r = dir < 0 ? dir : read_small_file_at(dir, SECURE_BOOT_VARIABLE, 16, &data, &size);
	if (r == -ENOENT)
		return 0; /* efivarfs not mounted: unknown, and nothing damaged */
	if (r >= 0)
		facts->secure_boot = secure_boot_from_efivar((const uint8_t *)data, size);
	if (r < 0 || facts->secure_boot < 0)
		return strv_appendf(&facts->warnings,
				    "the SecureBoot EFI variable could not be read (%s): Secure "
				    "Boot's state is unknown",
				    r < 0 ? strerror(-r) : "not 5 bytes ending in 0 or 1") < 0
			       ? -ENOMEM
			       : 0;
	return 0;
}

static void read_kvm(const SysfsRoot *root, HostFacts *facts)
{
	char path[4096];
	facts->kvm_present = sysfs_exists(root, "dev/kvm");
	if (!facts->kvm_present || sysfs_path(root, "dev/kvm", path, sizeof(path)) < 0)
		return;
	int fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	facts->kvm_usable = fd >= 0;
	safe_close(fd);
}

int host_facts_read(const SysfsRoot *root, HostFacts *facts)
{
	*facts = (HostFacts){ .irq_remapping = -1, .i915_enable_gvt = -1 };

	if (read_optional(root, "proc/sys/kernel/osrelease", 256, &facts->kernel_release) < 0 ||
	    read_optional(root, "proc/cmdline", 64 * 1024, &facts->cmdline) < 0 ||
	    read_cpu_vendor(root, facts) < 0 || read_interrupt_remapping(root, facts) < 0 ||
	    read_modules(root, facts) < 0)
		return -ENOMEM;

	facts->dmar = sysfs_exists(root, "sys/firmware/acpi/tables/DMAR");
	facts->ivrs = sysfs_exists(root, "sys/firmware/acpi/tables/IVRS");
	facts->iommu_class = directory_has_entries(root, "sys/class/iommu");
	read_kvm(root, facts);

	_cleanup_free_ char *gvt = NULL, *unsafe = NULL;
	if (read_optional(root, "sys/module/i915/parameters/enable_gvt", 16, &gvt) < 0 ||
	    read_optional(root, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts",
			  16, &unsafe) < 0)
		return -ENOMEM;
	if (gvt)
		facts->i915_enable_gvt = gvt[0] == 'Y' || gvt[0] == 'y' || gvt[0] == '1';
	facts->unsafe_interrupts_allowed = unsafe && (unsafe[0] == 'Y' || unsafe[0] == '1');

	if (read_memlock(root, facts) < 0 || read_secure_boot(root, facts) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(ovmf_paths); i++)
		if (sysfs_exists(root, ovmf_paths[i]) &&
		    strv_appendf(&facts->ovmf_files, "/%s", ovmf_paths[i]) < 0)
			return -ENOMEM;
	for (size_t i = 0; i < ELEMENTSOF(ovmf_vars_paths); i++)
		if (sysfs_exists(root, ovmf_vars_paths[i]) &&
		    strv_appendf(&facts->ovmf_vars_files, "/%s", ovmf_vars_paths[i]) < 0)
			return -ENOMEM;

	return hugepages_read_pools(root, "sys/kernel/mm/hugepages", &facts->hugepages,
				    &facts->n_hugepages);
}

void host_facts_done(HostFacts *facts)
{
	free(facts->kernel_release);
	free(facts->cmdline);
	free(facts->cpu_vendor);
	strv_free(facts->modules_loaded);
	strv_free(facts->modules_loadable);
	strv_free(facts->ovmf_files);
	strv_free(facts->ovmf_vars_files);
	free(facts->hugepages);
	strv_free(facts->warnings);
	*facts = (HostFacts){ 0 };
}
