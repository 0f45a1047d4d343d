/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The QEMU argv: eight setups, each from a real YAML definition, compared with
 * its reviewed golden file (tests/fixtures/golden/argv/NAME.args, one
 * argument a line); every -EINVAL a missing host fact gives; commas in paths,
 * which must stay inside their value; the MAC made from the UUID; what each
 * accelerator gets of the Windows tuning.
 *
 * LIBVFIO_UPDATE_GOLDEN=1 rewrites the golden files from the code: review the
 * diff by hand before committing, the files are the truth, not the code.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "pci_address.h"
#include "strv.h"
#include "vm/qemu_cmdline.h"
#include "vm_definition.h"

#define GOLDEN_DIR SOURCE_ROOT "/tests/fixtures/golden/argv"
#define QEMU "/usr/bin/qemu-system-x86_64"
#define RUN "/run/libvfio/vms/"
#define STATE "/var/lib/libvfio/vms/"

static VmDefinition load(const char *yaml)
{
	VmDefinition d;
	_cleanup_free_ char *error = NULL;

	if (vm_definition_load_string(yaml, strlen(yaml), "test.yaml", &d, &error) < 0)
		fail_msg("the test's definition does not load: %s", error ? error : "ENOMEM");
	return d;
}

static PciAddress address(const char *text)
{
	PciAddress a;

	if (pci_address_parse(text, &a) < 0)
		fail_msg("'%s' is no PCI address", text);
	return a;
}

static char **build(const VmDefinition *d, const QemuGpuAssignment *gpus, size_t n_gpus,
		    const QemuHostFacts *host)
{
	char **argv = NULL;
	_cleanup_free_ char *error = NULL;
	int r = qemu_cmdline_build(QEMU, d, gpus, n_gpus, host, &argv, &error);

	if (r < 0)
		fail_msg("qemu_cmdline_build: %s: %s", strerror(-r),
			 error ? error : "(no message)");
	assert_null(error);
	assert_non_null(argv);
	return argv;
}

/* The argument after `option` (the first one; the nth with n > 0), or NULL. */
static const char *value_of(char **argv, const char *option, size_t n)
{
	for (size_t i = 1; argv[i] && argv[i + 1]; i++)
		if (strcmp(argv[i], option) == 0 && n-- == 0)
			return argv[i + 1];
	return NULL;
}

static size_t count_of(char **argv, const char *argument)
{
	size_t n = 0;
	for (size_t i = 0; argv[i]; i++)
		n += strcmp(argv[i], argument) == 0;
	return n;
}

/* ---- golden files ---- */

static char **read_lines(const char *path)
{
	_cleanup_free_ char *text = NULL;
	char **lines = NULL;
	size_t size = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return NULL;
	for (char buf[4096]; !feof(f);) {
		size_t n = fread(buf, 1, sizeof(buf), f);
		char *grown = realloc(text, size + n + 1);
		assert_non_null(grown);
		text = grown;
		memcpy(text + size, buf, n);
		size += n;
		text[size] = '\0';
	}
	fclose(f);
	for (char *line = text, *end; line && *line; line = end ? end + 1 : NULL) {
		end = strchr(line, '\n');
		if (end)
			*end = '\0';
		assert_int_equal(strv_append(&lines, line), 0);
	}
	if (!lines)
		lines = calloc(1, sizeof(char *));
	return lines;
}

static void write_lines(const char *path, char **lines)
{
	FILE *f = fopen(path, "we");

	if (!f)
		fail_msg("cannot write %s: %m", path);
	for (size_t i = 0; lines[i]; i++) {
		if (strchr(lines[i], '\n'))
			fail_msg("argument %zu holds a newline: no golden line can show it", i);
		fprintf(f, "%s\n", lines[i]);
	}
	assert_int_equal(fclose(f), 0);
}

/*
 * Prints how `got` differs from `want` as a line diff ("-" golden, "+" built)
 * with two lines of context, from their longest common subsequence.
 */
static void print_diff(char **want, char **got)
{
	size_t n = strv_length(want), m = strv_length(got);
	size_t *lcs = calloc((n + 1) * (m + 1), sizeof(size_t));
#define LCS(i, j) lcs[(i) * (m + 1) + (j)]

	assert_non_null(lcs);
	for (size_t i = n; i-- > 0;)
		for (size_t j = m; j-- > 0;)
			LCS(i, j) = strcmp(want[i], got[j]) == 0
					    ? LCS(i + 1, j + 1) + 1
					    : MAX(LCS(i + 1, j), LCS(i, j + 1));

	/* One op per line: ' ' both, '-' golden only, '+' built only. */
	size_t n_ops = 0, i = 0, j = 0;
	char *ops = calloc(n + m + 1, 1);
	const char **texts = calloc(n + m + 1, sizeof(char *));
	assert_non_null(ops);
	assert_non_null(texts);
	while (i < n || j < m) {
		if (i < n && j < m && strcmp(want[i], got[j]) == 0) {
			ops[n_ops] = ' ';
			texts[n_ops++] = want[i++];
			j++;
		} else if (i < n && (j == m || LCS(i + 1, j) >= LCS(i, j + 1))) {
			ops[n_ops] = '-';
			texts[n_ops++] = want[i++];
		} else {
			ops[n_ops] = '+';
			texts[n_ops++] = got[j++];
		}
	}
#undef LCS
	bool skipped = false;
	for (size_t k = 0; k < n_ops; k++) {
		bool near = false;
		for (size_t d = k >= 2 ? k - 2 : 0; d < n_ops && d <= k + 2; d++)
			near |= ops[d] != ' ';
		if (near) {
			print_message("%c %s\n", ops[k], texts[k]);
			skipped = false;
		} else if (!skipped) {
			print_message("  ...\n");
			skipped = true;
		}
	}
	free(lcs);
	free(ops);
	free(texts);
}

static void expect_golden(const char *name, const VmDefinition *d, const QemuGpuAssignment *gpus,
			  size_t n_gpus, const QemuHostFacts *host)
{
	_cleanup_strv_ char **argv = build(d, gpus, n_gpus, host);
	_cleanup_strv_ char **want = NULL;
	_cleanup_free_ char *path = NULL;

	assert_true(asprintf(&path, "%s/%s.args", GOLDEN_DIR, name) > 0);
	if (getenv("LIBVFIO_UPDATE_GOLDEN")) {
		write_lines(path, argv);
		print_message("wrote %s: review it before committing\n", path);
		return;
	}
	want = read_lines(path);
	if (!want)
		fail_msg("no golden file %s: LIBVFIO_UPDATE_GOLDEN=1 writes it (then review it)",
			 path);
	bool same = strv_length(want) == strv_length(argv);
	for (size_t i = 0; same && want[i]; i++)
		same = strcmp(want[i], argv[i]) == 0;
	if (!same) {
		print_message("argv of '%s' differs from %s (- golden, + built):\n", name, path);
		print_diff(want, argv);
		fail_msg("argv of '%s' differs from its golden file (LIBVFIO_UPDATE_GOLDEN=1 "
			 "rewrites it; review the change)",
			 name);
	}
}

/* ---- the setups ---- */

/* Windows 11 on a GVT-g slice of a laptop's iGPU, seen through Looking Glass. */
static void test_win11_gvtg(void **state)
{
	VmDefinition d = load("name: win11-gvtg\n"
			      "uuid: 4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8b\n"
			      "memory: 8G\n"
			      "cpus: {sockets: 1, cores: 4, threads: 2}\n"
			      "firmware: uefi\n"
			      "secure-boot: true\n"
			      "tpm: true\n"
			      "gpu:\n"
			      "  - mode: mdev\n"
			      "    vendor: intel\n"
			      "    type: i915-GVTg_V5_4\n"
			      "looking-glass: 32M\n"
			      "disks:\n"
			      "  - path: /var/lib/libvfio/images/win11.qcow2\n"
			      "    format: qcow2\n"
			      "    bus: nvme\n"
			      "cdrom: /var/lib/libvfio/iso/Win11_24H2_English_x64.iso\n"
			      "network: {mode: user, model: e1000e}\n"
			      "audio: pipewire\n"
			      "usb: [046d:c52b]\n"
			      "windows: {hyperv: true}\n");
	const QemuGpuAssignment gpus[] = {
		{ .gpu = &d.gpus[0],
		  .mode = PARTITION_MDEV,
		  .mdev_uuid = "f1e2d3c4-b5a6-4789-8abc-def012345678" },
	};
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_KVM,
		.qmp_socket = RUN "win11-gvtg/qmp.sock",
		.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
		.ovmf_vars = STATE "win11-gvtg/OVMF_VARS.fd",
		.tpm_socket = RUN "win11-gvtg/swtpm.sock",
		.numa_node = -1,
		.looking_glass_path = "/dev/shm/looking-glass-win11-gvtg",
		.audio_server = "/run/user/1000/pulse/native",
		.tap_fd = -1,
		.vnc = true,
	};

	expect_golden("win11-gvtg", &d, gpus, ELEMENTSOF(gpus), &host);
	vm_definition_done(&d);
}

/* A Windows workstation on an NVIDIA GRID vGPU (T4-4Q) with its display, on a bridge. */
static void test_nvidia_vgpu(void **state)
{
	VmDefinition d = load("name: nvidia-vgpu\n"
			      "uuid: 6f9619ff-8b86-4d11-b42d-00c04fc964ff\n"
			      "memory: 16G\n"
			      "cpus: 8\n"
			      "gpu:\n"
			      "  - mode: mdev\n"
			      "    vendor: nvidia\n"
			      "    type: nvidia-232\n"
			      "    display: true\n"
			      "disks:\n"
			      "  - path: /var/lib/libvfio/images/cad.qcow2\n"
			      "    format: qcow2\n"
			      "network: {mode: bridge, bridge: br0, mac: '52:54:00:12:34:56'}\n"
			      "windows: {hyperv: true}\n");
	const QemuGpuAssignment gpus[] = {
		{ .gpu = &d.gpus[0],
		  .mode = PARTITION_MDEV,
		  .mdev_uuid = "9b2c4f7e-3a1d-4e5f-8c6b-7d0e1f2a3b4c" },
	};
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_KVM,
		.qmp_socket = RUN "nvidia-vgpu/qmp.sock",
		.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd",
		.ovmf_vars = STATE "nvidia-vgpu/OVMF_VARS.fd",
		.numa_node = -1,
		.tap_fd = 3,
		.vnc = true,
	};

	expect_golden("nvidia-vgpu", &d, gpus, ELEMENTSOF(gpus), &host);
	vm_definition_done(&d);
}

/* A Linux guest on an AMD MxGPU VF (FirePro S7150), with BIOS firmware. */
static void test_amd_sriov(void **state)
{
	VmDefinition d = load("name: amd-sriov\n"
			      "uuid: 2c5e8f1a-7b3d-4c9e-a6f0-1d4b7e2a5c8f\n"
			      "memory: 8G\n"
			      "cpus: 4\n"
			      "firmware: bios\n"
			      "gpu:\n"
			      "  - mode: sriov\n"
			      "    vendor: amd\n"
			      "disks:\n"
			      "  - path: /var/lib/libvfio/images/ubuntu.qcow2\n"
			      "    format: qcow2\n"
			      "network: user\n");
	const PciAddress vf = address("0000:03:02.2");
	const QemuGpuAssignment gpus[] = {
		{ .gpu = &d.gpus[0], .mode = PARTITION_SRIOV, .devices = &vf, .n_devices = 1 },
	};
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_KVM,
		.qmp_socket = RUN "amd-sriov/qmp.sock",
		.numa_node = -1,
		.tap_fd = -1,
	};

	expect_golden("amd-sriov", &d, gpus, ELEMENTSOF(gpus), &host);
	vm_definition_done(&d);
}

/*
 * A Windows VM on an NVIDIA L4 VF of vGPU 17 (no mdev): the VF, given its type, is a
 * VFIO PCI device like any VF; the guest's driver licenses itself by the VM's UUID.
 */
static void test_nvidia_vgpu17(void **state)
{
	VmDefinition d = load("name: nvidia-vgpu17\n"
			      "uuid: 0b6a3f52-41c8-4b57-9d1e-5c7a8e2f9d30\n"
			      "memory: 16G\n"
			      "cpus: 8\n"
			      "gpu:\n"
			      "  - mode: sriov\n"
			      "    type: NVIDIA L4-8Q\n"
			      "disks:\n"
			      "  - path: /var/lib/libvfio/images/cad.qcow2\n"
			      "    format: qcow2\n"
			      "network: user\n"
			      "windows: {hyperv: true}\n");
	const PciAddress vf = address("0000:03:00.4");
	const QemuGpuAssignment gpus[] = {
		{ .gpu = &d.gpus[0], .mode = PARTITION_SRIOV, .devices = &vf, .n_devices = 1 },
	};
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_KVM,
		.qmp_socket = RUN "nvidia-vgpu17/qmp.sock",
		.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd",
		.ovmf_vars = STATE "nvidia-vgpu17/OVMF_VARS.fd",
		.numa_node = -1,
		.tap_fd = -1,
	};

	expect_golden("nvidia-vgpu17", &d, gpus, ELEMENTSOF(gpus), &host);
	vm_definition_done(&d);
}

/*
 * Windows 11 on an Alder Lake VF (the out-of-tree i915): the GPU's GOP ROM shown to the
 * guest, against Code 43.
 */
static void test_intel_sriov_windows(void **state)
{
	VmDefinition d = load("name: intel-sriov\n"
			      "uuid: 7e4c1a92-5b3d-4f86-a0c2-9d8e1f6b3a57\n"
			      "memory: 8G\n"
			      "cpus: 4\n"
			      "tpm: true\n"
			      "secure-boot: true\n"
			      "gpu:\n"
			      "  - mode: sriov\n"
			      "    vendor: intel\n"
			      "    rom: /usr/share/libvfio/adl-gop.rom\n"
			      "disks:\n"
			      "  - path: /var/lib/libvfio/images/win11.qcow2\n"
			      "    format: qcow2\n"
			      "network: user\n"
			      "windows: {hyperv: true}\n");
	const PciAddress vf = address("0000:00:02.1");
	const QemuGpuAssignment gpus[] = {
		{ .gpu = &d.gpus[0], .mode = PARTITION_SRIOV, .devices = &vf, .n_devices = 1 },
	};
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_KVM,
		.qmp_socket = RUN "intel-sriov/qmp.sock",
		.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.ms.fd",
		.ovmf_vars = STATE "intel-sriov/OVMF_VARS.fd",
		.tpm_socket = RUN "intel-sriov/swtpm.sock",
		.numa_node = -1,
		.tap_fd = -1,
	};

	expect_golden("intel-sriov-windows", &d, gpus, ELEMENTSOF(gpus), &host);
	vm_definition_done(&d);
}

/* An NVIDIA A100 before vGPU 17: the vGPU is an mdev whose parent is a VF. */
static void test_nvidia_mdev_on_a_vf(void **state)
{
	VmDefinition d = load("name: nvidia-mdev-vf\n"
			      "uuid: 5d2e8c71-9a4b-4f03-8e6d-1b7c3a9f0e42\n"
			      "memory: 32G\n"
			      "cpus: 16\n"
			      "gpu:\n"
			      "  - type: NVIDIA A100-10C\n"
			      "disks:\n"
			      "  - path: /var/lib/libvfio/images/train.qcow2\n"
			      "    format: qcow2\n"
			      "network: user\n");
	const QemuGpuAssignment gpus[] = {
		{ .gpu = &d.gpus[0],
		  .mode = PARTITION_MDEV,
		  .mdev_uuid = "3f8a2b1c-6d4e-4a5f-9b0c-8e7d6c5b4a39" },
	};
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_KVM,
		.qmp_socket = RUN "nvidia-mdev-vf/qmp.sock",
		.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd",
		.ovmf_vars = STATE "nvidia-mdev-vf/OVMF_VARS.fd",
		.numa_node = -1,
		.tap_fd = -1,
	};

	expect_golden("nvidia-mdev-vf", &d, gpus, ELEMENTSOF(gpus), &host);
	vm_definition_done(&d);
}

/*
 * A gaming VM with a whole GTX 1080 (its ROM from a file) and the card's HDMI audio,
 * seen through Looking Glass at 4K: the memory sized by Looking Glass's formula (128M).
 */
static void test_passthrough(void **state)
{
	VmDefinition d =
		load("name: passthrough\n"
		     "uuid: 8d3f2a1b-6c4e-4f7a-9b8c-0e1d2f3a4b5c\n"
		     "memory: 16G\n"
		     "cpus: {sockets: 1, cores: 6, threads: 2}\n"
		     "gpu:\n"
		     "  - mode: passthrough\n"
		     "    address: '0000:01:00.0'\n"
		     "    rom: /var/lib/libvfio/roms/gtx1080.rom\n"
		     "    guest-ids: {subsystem-vendor: '1458', subsystem: '3702'}\n"
		     "disks:\n"
		     "  - path: /dev/disk/by-id/ata-Samsung_SSD_860_EVO_1TB_S3Z9NB0K123456X\n"
		     "    bus: sata\n"
		     "network: {mode: bridge, bridge: br0}\n"
		     "audio: pulseaudio\n"
		     "usb: [046d:c52b, 1532:0084]\n"
		     "windows: {hyperv: true, hide-hypervisor: true}\n"
		     "looking-glass: 3840x2160\n");
	const PciAddress functions[] = { address("0000:01:00.0"), address("0000:01:00.1") };
	const QemuGpuAssignment gpus[] = {
		{ .gpu = &d.gpus[0],
		  .mode = PARTITION_PASSTHROUGH,
		  .devices = functions,
		  .n_devices = ELEMENTSOF(functions) },
	};
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_KVM,
		.qmp_socket = RUN "passthrough/qmp.sock",
		.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd",
		.ovmf_vars = STATE "passthrough/OVMF_VARS.fd",
		.numa_node = -1,
		.looking_glass_path = "/dev/kvmfr0",
		.looking_glass_kvmfr = true,
		.audio_server = "/run/user/1000/pulse/native",
		.tap_fd = 3,
	};

	expect_golden("passthrough", &d, gpus, ELEMENTSOF(gpus), &host);
	vm_definition_done(&d);
}

/* A Linux guest with virtio everything, under TCG (this one is run by the QEMU check). */
static void test_linux_virtio(void **state)
{
	VmDefinition d = load("name: linux-virtio\n"
			      "uuid: 0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b\n"
			      "memory: 2G\n"
			      "cpus: 2\n"
			      "disks:\n"
			      "  - path: /var/lib/libvfio/images/debian.qcow2\n"
			      "    format: qcow2\n"
			      "    cache: writeback\n"
			      "  - path: /srv/shared/data.img\n"
			      "    readonly: true\n"
			      "network: user\n"
			      "qemu-args: [-device, virtio-rng-pci]\n");
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_TCG,
		.qmp_socket = RUN "linux-virtio/qmp.sock",
		.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd",
		.ovmf_vars = STATE "linux-virtio/OVMF_VARS.fd",
		.numa_node = -1,
		.tap_fd = -1,
		.vnc = true,
	};

	expect_golden("linux-virtio", &d, NULL, 0, &host);
	vm_definition_done(&d);
}

/* An inference VM on node 1 of a two-socket server: an L4 VF there, 1G pages from there. */
static void test_numa_hugepages(void **state)
{
	VmDefinition d =
		load("name: numa-hugepages\n"
		     "uuid: 5a4b3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d\n"
		     "memory: 32G\n"
		     "cpus: {sockets: 1, cores: 8, threads: 2}\n"
		     "numa: 1\n"
		     "cpu-pinning: [16, 48, 17, 49, 18, 50, 19, 51, 20, 52, 21, 53, 22, 54, "
		     "23, 55]\n"
		     "hugepages: 1G\n"
		     "gpu:\n"
		     "  - mode: sriov\n"
		     "    vendor: 10de:27b8\n"
		     "disks:\n"
		     "  - path: /var/lib/libvfio/images/inference.qcow2\n"
		     "    format: qcow2\n"
		     "network: user\n");
	const PciAddress vf = address("0000:86:00.4");
	const QemuGpuAssignment gpus[] = {
		{ .gpu = &d.gpus[0], .mode = PARTITION_SRIOV, .devices = &vf, .n_devices = 1 },
	};
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_KVM,
		.qmp_socket = RUN "numa-hugepages/qmp.sock",
		.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd",
		.ovmf_vars = STATE "numa-hugepages/OVMF_VARS.fd",
		.numa_node = 1,
		.tap_fd = -1,
	};

	expect_golden("numa-hugepages", &d, gpus, ELEMENTSOF(gpus), &host);
	vm_definition_done(&d);
}

/* Windows 11's requirements alone: UEFI secure boot and a TPM 2.0, under TCG. */
static void test_secure_boot_tpm(void **state)
{
	VmDefinition d = load("name: secure-boot-tpm\n"
			      "uuid: 3e2d1c0b-9a8f-4e7d-b6c5-a4b3c2d1e0f9\n"
			      "memory: 4G\n"
			      "cpus: 2\n"
			      "firmware: uefi\n"
			      "secure-boot: true\n"
			      "tpm: true\n"
			      "disks:\n"
			      "  - path: /var/lib/libvfio/images/win11.qcow2\n"
			      "    format: qcow2\n"
			      "    bus: sata\n"
			      "cdrom: /var/lib/libvfio/iso/Win11_24H2_English_x64.iso\n"
			      "network: {mode: user, model: e1000e}\n"
			      "windows: {hyperv: true}\n");
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_TCG,
		.qmp_socket = RUN "secure-boot-tpm/qmp.sock",
		.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd",
		.ovmf_vars = STATE "secure-boot-tpm/OVMF_VARS.fd",
		.tpm_socket = RUN "secure-boot-tpm/swtpm.sock",
		.numa_node = -1,
		.tap_fd = -1,
	};

	expect_golden("secure-boot-tpm", &d, NULL, 0, &host);
	vm_definition_done(&d);
}

/* No GPU at all (an explicit "mode: none"), BIOS, no network: the smallest VM. */
static void test_no_gpu(void **state)
{
	VmDefinition d = load("name: no-gpu\n"
			      "uuid: 7c6b5a49-3827-4165-9f4e-3d2c1b0a9f8e\n"
			      "memory: 1G\n"
			      "cpus: 1\n"
			      "firmware: bios\n"
			      "gpu:\n"
			      "  - mode: none\n"
			      "disks:\n"
			      "  - path: /var/lib/libvfio/images/alpine.raw\n"
			      "network: none\n");
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_TCG,
		.qmp_socket = RUN "no-gpu/qmp.sock",
		.numa_node = -1,
		.tap_fd = -1,
		.vnc = true,
	};

	expect_golden("no-gpu", &d, NULL, 0, &host);
	vm_definition_done(&d);
}

/*
 * A Windows install: the installer and the virtio drivers on two CD-ROMs, the
 * installer first (boot: cdrom), then the empty SATA disk; under TCG.
 */
static void test_installer_two_cdroms(void **state)
{
	VmDefinition d = load("name: installer\n"
			      "uuid: 2b3c4d5e-6f70-4182-93a4-b5c6d7e8f901\n"
			      "memory: 4G\n"
			      "cpus: 2\n"
			      "firmware: bios\n"
			      "boot: cdrom\n"
			      "disks:\n"
			      "  - path: /var/lib/libvfio/images/win10.qcow2\n"
			      "    format: qcow2\n"
			      "    bus: sata\n"
			      "  - path: /var/lib/libvfio/images/data.raw\n"
			      "cdrom:\n"
			      "  - /var/lib/libvfio/iso/Win10_22H2_English_x64.iso\n"
			      "  - /var/lib/libvfio/iso/virtio-win-0.1.262.iso\n"
			      "network: none\n");
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_TCG,
		.qmp_socket = RUN "installer/qmp.sock",
		.numa_node = -1,
		.tap_fd = -1,
		.vnc = true,
	};

	expect_golden("installer-two-cdroms", &d, NULL, 0, &host);

	/* boot: disk, the default: the disks first, the CD-ROMs after, on the same ports. */
	d.boot = VM_BOOT_DISK;
	_cleanup_strv_ char **argv = build(&d, NULL, 0, &host);
	assert_string_equal(value_of(argv, "-device", 1),
			    "ide-hd,drive=disk0,bus=ide.0,bootindex=1");
	assert_string_equal(value_of(argv, "-device", 2), "virtio-blk-pci,drive=disk1,bootindex=2");
	assert_string_equal(value_of(argv, "-device", 3),
			    "ide-cd,drive=cdrom0,bus=ide.1,bootindex=3");
	assert_string_equal(value_of(argv, "-device", 4),
			    "ide-cd,drive=cdrom1,bus=ide.2,bootindex=4");
	vm_definition_done(&d);
}

/* ---- errors ---- */

#define MINIMAL_UEFI                                   \
	"name: broken\n"                               \
	"uuid: 0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b\n" \
	"memory: 1G\n"

static const QemuHostFacts complete_host = {
	.accel = QEMU_ACCEL_TCG,
	.qmp_socket = RUN "broken/qmp.sock",
	.ovmf_code = "/usr/share/OVMF/OVMF_CODE_4M.fd",
	.ovmf_vars = STATE "broken/OVMF_VARS.fd",
	.tpm_socket = RUN "broken/swtpm.sock",
	.numa_node = -1,
	.looking_glass_path = "/dev/shm/looking-glass-broken",
	.audio_server = "/run/user/1000/pulse/native",
	.tap_fd = 3,
};

/* Expects -EINVAL with a message containing `expected`, and no argv. */
static void expect_invalid(const VmDefinition *d, const QemuGpuAssignment *gpus, size_t n_gpus,
			   const QemuHostFacts *host, const char *expected)
{
	char **argv = NULL;
	_cleanup_free_ char *error = NULL;
	int r = qemu_cmdline_build(QEMU, d, gpus, n_gpus, host, &argv, &error);

	if (r != -EINVAL)
		fail_msg("got %d (%s), expected -EINVAL about '%s'", r,
			 error ? error : "no message", expected);
	assert_null(argv);
	assert_non_null(error);
	if (!strstr(error, expected))
		fail_msg("error '%s' does not say '%s'", error, expected);

	/* No error text wanted: the same code, nothing leaks. */
	assert_int_equal(qemu_cmdline_build(QEMU, d, gpus, n_gpus, host, &argv, NULL), -EINVAL);
	assert_null(argv);
}

/* Each definition is fine with complete_host, and fails once `host` lacks one fact. */
static void expect_missing_fact(const char *yaml, const QemuHostFacts *host, const char *expected)
{
	VmDefinition d = load(yaml);
	_cleanup_strv_ char **argv = build(&d, NULL, 0, &complete_host);

	expect_invalid(&d, NULL, 0, host, expected);
	vm_definition_done(&d);
}

static void test_missing_host_facts(void **state)
{
	QemuHostFacts host;

	host = complete_host;
	host.ovmf_code = NULL;
	expect_missing_fact(MINIMAL_UEFI, &host, "Firmware uefi needs OVMF");
	host = complete_host;
	host.ovmf_vars = NULL;
	expect_missing_fact(MINIMAL_UEFI, &host, "Firmware uefi needs OVMF");
	host = complete_host;
	host.tpm_socket = NULL;
	expect_missing_fact(MINIMAL_UEFI "tpm: true\n", &host, "The TPM needs swtpm's socket");
	host = complete_host;
	host.tap_fd = -1;
	expect_missing_fact(MINIMAL_UEFI "network: {mode: bridge, bridge: br0}\n", &host,
			    "The network on bridge br0 has no tap");
	host = complete_host;
	host.audio_server = NULL;
	expect_missing_fact(MINIMAL_UEFI "audio: pipewire\n", &host, "Audio pipewire");
	expect_missing_fact(MINIMAL_UEFI "audio: pulseaudio\n", &host, "Audio pulseaudio");
	host = complete_host;
	host.looking_glass_path = NULL;
	expect_missing_fact(MINIMAL_UEFI "looking-glass: 64M\n", &host, "Looking Glass");
	host = complete_host;
	host.qmp_socket = NULL;
	expect_missing_fact(MINIMAL_UEFI, &host, "No QMP socket path for the VM broken.");
	host = complete_host;
	host.accel = _QEMU_ACCEL_MAX;
	expect_missing_fact(MINIMAL_UEFI, &host, "Unknown accelerator");
}

static void test_invalid_definitions(void **state)
{
	VmDefinition d;

	/* A definition not yet given its UUID. */
	d = load("name: broken\nmemory: 1G\nfirmware: bios\n");
	expect_invalid(&d, NULL, 0, &complete_host, "The VM broken has no UUID");
	vm_definition_done(&d);

	/* Built by hand past the parser's check. */
	d = load(MINIMAL_UEFI "firmware: bios\n");
	d.secure_boot = true;
	expect_invalid(&d, NULL, 0, &complete_host, "Secure boot needs 'firmware: uefi'.");
	vm_definition_done(&d);

	d = load(MINIMAL_UEFI "hugepages: 2M\n");
	d.memory = UINT64_C(1025) << 20;
	expect_invalid(&d, NULL, 0, &complete_host,
		       "Memory 1025M is not a whole number of 2M huge pages");
	vm_definition_done(&d);

	/* A definition refuses these itself; the argv does not rely on it. */
	d = load("name: broken\n"
		 "uuid: 0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b\n"
		 "memory: 2G\n"
		 "hugepages: 1G\n");
	d.memory = UINT64_C(1536) << 20;
	expect_invalid(&d, NULL, 0, &complete_host,
		       "Memory 1536M is not a whole number of 1G huge pages");
	vm_definition_done(&d);

	/* Six AHCI ports: six SATA disks fit, six and a CD-ROM do not. */
	static const char six_sata[] = MINIMAL_UEFI "disks:\n"
						    "  - {path: /d/1, bus: sata}\n"
						    "  - {path: /d/2, bus: sata}\n"
						    "  - {path: /d/3, bus: sata}\n"
						    "  - {path: /d/4, bus: sata}\n"
						    "  - {path: /d/5, bus: sata}\n"
						    "  - {path: /d/6, bus: sata}\n"
						    "  - {path: /d/7, bus: nvme}\n";
	d = load(six_sata);
	_cleanup_strv_ char **argv = build(&d, NULL, 0, &complete_host);
	assert_string_equal(value_of(argv, "-device", 6),
			    "ide-hd,drive=disk5,bus=ide.5,bootindex=6");
	vm_definition_done(&d);
	d = load(six_sata);
	assert_int_equal(strv_append(&d.cdroms, "/iso/x.iso"), 0);
	expect_invalid(&d, NULL, 0, &complete_host,
		       "There are 7 SATA disks and CD-ROMs, and the AHCI controller has 6 ports");
	vm_definition_done(&d);
}

static void test_invalid_assignments(void **state)
{
	VmDefinition d = load(MINIMAL_UEFI "gpu:\n  - mode: auto\n");
	PciAddress functions[9];
	QemuGpuAssignment g = { .gpu = &d.gpus[0], .mode = PARTITION_MDEV };

	for (size_t i = 0; i < ELEMENTSOF(functions); i++)
		functions[i] = (PciAddress){ 0, 1, 0, (uint8_t)(i % 8) };
	expect_invalid(&d, &g, 1, &complete_host, "GPU 1: the mdev has no UUID");
	g = (QemuGpuAssignment){ .gpu = &d.gpus[0], .mode = PARTITION_SRIOV };
	expect_invalid(&d, &g, 1, &complete_host, "GPU 1: an SR-IOV partition is one VF");
	g.devices = functions;
	g.n_devices = 2;
	expect_invalid(&d, &g, 1, &complete_host, "GPU 1: an SR-IOV partition is one VF");
	g = (QemuGpuAssignment){ .gpu = &d.gpus[0], .mode = PARTITION_PASSTHROUGH };
	expect_invalid(&d, &g, 1, &complete_host, "GPU 1: no PCI function");
	g.devices = functions;
	g.n_devices = 9;
	expect_invalid(&d, &g, 1, &complete_host, "9 functions to pass through");
	g.n_devices = 8;
	_cleanup_strv_ char **argv = build(&d, &g, 1, &complete_host);
	assert_string_equal(value_of(argv, "-device", 8),
			    "vfio-pci,host=0000:01:00.7,id=gpu0-fn7,bus=gpu0-port,addr=00.7");
	g.mode = _PARTITION_MODE_MAX;
	expect_invalid(&d, &g, 1, &complete_host, "unknown partition mode");
	vm_definition_done(&d);
}

/* ---- commas, MACs, accelerators ---- */

/*
 * The value of `key` in a QEMU option string, read as QEMU reads it: options
 * end at a single comma, ",," is a comma. NULL when the key is not there;
 * *ret_count says how often it is.
 */
static char *option_value(const char *text, const char *key, size_t *ret_count)
{
	char *found = NULL;
	size_t count = 0;

	for (const char *p = text; *p;) {
		char item[4096];
		size_t n = 0;
		while (*p && n < sizeof(item) - 1) {
			if (*p == ',' && p[1] == ',') {
				item[n++] = ',';
				p += 2;
			} else if (*p == ',') {
				p++;
				break;
			} else
				item[n++] = *p++;
		}
		item[n] = '\0';
		const char *equals = strchr(item, '=');
		if (equals && (size_t)(equals - item) == strlen(key) &&
		    strncmp(item, key, strlen(key)) == 0) {
			count++;
			free(found);
			found = strdup(equals + 1);
		}
	}
	*ret_count = count;
	return found;
}

/* `argument` holds `key` `count` times (0 or 1), with the value `value`. */
static void expect_option(const char *argument, const char *key, size_t count, const char *value)
{
	size_t n;
	_cleanup_free_ char *got = option_value(argument, key, &n);

	if (n != count || (count && strcmp(got, value) != 0))
		fail_msg("'%s': %s is '%s' (%zu times), expected '%s' (%zu times)", argument, key,
			 got ? got : "(none)", n, value ? value : "(none)", count);
}

static void test_commas_stay_in_their_value(void **state)
{
	VmDefinition d =
		load("name: commas\n"
		     "uuid: 0f8e7d6c-5b4a-4938-8271-605f4e3d2c1b\n"
		     "memory: 1G\n"
		     "tpm: true\n"
		     "looking-glass: 32M\n"
		     "audio: pipewire\n"
		     "gpu:\n"
		     "  - {mode: passthrough, address: '01:00.0', rom: '/r/a,romfile=/x.rom'}\n"
		     "disks:\n"
		     "  - path: '/vms/a,readonly=off,file=/etc/shadow'\n"
		     "    readonly: true\n"
		     "  - path: /vms/b,,c\n"
		     "cdrom: /iso/x,file=/etc/shadow\n");
	const PciAddress gpu = address("0000:01:00.0");
	const QemuGpuAssignment gpus[] = {
		{ .gpu = &d.gpus[0],
		  .mode = PARTITION_PASSTHROUGH,
		  .devices = &gpu,
		  .n_devices = 1 },
	};
	const QemuHostFacts host = {
		.accel = QEMU_ACCEL_KVM,
		.qmp_socket = "/run/a,server=off/qmp",
		.ovmf_code = "/fw/code,readonly=off.fd",
		.ovmf_vars = "/fw/vars,file=/etc/shadow",
		.tpm_socket = "/run/a,path=/x/tpm",
		.numa_node = -1,
		.looking_glass_path = "/dev/shm/lg,share=off",
		.audio_server = "/run/user/1000/pulse,id=x/native",
		.tap_fd = -1,
	};
	_cleanup_strv_ char **argv = build(&d, gpus, ELEMENTSOF(gpus), &host);

	assert_string_equal(value_of(argv, "-drive", 2),
			    "file=/vms/a,,readonly=off,,file=/etc/shadow,if=none,id=disk0,"
			    "format=raw,cache=none,readonly=on");
	/* Read as QEMU reads them: each path is one value, nothing was added. */
	expect_option(value_of(argv, "-drive", 0), "file", 1, "/fw/code,readonly=off.fd");
	expect_option(value_of(argv, "-drive", 0), "readonly", 1, "on");
	expect_option(value_of(argv, "-drive", 1), "file", 1, "/fw/vars,file=/etc/shadow");
	expect_option(value_of(argv, "-drive", 1), "readonly", 0, NULL);
	expect_option(value_of(argv, "-drive", 2), "file", 1,
		      "/vms/a,readonly=off,file=/etc/shadow");
	expect_option(value_of(argv, "-drive", 2), "readonly", 1, "on");
	expect_option(value_of(argv, "-drive", 3), "file", 1, "/vms/b,,c");
	expect_option(value_of(argv, "-drive", 3), "readonly", 0, NULL);
	expect_option(value_of(argv, "-drive", 4), "file", 1, "/iso/x,file=/etc/shadow");
	expect_option(value_of(argv, "-chardev", 0), "path", 1, "/run/a,server=off/qmp");
	expect_option(value_of(argv, "-chardev", 0), "server", 1, "on");
	expect_option(value_of(argv, "-chardev", 1), "path", 1, "/run/a,path=/x/tpm");
	expect_option(value_of(argv, "-object", 1), "mem-path", 1, "/dev/shm/lg,share=off");
	expect_option(value_of(argv, "-object", 1), "share", 1, "on");
	expect_option(value_of(argv, "-audiodev", 0), "server", 1,
		      "unix:/run/user/1000/pulse,id=x/native");
	expect_option(value_of(argv, "-audiodev", 0), "id", 1, "audio");
	expect_option(value_of(argv, "-device", 2), "romfile", 1, "/r/a,romfile=/x.rom");
	vm_definition_done(&d);
}

static void test_mac_from_uuid(void **state)
{
	static const char yaml[] = "name: mac\n"
				   "uuid: %s\n"
				   "memory: 1G\n"
				   "firmware: bios\n"
				   "network: {mode: user%s}\n";
	/* Two time-based UUIDs of one host: their last six bytes (the host's MAC) are the same. */
	static const struct {
		const char *uuid, *mac;
	} cases[] = {
		/* 4b^8c^4c^7b^1e^8b, 1e^2f^6e^3d^0f, 5a^0d^9a^2c^9a */
		{ "4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8b", "52:54:00:65:6d:7b" },
		{ "4B1E5A8C-2F0D-4C6E-9A7B-3D2C1E0F9A8B", "52:54:00:65:6d:7b" },
		{ "00000000-0000-0000-0000-000000000000", "52:54:00:00:00:00" },
		{ "c4a8f1d2-e3b5-4a6c-8d7e-9f0a1b2c3d4e", "52:54:00:77:94:fe" },
		{ "5c1a7e3e-8f2b-11ee-b9d1-0242ac120002", NULL },
		{ "6d2b8f4f-8f2b-11ee-b9d1-0242ac120002", NULL },
	};
	char *macs[ELEMENTSOF(cases)] = { NULL };

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text = NULL;
		assert_true(asprintf(&text, yaml, cases[i].uuid, "") > 0);
		VmDefinition d = load(text);
		_cleanup_strv_ char **argv = build(&d, NULL, 0, &complete_host);
		size_t count;
		macs[i] = option_value(value_of(argv, "-device", 1), "mac", &count);
		assert_int_equal(count, 1);
		if (cases[i].mac)
			assert_string_equal(macs[i], cases[i].mac);
		/* The same definition, the same MAC. */
		_cleanup_strv_ char **again = build(&d, NULL, 0, &complete_host);
		assert_string_equal(value_of(again, "-device", 1), value_of(argv, "-device", 1));
		vm_definition_done(&d);
	}
	assert_string_not_equal(macs[4], macs[5]);
	for (size_t i = 0; i < ELEMENTSOF(cases); i++)
		free(macs[i]);

	/* A MAC in the definition is used as it is. */
	_cleanup_free_ char *text = NULL;
	assert_true(asprintf(&text, yaml, cases[0].uuid, ", mac: '02:00:00:aa:bb:cc'") > 0);
	VmDefinition d = load(text);
	_cleanup_strv_ char **argv = build(&d, NULL, 0, &complete_host);
	assert_string_equal(value_of(argv, "-device", 1),
			    "virtio-net-pci,netdev=net0,mac=02:00:00:aa:bb:cc");
	vm_definition_done(&d);
}

/* KVM gets every enlightenment and the hiding; TCG only what it implements. */
static void test_windows_tuning_per_accel(void **state)
{
	static const struct {
		const char *windows;
		QemuAccel accel;
		const char *cpu;
	} cases[] = {
		{ "{hyperv: false}", QEMU_ACCEL_KVM, "host" },
		{ "{hyperv: false}", QEMU_ACCEL_TCG, "max" },
		{ "{hide-hypervisor: true}", QEMU_ACCEL_KVM, "host,kvm=off,hypervisor=off" },
		{ "{hide-hypervisor: true}", QEMU_ACCEL_TCG, "max,hypervisor=off" },
		{ "{hyperv: true}", QEMU_ACCEL_KVM,
		  "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,"
		  "hv-stimer,hv-reset,hv-frequencies,hv-time,hv-tlbflush,hv-ipi" },
		{ "{hyperv: true}", QEMU_ACCEL_TCG, "max" },
		{ "{hyperv: true, hide-hypervisor: true}", QEMU_ACCEL_KVM,
		  "host,hv-relaxed,hv-vapic,hv-spinlocks=0x1fff,hv-vpindex,hv-runtime,hv-synic,"
		  "hv-stimer,hv-reset,hv-frequencies,hv-time,hv-tlbflush,hv-ipi,"
		  "hv-vendor-id=1234567890ab,kvm=off,hypervisor=off" },
		{ "{hyperv: true, hide-hypervisor: true}", QEMU_ACCEL_TCG, "max,hypervisor=off" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *text = NULL;
		QemuHostFacts host = complete_host;

		assert_true(asprintf(&text, MINIMAL_UEFI "windows: %s\n", cases[i].windows) > 0);
		host.accel = cases[i].accel;
		VmDefinition d = load(text);
		_cleanup_strv_ char **argv = build(&d, NULL, 0, &host);
		assert_string_equal(value_of(argv, "-cpu", 0), cases[i].cpu);
		assert_string_equal(value_of(argv, "-accel", 0),
				    cases[i].accel == QEMU_ACCEL_KVM ? "kvm" : "tcg");
		vm_definition_done(&d);
	}
}

/* The emulated VGA: only when no GPU shows the guest's screen from power-on. */
static void test_vga_only_without_boot_display(void **state)
{
	VmDefinition d = load(MINIMAL_UEFI "network: none\n"
					   "gpu:\n"
					   "  - {mode: mdev, display: true}\n"
					   "  - {mode: mdev}\n"
					   "  - {mode: sriov}\n"
					   "  - {mode: passthrough}\n");
	const PciAddress vf = address("0000:03:02.0"), gpu = address("0000:0b:00.0");
	const QemuGpuAssignment all[] = {
		{ .gpu = &d.gpus[0],
		  .mode = PARTITION_MDEV,
		  .mdev_uuid = "f1e2d3c4-b5a6-4789-8abc-def012345678" },
		{ .gpu = &d.gpus[1],
		  .mode = PARTITION_MDEV,
		  .mdev_uuid = "0a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d" },
		{ .gpu = &d.gpus[2], .mode = PARTITION_SRIOV, .devices = &vf, .n_devices = 1 },
		{ .gpu = &d.gpus[3],
		  .mode = PARTITION_PASSTHROUGH,
		  .devices = &gpu,
		  .n_devices = 1 },
	};
	static const struct {
		size_t first, n;
		bool vga;
	} cases[] = {
		{ 0, 0, true }, { 0, 1, false }, { 1, 1, true },
		{ 2, 1, true }, { 3, 1, false }, { 1, 3, false },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_strv_ char **argv =
			build(&d, all + cases[i].first, cases[i].n, &complete_host);
		assert_int_equal(count_of(argv, "VGA,id=video"), cases[i].vga);
		assert_int_equal(count_of(argv, "-device"),
				 cases[i].vga + 2 * cases[i].n); /* a root port and the GPU */
	}
	/* Four GPUs: four root ports, chassis 1 to 4, each GPU behind its own. */
	_cleanup_strv_ char **argv = build(&d, all, ELEMENTSOF(all), &complete_host);
	assert_string_equal(value_of(argv, "-device", 6),
			    "pcie-root-port,id=gpu3-port,bus=pcie.0,chassis=4");
	assert_string_equal(value_of(argv, "-device", 7),
			    "vfio-pci,host=0000:0b:00.0,id=gpu3,bus=gpu3-port,addr=00.0");
	vm_definition_done(&d);
}

/* The daemon's own listening socket, inherited: QEMU creates no socket file for QMP. */
static void test_qmp_from_an_inherited_socket(void **state)
{
	VmDefinition d = load(MINIMAL_UEFI "network: none\n");
	QemuHostFacts host = complete_host;
	(void)state;

	host.qmp_socket = NULL;
	host.qmp_fd = 3;
	char **argv = build(&d, NULL, 0, &host);
	assert_string_equal(value_of(argv, "-chardev", 0), "socket,id=qmp,fd=3,server=on,wait=off");
	assert_string_equal(value_of(argv, "-mon", 0), "chardev=qmp,mode=control");
	strv_free(argv);
	vm_definition_done(&d);
}

/*
 * Files the daemon opened: each in an fd set of its own (a writable one with
 * its read-only twin), a block device through host_device, the ROM by its
 * name in /proc. No path of the definition reaches QEMU.
 */
static void test_files_from_inherited_descriptors(void **state)
{
	VmDefinition d =
		load(MINIMAL_UEFI "network: none\n"
				  "gpu:\n"
				  "  - {mode: passthrough, address: '01:00.0', rom: /r/gop.rom}\n"
				  "disks:\n"
				  "  - path: /images/a.qcow2\n"
				  "    format: qcow2\n"
				  "  - {path: /dev/sdb, readonly: true}\n"
				  "cdrom: /iso/x.iso\n");
	const PciAddress gpu = address("0000:01:00.0");
	const QemuGpuAssignment gpus[] = {
		{ .gpu = &d.gpus[0],
		  .mode = PARTITION_PASSTHROUGH,
		  .devices = &gpu,
		  .n_devices = 1,
		  .rom_fd = 9 },
	};
	QemuHostFacts host = complete_host;
	(void)state;

	host.ovmf_vars_file = (QemuFile){ .fd = 3, .read_only_fd = 4 };
	host.disks[0] = (QemuFile){ .fd = 5, .read_only_fd = 6 };
	host.disks[1] = (QemuFile){ .fd = 7, .block_device = true };
	host.cdroms[0] = (QemuFile){ .fd = 8 };
	_cleanup_strv_ char **argv = build(&d, gpus, ELEMENTSOF(gpus), &host);
	const char *const sets[] = {
		"fd=3,set=1,opaque=uefi-vars", "fd=4,set=1,opaque=uefi-vars-read-only",
		"fd=5,set=2,opaque=disk0",     "fd=6,set=2,opaque=disk0-read-only",
		"fd=7,set=3,opaque=disk1",     "fd=8,set=4,opaque=cdrom0",
	};
	for (size_t i = 0; i < ELEMENTSOF(sets); i++)
		assert_string_equal(value_of(argv, "-add-fd", i), sets[i]);
	assert_null(value_of(argv, "-add-fd", ELEMENTSOF(sets)));
	assert_string_equal(value_of(argv, "-drive", 1),
			    "if=pflash,unit=1,format=raw,file=/dev/fdset/1");
	assert_string_equal(value_of(argv, "-drive", 2),
			    "file=/dev/fdset/2,if=none,id=disk0,format=qcow2,cache=none");
	assert_string_equal(value_of(argv, "-drive", 3),
			    "file.driver=host_device,file.filename=/dev/fdset/3,if=none,id=disk1,"
			    "format=raw,cache=none,readonly=on");
	assert_string_equal(
		value_of(argv, "-drive", 4),
		"file=/dev/fdset/4,if=none,id=cdrom0,media=cdrom,format=raw,readonly=on");
	expect_option(value_of(argv, "-device", 1), "romfile", 1, "/proc/self/fd/9");
	for (size_t i = 0; argv[i]; i++)
		assert_true(!strstr(argv[i], "/images/") && !strstr(argv[i], "/iso/") &&
			    !strstr(argv[i], "/dev/sdb") && !strstr(argv[i], "gop.rom"));
	vm_definition_done(&d);
}

/* VFIO pins guest RAM and Looking Glass's memory; a 1 GiB margin as libvirt keeps. */
static void test_memlock_limit(void **state)
{
	(void)state;
	VmDefinition plain = load("name: plain\nmemory: 4G\ncpus: 2\n");
	VmDefinition shared = load("name: shared\nmemory: 2G\ncpus: 2\nlooking-glass: 64M\n");

	assert_int_equal(qemu_memlock_limit(&plain, 0), 0); /* no VFIO: the default will do */
	assert_int_equal(qemu_memlock_limit(&plain, 1), UINT64_C(5) << 30);
	assert_int_equal(qemu_memlock_limit(&plain, 3), UINT64_C(5) << 30);
	assert_int_equal(qemu_memlock_limit(&shared, 1), (UINT64_C(3) << 30) + (64 << 20));
	vm_definition_done(&plain);
	vm_definition_done(&shared);
}

/* Looking Glass's memory from a resolution, as its documentation computes it. */
static void test_looking_glass_resolution(void **state)
{
	static const struct {
		const char *value, *size;
	} cases[] = {
		{ "on", "32M" },        { "true", "32M" },       { "1920x1080", "32M" },
		{ "2560x1440", "64M" }, { "3440x1440", "64M" },  { "3840x2160", "128M" },
		{ "640x480", "16M" },   { "7680x4320", "512M" }, { "1080x1920", "32M" },
	};
	(void)state;
	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		_cleanup_free_ char *yaml = NULL, *want = NULL;
		assert_true(asprintf(&yaml,
				     "name: lg\n"
				     "uuid: 4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8b\n"
				     "memory: 1G\n"
				     "firmware: bios\n"
				     "looking-glass: %s\n",
				     cases[i].value) > 0);
		assert_true(asprintf(&want,
				     "memory-backend-file,id=looking-glass,mem-path=/dev/shm/lg,"
				     "size=%s,share=on",
				     cases[i].size) > 0);
		VmDefinition d = load(yaml);
		QemuHostFacts host = {
			.qmp_socket = RUN "lg/qmp.sock",
			.numa_node = -1,
			.looking_glass_path = "/dev/shm/lg",
			.tap_fd = -1,
		};
		char **argv = build(&d, NULL, 0, &host);
		assert_string_equal(value_of(argv, "-object", 1), want);
		strv_free(argv);
		vm_definition_done(&d);
	}
}

static void test_accel_names(void **state)
{
	assert_string_equal(qemu_accel_to_string(QEMU_ACCEL_KVM), "kvm");
	assert_string_equal(qemu_accel_to_string(QEMU_ACCEL_TCG), "tcg");
	assert_null(qemu_accel_to_string(_QEMU_ACCEL_MAX));
	assert_null(qemu_accel_to_string((QemuAccel)-1));
	assert_int_equal(qemu_accel_from_string("kvm"), QEMU_ACCEL_KVM);
	assert_int_equal(qemu_accel_from_string("tcg"), QEMU_ACCEL_TCG);
	assert_int_equal(qemu_accel_from_string("auto"), -EINVAL);
	assert_int_equal(qemu_accel_from_string("KVM"), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_win11_gvtg),
		cmocka_unit_test(test_nvidia_vgpu),
		cmocka_unit_test(test_amd_sriov),
		cmocka_unit_test(test_nvidia_vgpu17),
		cmocka_unit_test(test_nvidia_mdev_on_a_vf),
		cmocka_unit_test(test_intel_sriov_windows),
		cmocka_unit_test(test_passthrough),
		cmocka_unit_test(test_linux_virtio),
		cmocka_unit_test(test_numa_hugepages),
		cmocka_unit_test(test_secure_boot_tpm),
		cmocka_unit_test(test_no_gpu),
		cmocka_unit_test(test_installer_two_cdroms),
		cmocka_unit_test(test_missing_host_facts),
		cmocka_unit_test(test_invalid_definitions),
		cmocka_unit_test(test_invalid_assignments),
		cmocka_unit_test(test_commas_stay_in_their_value),
		cmocka_unit_test(test_mac_from_uuid),
		cmocka_unit_test(test_windows_tuning_per_accel),
		cmocka_unit_test(test_vga_only_without_boot_display),
		cmocka_unit_test(test_qmp_from_an_inherited_socket),
		cmocka_unit_test(test_files_from_inherited_descriptors),
		cmocka_unit_test(test_memlock_limit),
		cmocka_unit_test(test_looking_glass_resolution),
		cmocka_unit_test(test_accel_names),
	};

	return cmocka_run_group_tests_name("qemu_cmdline", tests, NULL, NULL);
}
