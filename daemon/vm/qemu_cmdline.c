/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QEMU argv of a VM, section by section: identity and control (QMP,
 * sandbox), machine, memory, CPUs, firmware, display, TPM, GPUs, Looking
 * Glass, disks, network, audio, USB, then the definition's own extra
 * arguments. Every string that comes from a definition or a host path is
 * placed inside an option value with its commas doubled (escape()), so it
 * stays one value whatever it holds. Checked against QEMU 7.2.
 */
#include "vm/qemu_cmdline.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "macro.h"
#include "string_table.h"
#include "strv.h"

/* The q35 AHCI controller (always there): six ports, each a bus of its own, ide.0 to ide.5. */
#define AHCI_PORTS 6u
/* A GPU and its other functions share one slot of their root port: functions 0 to 7. */
#define FUNCTIONS_PER_SLOT 8u

#define MEMORY_ID "mem"

/*
 * The Hyper-V enlightenments Windows uses (timers, APIC, TLB flushes and IPIs
 * through the hypervisor). KVM only: QEMU implements none of them under TCG,
 * where it even refuses hv-vpindex ("kernel doesn't allow setting HyperV
 * VP_INDEX"), and hv-synic, hv-stimer, hv-tlbflush and hv-ipi need it.
 */
#define HYPERV_ENLIGHTENMENTS                                                               \
	"hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,hv-stimer," \
	"hv-reset,hv-frequencies,hv-time,hv-tlbflush,hv-ipi"

/*
 * What the Hyper-V vendor leaf says instead of "Microsoft Hv" when the
 * hypervisor is hidden (12 characters at most): older NVIDIA drivers stop with
 * Code 43 when they see a hypervisor's name there.
 */
#define HIDDEN_HYPERV_VENDOR_ID "1234567890ab"

static const char *const qemu_accel_table[_QEMU_ACCEL_MAX] = {
	[QEMU_ACCEL_KVM] = "kvm",
	[QEMU_ACCEL_TCG] = "tcg",
};

DEFINE_STRING_TABLE_LOOKUP(qemu_accel, QemuAccel)

/*
 * The argv being built. The first failure (only ever -ENOMEM) sticks and every
 * helper does nothing after it, so a section reads as the list of its
 * arguments, checked once at the end.
 */
typedef struct Cmdline {
	char **argv;
	char **kept; /* the strings handed out by escape() and formatted(), freed at the end */
	unsigned fdsets; /* -add-fd sets given out so far */
	int r;
} Cmdline;

static void cmdline_done(Cmdline *c)
{
	c->argv = strv_free(c->argv);
	c->kept = strv_free(c->kept);
}

static void add(Cmdline *c, const char *argument)
{
	if (c->r >= 0)
		c->r = strv_append(&c->argv, argument);
}

/* Keeps `text` (malloc'ed, or NULL when that failed) while the builder lives; "" on failure. */
static const char *keep(Cmdline *c, char *text)
{
	_cleanup_free_ char *owned = text;

	if (c->r >= 0)
		c->r = owned ? strv_append(&c->kept, owned) : -ENOMEM;
	return c->r < 0 ? "" : c->kept[strv_length(c->kept) - 1];
}

static const char *vformatted(Cmdline *c, const char *format, va_list ap) _printf_(2, 0);
static const char *vformatted(Cmdline *c, const char *format, va_list ap)
{
	char *text;
	return keep(c, vasprintf(&text, format, ap) < 0 ? NULL : text);
}

static const char *formatted(Cmdline *c, const char *format, ...) _printf_(2, 3);
static const char *formatted(Cmdline *c, const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	const char *text = vformatted(c, format, ap);
	va_end(ap);
	return text;
}

/* An option and its value, one argument each: option(c, "-m", "%s", "8G"). */
static void option(Cmdline *c, const char *name, const char *format, ...) _printf_(3, 4);
static void option(Cmdline *c, const char *name, const char *format, ...)
{
	va_list ap;

	add(c, name);
	va_start(ap, format);
	const char *value = vformatted(c, format, ap);
	va_end(ap);
	add(c, value);
}

/*
 * `text` with every comma doubled: inside a value, QEMU's option parsers read
 * ",," as a literal comma and a single one as the start of the next option, so
 * a path like "/vms/a,readonly=off" stays one value and adds nothing.
 */
static const char *escape(Cmdline *c, const char *text)
{
	size_t size = strlen(text) + 1;
	for (const char *p = text; *p; p++)
		size += *p == ',';

	char *copy = malloc(size), *q = copy;
	for (const char *p = text; copy && *p; p++) {
		*q++ = *p;
		if (*p == ',')
			*q++ = ',';
	}
	if (copy)
		*q = '\0';
	return keep(c, copy);
}

/* A size as QEMU reads it: "16G" when whole GiB, else "1536M" (definitions hold whole MiB). */
static const char *qemu_size(char buf[32], uint64_t bytes)
{
	if (bytes % (UINT64_C(1) << 30) == 0)
		snprintf(buf, 32, "%" PRIu64 "G", bytes >> 30);
	else if (bytes % (UINT64_C(1) << 20) == 0)
		snprintf(buf, 32, "%" PRIu64 "M", bytes >> 20);
	else
		snprintf(buf, 32, "%" PRIu64, bytes);
	return buf;
}

static unsigned hex_digit(char c)
{
	return c >= '0' && c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10);
}

/*
 * The MAC of a VM whose definition gives none: QEMU's 52:54:00 prefix (locally
 * administered, unicast), then the UUID's sixteen bytes folded into three
 * (byte k is the XOR of UUID bytes k, k+3, k+6, ...). Stable for a VM; apart
 * for random UUIDs and for time-based ones alike, whose last six bytes are
 * one host's MAC. `uuid` is valid (checked first).
 */
static const char *mac_from_uuid(const char *uuid, char buf[18])
{
	uint8_t fold[3] = { 0 };
	size_t byte = 0;

	for (const char *p = uuid; p[0] && p[1];) {
		if (*p == '-') {
			p++;
			continue;
		}
		fold[byte++ % 3] ^= (uint8_t)(hex_digit(p[0]) << 4 | hex_digit(p[1]));
		p += 2;
	}
	snprintf(buf, 18, "52:54:00:%02x:%02x:%02x", fold[0], fold[1], fold[2]);
	return buf;
}

static int fail(char **ret_message, const char *format, ...) _printf_(2, 3);
static int fail(char **ret_message, const char *format, ...)
{
	char *text;
	va_list ap;

	va_start(ap, format);
	int n = vasprintf(&text, format, ap);
	va_end(ap);
	if (n < 0)
		return -ENOMEM;
	if (ret_message)
		*ret_message = text;
	else
		free(text);
	return -EINVAL;
}

static int check_gpus(const QemuGpuAssignment *gpus, size_t n_gpus, char **ret_message)
{
	for (size_t i = 0; i < n_gpus; i++) {
		const QemuGpuAssignment *g = &gpus[i];

		switch (g->mode) {
		case PARTITION_MDEV:
			if (!uuid_is_valid(g->mdev_uuid))
				return fail(ret_message, "GPU %zu: the mdev has no UUID.", i + 1);
			break;
		case PARTITION_SRIOV:
			if (g->n_devices != 1 || !g->devices)
				return fail(ret_message, "GPU %zu: an SR-IOV partition is one VF.",
					    i + 1);
			break;
		case PARTITION_PASSTHROUGH:
			if (g->n_devices == 0 || !g->devices)
				return fail(ret_message,
					    "GPU %zu: no PCI function to pass through.", i + 1);
			if (g->n_devices > FUNCTIONS_PER_SLOT)
				return fail(ret_message,
					    "GPU %zu: %zu functions to pass through, and one slot "
					    "holds %u.",
					    i + 1, g->n_devices, FUNCTIONS_PER_SLOT);
			break;
		default:
			return fail(ret_message, "GPU %zu: unknown partition mode %d.", i + 1,
				    (int)g->mode);
		}
	}
	return 0;
}

/* What the definition asks for that the host facts must supply, and what QEMU would refuse. */
static int check_inputs(const VmDefinition *d, const QemuGpuAssignment *gpus, size_t n_gpus,
			const QemuHostFacts *host, char **ret_message)
{
	if (!d->name)
		return fail(ret_message, "The VM has no name.");
	if (!qemu_accel_to_string(host->accel))
		return fail(ret_message, "Unknown accelerator %d.", (int)host->accel);
	if (!uuid_is_valid(d->uuid))
		return fail(ret_message, "The VM %s has no UUID (one is given when it is defined).",
			    d->name);
	if (!host->qmp_socket && host->qmp_fd < 3)
		return fail(ret_message, "No QMP socket path for the VM %s.", d->name);
	if (d->firmware == VM_FIRMWARE_UEFI && (!host->ovmf_code || !host->ovmf_vars))
		return fail(ret_message,
			    "Firmware uefi needs OVMF's code and variables files, and none were "
			    "found: install OVMF (Debian: ovmf) or use 'firmware: bios'.");
	if (d->secure_boot && d->firmware != VM_FIRMWARE_UEFI)
		return fail(ret_message, "Secure boot needs 'firmware: uefi'.");
	if (d->tpm && !host->tpm_socket)
		return fail(ret_message,
			    "The TPM needs swtpm's socket, and there is none: is swtpm "
			    "installed (Debian: swtpm)?");
	if (d->network == VM_NETWORK_BRIDGE && host->tap_fd < 0)
		return fail(ret_message, "The network on bridge %s has no tap device for the VM.",
			    d->bridge ? d->bridge : "");
	if (d->audio != VM_AUDIO_NONE && !host->audio_server)
		return fail(ret_message,
			    "Audio %s needs the owner's sound server socket, and there is none.",
			    vm_audio_to_string(d->audio));
	if (d->looking_glass && !host->looking_glass_path)
		return fail(ret_message, "Looking Glass needs its shared-memory file or kvmfr "
					 "device, and there is none.");

	uint64_t page = d->hugepages == VM_HUGEPAGES_1G   ? UINT64_C(1) << 30
			: d->hugepages == VM_HUGEPAGES_2M ? UINT64_C(2) << 20
							  : 0;
	if (page && d->memory % page != 0) {
		char size[32];
		return fail(ret_message, "Memory %s is not a whole number of %s huge pages.",
			    qemu_size(size, d->memory), vm_hugepages_to_string(d->hugepages));
	}

	size_t ahci = strv_length(d->cdroms);
	for (size_t i = 0; i < d->n_disks; i++)
		ahci += d->disks[i].bus == VM_DISK_SATA;
	if (ahci > AHCI_PORTS)
		return fail(ret_message,
			    "There are %zu SATA disks and CD-ROMs, and the AHCI controller has %u "
			    "ports: use bus virtio or nvme for the others.",
			    ahci, AHCI_PORTS);
	return check_gpus(gpus, n_gpus, ret_message);
}

/* Name, UUID, control: QMP, and the sandbox that denies QEMU what it never needs. */
static void add_identity(Cmdline *c, const VmDefinition *d, const QemuHostFacts *host)
{
	/* Thread names ("CPU 0/KVM") let the daemon find the vCPU threads to pin. */
	option(c, "-name", "guest=%s,debug-threads=on", escape(c, d->name));
	option(c, "-uuid", "%s", d->uuid);
	/* Paused: the daemon pins the vCPU threads over QMP, then sends cont. */
	add(c, "-S");
	add(c, "-nodefaults");
	add(c, "-no-user-config");
	option(c, "-sandbox",
	       "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
	if (host->qmp_fd >= 3) /* made and bound by the daemon, where QEMU cannot touch it */
		option(c, "-chardev", "socket,id=qmp,fd=%d,server=on,wait=off", host->qmp_fd);
	else
		option(c, "-chardev", "socket,id=qmp,path=%s,server=on,wait=off",
		       escape(c, host->qmp_socket));
	option(c, "-mon", "chardev=qmp,mode=control");
}

static void add_machine(Cmdline *c, const VmDefinition *d, const QemuHostFacts *host)
{
	/* Secure boot: OVMF keeps its variable store in SMM, out of the guest's reach. */
	option(c, "-machine", "q35,memory-backend=" MEMORY_ID "%s",
	       d->secure_boot ? ",smm=on" : "");
	option(c, "-accel", "%s", qemu_accel_to_string(host->accel));
}

/*
 * Guest RAM is a memfd object, so it can be bound to the host node (mbind) and
 * backed by huge pages. Huge pages are faulted in at start (prealloc), as
 * vfio pins guest RAM anyway: the guest never stalls while the kernel zeroes
 * a 1G page, and a pool too small fails the start.
 */
static void add_memory(Cmdline *c, const VmDefinition *d, const QemuHostFacts *host)
{
	char size[32], node[48] = "";
	const char *pages =
		d->hugepages == VM_HUGEPAGES_1G   ? ",hugetlb=on,hugetlbsize=1G,prealloc=on"
		: d->hugepages == VM_HUGEPAGES_2M ? ",hugetlb=on,hugetlbsize=2M,prealloc=on"
						  : "";

	if (host->numa_node >= 0)
		snprintf(node, sizeof(node), ",host-nodes=%d,policy=bind", host->numa_node);
	option(c, "-m", "%s", qemu_size(size, d->memory));
	option(c, "-object", "memory-backend-memfd,id=" MEMORY_ID ",size=%s%s%s", size, node,
	       pages);
}

/*
 * KVM: the host CPU, with the Hyper-V enlightenments for Windows and, when the
 * hypervisor is hidden, no KVM signature, no hypervisor bit and (when there
 * are Hyper-V leaves to show one) another Hyper-V vendor. TCG: QEMU's "max"
 * model; of the Windows tuning only the hypervisor bit means anything there,
 * as TCG shows neither a KVM signature nor Hyper-V.
 */
static void add_cpu(Cmdline *c, const VmDefinition *d, const QemuHostFacts *host)
{
	bool hide = d->hide_hypervisor;

	if (host->accel == QEMU_ACCEL_KVM)
		option(c, "-cpu", "host%s%s%s", d->hyperv ? "," HYPERV_ENLIGHTENMENTS : "",
		       hide && d->hyperv ? ",hv-vendor-id=" HIDDEN_HYPERV_VENDOR_ID : "",
		       hide ? ",kvm=off,hypervisor=off" : "");
	else
		option(c, "-cpu", "max%s", hide ? ",hypervisor=off" : "");
	option(c, "-smp", "%u,sockets=%u,cores=%u,threads=%u", vm_definition_cpus(d), d->sockets,
	       d->cores, d->threads);
}

/*
 * Where a -drive reads its file: "file=PATH", or, for a file the daemon opened,
 * an fd set holding the inherited descriptor (declared here with -add-fd).
 */
static const char *file_source(Cmdline *c, const QemuFile *file, const char *path, const char *what)
{
	if (file->fd <= 0)
		return formatted(c, "file=%s", escape(c, path));
	unsigned set = ++c->fdsets;
	option(c, "-add-fd", "fd=%d,set=%u,opaque=%s", file->fd, set, what);
	if (file->read_only_fd > 0)
		option(c, "-add-fd", "fd=%d,set=%u,opaque=%s-read-only", file->read_only_fd, set,
		       what);
	/* QEMU's "file" driver takes regular files only; a block device needs its own. */
	if (file->block_device)
		return formatted(c, "file.driver=host_device,file.filename=/dev/fdset/%u", set);
	return formatted(c, "file=/dev/fdset/%u", set);
}

/* uefi: OVMF from two flash chips, its code read-only, its variables the VM's own copy. */
static void add_firmware(Cmdline *c, const VmDefinition *d, const QemuHostFacts *host)
{
	if (d->firmware != VM_FIRMWARE_UEFI)
		return; /* bios: SeaBIOS, built into the machine */
	option(c, "-drive", "if=pflash,unit=0,format=raw,readonly=on,file=%s",
	       escape(c, host->ovmf_code));
	option(c, "-drive", "if=pflash,unit=1,format=raw,%s",
	       file_source(c, &host->ovmf_vars_file, host->ovmf_vars, "uefi-vars"));
	if (d->secure_boot) /* only code running in SMM may write the variables */
		option(c, "-global", "driver=cfi.pflash01,property=secure,value=on");
}

/* Does this GPU show the guest's screen from power-on (its own VBIOS/GOP, or ramfb)? */
static bool has_boot_display(const QemuGpuAssignment *g)
{
	return g->mode == PARTITION_PASSTHROUGH ||
	       (g->mode == PARTITION_MDEV && g->gpu && g->gpu->display);
}

/*
 * No window: the console is a VNC server that listens nowhere (-vnc none)
 * when the host asks for one; the daemon hands it each connection of the
 * VM's owner over QMP (add_client). A VM none of whose GPUs has a boot display (no GPU, an SR-IOV
 * VF, an mdev without display) gets a standard VGA, so firmware, installer and console show
 * something. It does not depend on VNC, so the guest's hardware stays the same with or without it.
 */
static void add_display(Cmdline *c, const QemuGpuAssignment *gpus, size_t n_gpus,
			const QemuHostFacts *host)
{
	option(c, "-display", "none");
	if (host->vnc)
		option(c, "-vnc", "none");
	for (size_t i = 0; i < n_gpus; i++)
		if (has_boot_display(&gpus[i]))
			return;
	option(c, "-device", "VGA,id=video");
}

/* TPM 2.0 from swtpm (its control socket), on the CRB interface Windows 11 expects. */
static void add_tpm(Cmdline *c, const VmDefinition *d, const QemuHostFacts *host)
{
	if (!d->tpm)
		return;
	option(c, "-chardev", "socket,id=swtpm,path=%s", escape(c, host->tpm_socket));
	option(c, "-tpmdev", "emulator,id=tpm,chardev=swtpm");
	option(c, "-device", "tpm-crb,tpmdev=tpm");
}

/*
 * The ROM and the ids the guest sees instead of the device's own, as vfio-pci
 * options (",romfile=...,x-pci-vendor-id=0x8086"); "" when none.
 */
static const char *vfio_extras(Cmdline *c, const VmGpu *gpu, int rom_fd)
{
	static const char *const names[] = { "x-pci-vendor-id", "x-pci-device-id",
					     "x-pci-sub-vendor-id", "x-pci-sub-device-id" };
	const uint16_t ids[] = { gpu->guest_vendor_id, gpu->guest_device_id,
				 gpu->guest_subsystem_vendor_id, gpu->guest_subsystem_id };
	char text[4 * 32] = "";

	for (size_t i = 0, n = 0; i < ELEMENTSOF(ids); i++)
		if (ids[i])
			n += (size_t)snprintf(text + n, sizeof(text) - n, ",%s=0x%04x", names[i],
					      ids[i]);
	/* QEMU reads a ROM by name only: the inherited copy, by its name in /proc. */
	if (gpu->rom && rom_fd > 0)
		return formatted(c, ",romfile=/proc/self/fd/%d%s", rom_fd, text);
	return formatted(c, "%s%s%s", gpu->rom ? ",romfile=" : "",
			 gpu->rom ? escape(c, gpu->rom) : "", text);
}

/* mdev: the mediated device by its sysfs path. `where` is its id and bus. */
static void add_mdev(Cmdline *c, const QemuGpuAssignment *g, const VmGpu *gpu, const char *where,
		     const char *extras)
{
	char sysfsdev[64];

	snprintf(sysfsdev, sizeof(sysfsdev), "/sys/bus/mdev/devices/%s", g->mdev_uuid);
	/* Only vfio-pci-nohotplug has ramfb (a boot display in fw_cfg, which cannot hot-plug). */
	if (gpu->display)
		option(c, "-device", "vfio-pci-nohotplug,sysfsdev=%s,%s,display=on,ramfb=on%s",
		       sysfsdev, where, extras);
	else
		option(c, "-device", "vfio-pci,sysfsdev=%s,%s%s", sysfsdev, where, extras);
}

/*
 * Passthrough: the GPU as function 0 of a multifunction slot, its other
 * functions (HDMI audio, USB-C) as functions 1 to 7 of the same slot, where
 * the guest driver expects them.
 */
static void add_passthrough(Cmdline *c, size_t i, const QemuGpuAssignment *g, const char *where,
			    const char *extras)
{
	char address[PCI_ADDRESS_TEXT_SIZE];

	option(c, "-device", "vfio-pci,host=%s,%s,addr=00.0%s%s",
	       pci_address_format(&g->devices[0], address), where,
	       g->n_devices > 1 ? ",multifunction=on" : "", extras);
	for (size_t f = 1; f < g->n_devices; f++)
		option(c, "-device", "vfio-pci,host=%s,id=gpu%zu-fn%zu,bus=gpu%zu-port,addr=00.%zu",
		       pci_address_format(&g->devices[f], address), i, f, i, f);
}

/*
 * Each GPU behind a PCIe root port of its own, as on real hardware (drivers
 * look at the link above them). SR-IOV: the VF by its address.
 */
static void add_gpus(Cmdline *c, const QemuGpuAssignment *gpus, size_t n_gpus)
{
	static const VmGpu no_options = { 0 };

	for (size_t i = 0; i < n_gpus; i++) {
		const QemuGpuAssignment *g = &gpus[i];
		const VmGpu *gpu = g->gpu ? g->gpu : &no_options;
		const char *extras = vfio_extras(c, gpu, g->rom_fd);
		char where[64], address[PCI_ADDRESS_TEXT_SIZE];

		option(c, "-device", "pcie-root-port,id=gpu%zu-port,bus=pcie.0,chassis=%zu", i,
		       i + 1);
		snprintf(where, sizeof(where), "id=gpu%zu,bus=gpu%zu-port", i, i);
		if (g->mode == PARTITION_MDEV)
			add_mdev(c, g, gpu, where, extras);
		else if (g->mode == PARTITION_SRIOV)
			option(c, "-device", "vfio-pci,host=%s,%s%s",
			       pci_address_format(&g->devices[0], address), where, extras);
		else
			add_passthrough(c, i, g, where, extras);
	}
}

/*
 * Looking Glass: the guest's frames in shared memory (IVSHMEM). The same
 * backend serves the kvmfr device and a /dev/shm file; kvmfr's size is fixed
 * when the module loads, and the caller checks it against the definition.
 */
static void add_looking_glass(Cmdline *c, const VmDefinition *d, const QemuHostFacts *host)
{
	char size[32];

	if (!d->looking_glass)
		return;
	option(c, "-object", "memory-backend-file,id=looking-glass,mem-path=%s,size=%s,share=on",
	       escape(c, host->looking_glass_path), qemu_size(size, d->looking_glass));
	option(c, "-device", "ivshmem-plain,id=looking-glass-shm,memdev=looking-glass");
}

/*
 * Disks in order, then the CD-ROMs in order, on the AHCI ports after the SATA
 * disks. The boot order (bootindex) follows `boot:`: disk puts the disks
 * first, so an empty disk falls through to the installer and an installed
 * one boots first; cdrom puts the CD-ROMs first.
 */
static void add_disks(Cmdline *c, const VmDefinition *d, const QemuHostFacts *host)
{
	size_t n_cdroms = strv_length(d->cdroms);
	unsigned ahci_port = 0;
	unsigned disk_boot = d->boot == VM_BOOT_CDROM ? (unsigned)n_cdroms + 1 : 1;
	unsigned cdrom_boot = d->boot == VM_BOOT_CDROM ? 1 : (unsigned)d->n_disks + 1;

	for (size_t i = 0; i < d->n_disks; i++) {
		const VmDisk *disk = &d->disks[i];
		unsigned boot = disk_boot + (unsigned)i;
		char what[32];

		snprintf(what, sizeof(what), "disk%zu", i);
		option(c, "-drive", "%s,if=none,id=disk%zu,format=%s,cache=%s%s",
		       file_source(c, &host->disks[i], disk->path, what), i,
		       escape(c, disk->format ? disk->format : "raw"),
		       escape(c, disk->cache ? disk->cache : "none"),
		       disk->readonly ? ",readonly=on" : "");
		switch (disk->bus) {
		case VM_DISK_SATA:
			option(c, "-device", "ide-hd,drive=disk%zu,bus=ide.%u,bootindex=%u", i,
			       ahci_port++, boot);
			break;
		case VM_DISK_NVME: /* NVMe needs a serial; by position, so it stays the same */
			option(c, "-device", "nvme,drive=disk%zu,serial=disk%zu,bootindex=%u", i, i,
			       boot);
			break;
		default:
			option(c, "-device", "virtio-blk-pci,drive=disk%zu,bootindex=%u", i, boot);
			break;
		}
	}
	for (size_t i = 0; i < n_cdroms; i++) {
		char what[32];

		snprintf(what, sizeof(what), "cdrom%zu", i);
		option(c, "-drive", "%s,if=none,id=cdrom%zu,media=cdrom,format=raw,readonly=on",
		       file_source(c, &host->cdroms[i], d->cdroms[i], what), i);
		option(c, "-device", "ide-cd,drive=cdrom%zu,bus=ide.%u,bootindex=%u", i,
		       ahci_port++, cdrom_boot + (unsigned)i);
	}
}

/* user: QEMU's NAT. bridge: the tap the daemon made on the bridge, inherited as an fd. */
static void add_network(Cmdline *c, const VmDefinition *d, const QemuHostFacts *host)
{
	char mac[18];

	if (d->network == VM_NETWORK_NONE)
		return;
	if (d->network == VM_NETWORK_BRIDGE)
		option(c, "-netdev", "tap,id=net0,fd=%d", host->tap_fd);
	else
		option(c, "-netdev", "user,id=net0");
	option(c, "-device", "%s,netdev=net0,mac=%s",
	       escape(c, d->nic_model ? d->nic_model : "virtio-net-pci"),
	       d->mac ? escape(c, d->mac) : mac_from_uuid(d->uuid, mac));
}

/*
 * PipeWire and PulseAudio alike through QEMU's PulseAudio backend: PipeWire
 * serves that protocol (pipewire-pulse), and QEMU 7.2 has no PipeWire backend
 * (8.1 added one). An HDA controller with a codec for output and input.
 */
static void add_audio(Cmdline *c, const VmDefinition *d, const QemuHostFacts *host)
{
	if (d->audio == VM_AUDIO_NONE)
		return;
	option(c, "-audiodev", "pa,id=audio,server=unix:%s", escape(c, host->audio_server));
	option(c, "-device", "ich9-intel-hda,id=sound");
	option(c, "-device", "hda-duplex,bus=sound.0,audiodev=audio");
}

static void add_usb(Cmdline *c, const VmDefinition *d)
{
	if (d->n_usb == 0)
		return;
	option(c, "-device", "qemu-xhci,id=usb");
	for (size_t i = 0; i < d->n_usb; i++)
		option(c, "-device", "usb-host,bus=usb.0,vendorid=0x%04x,productid=0x%04x",
		       d->usb[i].vendor_id, d->usb[i].product_id);
}

uint64_t qemu_memlock_limit(const VmDefinition *definition, size_t n_gpus)
{
	const uint64_t margin = UINT64_C(1) << 30;

	if (n_gpus == 0)
		return 0;
	return definition->memory + definition->looking_glass + margin;
}

int qemu_cmdline_build(const char *binary, const VmDefinition *definition,
		       const QemuGpuAssignment *gpus, size_t n_gpus, const QemuHostFacts *host,
		       char ***ret_argv, char **ret_message)
{
	_cleanup_(cmdline_done) Cmdline c = { 0 };

	if (ret_message)
		*ret_message = NULL;
	int r = check_inputs(definition, gpus, n_gpus, host, ret_message);
	if (r < 0)
		return r;

	add(&c, binary);
	add_identity(&c, definition, host);
	add_machine(&c, definition, host);
	add_cpu(&c, definition, host);
	add_memory(&c, definition, host);
	add_firmware(&c, definition, host);
	add_display(&c, gpus, n_gpus, host);
	add_tpm(&c, definition, host);
	add_gpus(&c, gpus, n_gpus);
	add_looking_glass(&c, definition, host);
	add_disks(&c, definition, host);
	add_network(&c, definition, host);
	add_audio(&c, definition, host);
	add_usb(&c, definition);
	/* The definition's own arguments, last and as they are: the admin's word wins. */
	for (size_t i = 0; definition->qemu_args && definition->qemu_args[i]; i++)
		add(&c, definition->qemu_args[i]);
	if (c.r < 0)
		return c.r;
	*ret_argv = TAKE_PTR(c.argv);
	return 0;
}
