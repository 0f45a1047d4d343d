/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * VM definitions, read strictly: a full and a minimal file, and every kind of
 * mistake with the exact "FILE:LINE:COLUMN: KEY: ..." it must produce.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "pci_address.h"
#include "strv.h"
#include "tmpdir.h"
#include "vm_definition.h"

static int load(const char *text, VmDefinition *ret, char **ret_error)
{
	return vm_definition_load_string(text, strlen(text), "vm.yaml", ret, ret_error);
}

static void test_names(void **state)
{
	static const char *const good[] = { "gaming-vm", "a", "Win11_Pro.2", "9front" };
	static const char *const bad[] = { "",    "-x",   ".hidden", "_a",   "a b",
					   "a/b", "../x", "ä",       "a\nb", "x;rm" };
	char longest[VM_NAME_MAX + 2];

	for (size_t i = 0; i < ELEMENTSOF(good); i++)
		assert_true(vm_name_is_valid(good[i]));
	for (size_t i = 0; i < ELEMENTSOF(bad); i++)
		assert_false(vm_name_is_valid(bad[i]));
	assert_false(vm_name_is_valid(NULL));
	memset(longest, 'a', sizeof(longest));
	longest[VM_NAME_MAX] = '\0';
	assert_true(vm_name_is_valid(longest));
	longest[VM_NAME_MAX] = 'a';
	longest[VM_NAME_MAX + 1] = '\0';
	assert_false(vm_name_is_valid(longest));
}

static void test_full(void **state)
{
	static const char text[] =
		"# Windows 11 with its own NVMe image\n"
		"name: gaming-vm\n"
		"uuid: 4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8b\n"
		"memory: 16G\n"
		"cpus: {sockets: 1, cores: 6, threads: 2}\n"
		"firmware: uefi\n"
		"secure-boot: true\n"
		"disks:\n"
		"  - path: /var/lib/libvfio/images/win11.qcow2\n"
		"    format: qcow2\n"
		"    bus: nvme\n"
		"  - path: /srv/data.img\n"
		"    readonly: true\n"
		"    cache: writeback\n"
		"tpm: true\n"
		"gpu:\n"
		"  - mode: mdev\n"
		"    vendor: intel\n"
		"    type: i915-GVTg_V5_4\n"
		"    display: true\n"
		"  - mode: passthrough\n"
		"    address: 03:00.0\n"
		"    rom: /var/lib/libvfio/roms/rx6800.rom\n"
		"    guest-ids: {vendor: 1002, device: 73bf, subsystem-vendor: 1da2,\n"
		"                subsystem: e437}\n"
		"  - vendor: 10de:1eb8\n"
		"    min-framebuffer: 2G\n"
		"    max-instances: 8\n"
		"cdrom: /srv/iso/Win11_24H2.iso\n"
		"network: {mode: bridge, bridge: br0, model: e1000e, mac: "
		"52:54:00:ab:cd:ef}\n"
		"numa: 1\n"
		"hugepages: 1G\n"
		"audio: pipewire\n"
		"usb: [046d:c52b, 1532:0084]\n"
		"windows: {hyperv: true, hide-hypervisor: true}\n"
		"autostart: true\n"
		"looking-glass: 128M\n"
		"owner: alice\n"
		"qemu-args: [-device, 'usb-tablet', '-global', 'x=a b;c']\n";
	VmDefinition d;
	char *error = NULL;

	assert_int_equal(load(text, &d, &error), 0);
	assert_null(error);
	assert_string_equal(d.name, "gaming-vm");
	assert_string_equal(d.uuid, "4b1e5a8c-2f0d-4c6e-9a7b-3d2c1e0f9a8b");
	assert_true(d.memory == UINT64_C(16) << 30);
	assert_int_equal(vm_definition_cpus(&d), 12);
	assert_int_equal(d.threads, 2);
	assert_int_equal(d.firmware, VM_FIRMWARE_UEFI);
	assert_true(d.secure_boot);
	assert_int_equal(d.n_disks, 2);
	assert_string_equal(d.disks[0].format, "qcow2");
	assert_string_equal(vm_disk_bus_to_string(d.disks[0].bus), "nvme");
	assert_false(d.disks[0].readonly);
	assert_string_equal(d.disks[0].cache, "none");
	assert_string_equal(d.disks[1].path, "/srv/data.img");
	assert_string_equal(d.disks[1].format, "raw");
	assert_int_equal(d.disks[1].bus, VM_DISK_VIRTIO);
	assert_true(d.disks[1].readonly);
	assert_string_equal(d.disks[1].cache, "writeback");
	assert_true(d.tpm);
	assert_int_equal(d.n_gpus, 3);
	assert_string_equal(vm_gpu_mode_to_string(d.gpus[0].mode), "mdev");
	assert_int_equal(d.gpus[0].vendor_id, 0x8086);
	assert_string_equal(d.gpus[0].type, "i915-GVTg_V5_4");
	assert_true(d.gpus[0].display);
	assert_true(d.gpus[1].has_address);
	char address[PCI_ADDRESS_TEXT_SIZE];
	assert_string_equal(pci_address_format(&d.gpus[1].address, address), "0000:03:00.0");
	assert_string_equal(d.gpus[1].rom, "/var/lib/libvfio/roms/rx6800.rom");
	assert_int_equal(d.gpus[1].guest_subsystem_id, 0xe437);
	assert_int_equal(d.gpus[1].guest_vendor_id, 0x1002);
	assert_int_equal(d.gpus[2].mode, VM_GPU_AUTO);
	assert_true(d.gpus[2].vendor_id == 0x10de && d.gpus[2].device_id == 0x1eb8);
	assert_true(d.gpus[2].min_framebuffer == UINT64_C(2) << 30);
	assert_int_equal(d.gpus[2].max_instances, 8);
	assert_int_equal(strv_length(d.cdroms), 1);
	assert_string_equal(d.cdroms[0], "/srv/iso/Win11_24H2.iso");
	assert_int_equal(d.boot, VM_BOOT_DISK);
	assert_string_equal(vm_network_mode_to_string(d.network), "bridge");
	assert_string_equal(d.bridge, "br0");
	assert_string_equal(d.nic_model, "e1000e");
	assert_string_equal(d.mac, "52:54:00:ab:cd:ef");
	assert_int_equal(d.numa, 1);
	assert_string_equal(vm_hugepages_to_string(d.hugepages), "1G");
	assert_string_equal(vm_audio_to_string(d.audio), "pipewire");
	assert_int_equal(d.n_usb, 2);
	assert_int_equal(d.usb[0].vendor_id, 0x046d);
	assert_int_equal(d.usb[1].product_id, 0x0084);
	assert_true(d.hyperv && d.hide_hypervisor && d.autostart);
	assert_string_equal(d.owner, "alice");
	assert_true(d.looking_glass == UINT64_C(128) << 20);
	/* Each item one argument, exactly as written: nothing is split or interpreted. */
	assert_int_equal(strv_length(d.qemu_args), 4);
	assert_string_equal(d.qemu_args[3], "x=a b;c");
	vm_definition_done(&d);
}

static void test_minimal_has_defaults(void **state)
{
	VmDefinition d;
	char *error = NULL;

	assert_int_equal(load("name: tiny\nmemory: 512M\ncpus: 2\n", &d, &error), 0);
	assert_string_equal(d.uuid, "");
	assert_int_equal(vm_definition_cpus(&d), 2);
	assert_int_equal(d.sockets, 1);
	assert_string_equal(vm_firmware_to_string(d.firmware), "uefi");
	assert_false(d.secure_boot);
	assert_int_equal(d.n_disks, 0);
	assert_false(d.tpm);
	assert_null(d.cdroms);
	assert_int_equal(d.boot, VM_BOOT_DISK);
	assert_int_equal(d.network, VM_NETWORK_USER);
	assert_string_equal(d.nic_model, "virtio-net-pci");
	assert_null(d.mac);
	assert_int_equal(d.numa, VM_NUMA_AUTO);
	assert_int_equal(d.hugepages, VM_HUGEPAGES_OFF);
	assert_int_equal(d.audio, VM_AUDIO_NONE);
	assert_int_equal(d.n_usb, 0);
	assert_false(d.hyperv || d.hide_hypervisor || d.autostart);
	assert_null(d.owner);
	assert_null(d.qemu_args);
	assert_true(d.pin_cpus);
	assert_null(d.pinned);
	assert_true(d.looking_glass == 0);
	vm_definition_done(&d);

	assert_int_equal(load("name: p\nmemory: 1G\ncpus: 2\ncpu-pinning: [4, 5]\n", &d, &error),
			 0);
	assert_int_equal(d.n_pinned, 2);
	assert_int_equal(d.pinned[1], 5);
	vm_definition_done(&d);
	assert_int_equal(
		load("name: p\nmemory: 1G\ncpu-pinning: off\nlooking-glass: off\n", &d, &error), 0);
	assert_false(d.pin_cpus);
	assert_true(d.looking_glass == 0);
	vm_definition_done(&d);
	assert_int_equal(load("name: p\nmemory: 1G\nlooking-glass: false\n", &d, &error), 0);
	assert_true(d.looking_glass == 0);
	vm_definition_done(&d);
	assert_int_equal(load("name: p\nmemory: 1G\nlooking-glass: 2560x1440\n", &d, &error), 0);
	assert_true(d.looking_glass == UINT64_C(64) << 20);
	vm_definition_done(&d);
}

/* A GPU named by an mdev parent outside PCI: its device name, where an address goes. */
static void test_gpu_on_a_parent_outside_pci(void **state)
{
	VmDefinition d;
	char *error = NULL;

	assert_int_equal(load("name: m\nmemory: 1G\ngpu: [{mode: mdev, address: mbochs, type: "
			      "mbochs-small}]\n",
			      &d, &error),
			 0);
	assert_int_equal(d.n_gpus, 1);
	assert_false(d.gpus[0].has_address);
	assert_string_equal(d.gpus[0].parent, "mbochs");
	assert_string_equal(d.gpus[0].type, "mbochs-small");
	vm_definition_done(&d);
}

/* An xe VF's share of GPU time: each attribute given, 0 included; the others unset. */
static void test_gpu_profile(void **state)
{
	VmDefinition d;
	char *error = NULL;

	assert_int_equal(load("name: x\nmemory: 1G\ngpu: [{mode: sriov, profile: "
			      "{exec-quantum-ms: 0, preempt-timeout-us: 4294967295}}, "
			      "{mode: auto, profile: {exec-quantum-ms: 20}}]\n",
			      &d, &error),
			 0);
	assert_int_equal(d.n_gpus, 2);
	assert_true(d.gpus[0].has_exec_quantum && d.gpus[0].has_preempt_timeout);
	assert_int_equal(d.gpus[0].exec_quantum_ms, 0);
	assert_int_equal(d.gpus[0].preempt_timeout_us, UINT32_MAX);
	assert_true(d.gpus[1].has_exec_quantum && !d.gpus[1].has_preempt_timeout);
	assert_int_equal(d.gpus[1].exec_quantum_ms, 20);
	assert_false(d.gpus[0].has_vram_quota || d.gpus[1].has_vram_quota);
	vm_definition_done(&d);

	/* A discrete GPU's VF: its VRAM, a size as memory is. */
	assert_int_equal(load("name: x\nmemory: 1G\ngpu: [{mode: sriov, profile: "
			      "{vram-quota: 4G, exec-quantum-ms: 10}}]\n",
			      &d, &error),
			 0);
	assert_true(d.gpus[0].has_vram_quota && d.gpus[0].has_exec_quantum);
	assert_false(d.gpus[0].has_preempt_timeout);
	assert_true(d.gpus[0].vram_quota == (UINT64_C(4) << 30));
	vm_definition_done(&d);
}

static void test_mistakes(void **state)
{
	static const struct {
		const char *text;
		const char *error; /* the whole message, or its start when it ends in "..." */
	} cases[] = {
		{ "name: a\nmemory: 1G\nfoo: 1\n",
		  "vm.yaml:3:1: foo: unknown key in the definition" },
		{ "name: a\nmemory: 1G\nname: b\n", "vm.yaml:3:1: name: given twice" },
		{ "name: -bad\nmemory: 1G\n", "vm.yaml:1:7: name: '-bad' is not a VM name..." },
		{ "name: [a]\nmemory: 1G\n", "vm.yaml:1:7: name: needs a single value" },
		{ "name: a\nmemory: lots\n",
		  "vm.yaml:2:9: memory: 'lots' is not a size (like 8G or 16384M)" },
		{ "name: a\nmemory: 8M\n",
		  "vm.yaml:2:9: memory: '8M' must be whole MiB from 16M to 16T" },
		{ "name: a\nmemory: 1000000K\n",
		  "vm.yaml:2:9: memory: '1000000K' must be whole..." },
		{ "name: a\nmemory: 1G\ncpus: 0\n",
		  "vm.yaml:3:7: cpus: '0' is not a whole number from 1 to 1024" },
		{ "name: a\nmemory: 1G\ncpus: -2\n", "vm.yaml:3:7: cpus: '-2' is not a whole..." },
		{ "name: a\nmemory: 1G\ncpus: {sockets: 64, cores: 64}\n",
		  "vm.yaml:3:7: cpus: sockets × cores × threads is over 1024" },
		{ "name: a\nmemory: 1G\ncpus: {sockets: 2, dies: 2}\n",
		  "vm.yaml:3:20: dies: unknown key in cpus" },
		{ "name: a\nmemory: 1G\nfirmware: coreboot\n",
		  "vm.yaml:3:11: firmware: 'coreboot' is not one of: uefi, bios" },
		{ "name: a\nmemory: 1G\nfirmware: bios\nsecure-boot: true\n",
		  "vm.yaml:4:14: secure-boot: needs 'firmware: uefi'" },
		{ "name: a\nmemory: 1G\nsecure-boot: yes\n",
		  "vm.yaml:3:14: secure-boot: 'yes' is not one of: false, true" },
		{ "name: a\nmemory: 1G\nuuid: 123\n", "vm.yaml:3:7: uuid: '123' is not a UUID..." },
		{ "name: a\nmemory: 1G\ndisks: /x.img\n",
		  "vm.yaml:3:8: disks: expected a list of disks" },
		{ "name: a\nmemory: 1G\ndisks:\n  - path: win.img\n",
		  "vm.yaml:4:11: path: 'win.img' is not an absolute path" },
		{ "name: a\nmemory: 1G\ndisks:\n  - format: raw\n",
		  "vm.yaml:4:5: disks entry: needs a path" },
		{ "name: a\nmemory: 1G\ndisks:\n  - {path: /a, bus: ide}\n",
		  "vm.yaml:4:21: bus: 'ide' is not one of: virtio, sata, nvme" },
		{ "name: a\nmemory: 1G\ndisks:\n  - {path: /a, cache: fast}\n",
		  "vm.yaml:4:23: cache: 'fast' is not one of: none, writeback, ..." },
		{ "name: a\nmemory: 1G\ndisks:\n  - /a\n",
		  "vm.yaml:4:5: disks entry: expected a mapping of key: value" },
#define A "name: a\nmemory: 1G\n"
		{ A "tpm: 1\n", "vm.yaml:3:6: tpm: '1' is not one of: false, true" },
		{ A "cdrom: win.iso\n", "vm.yaml:3:8: cdrom: 'win.iso' is not an absolute path" },
		{ A "cdrom: [/a.iso, drivers.iso]\n",
		  "vm.yaml:3:17: cdrom: 'drivers.iso' is not an absolute path" },
		{ A "cdrom: []\n", "vm.yaml:3:8: cdrom: a list of 1 to 6 ISO paths" },
		{ A "cdrom: [/1, /2, /3, /4, /5, /6, /7]\n",
		  "vm.yaml:3:8: cdrom: a list of 1 to 6 ISO paths" },
		{ A "cdrom: [/a.iso, /b.iso, /a.iso]\n",
		  "vm.yaml:3:25: cdrom: '/a.iso' is listed twice" },
		{ A "cdrom: [[/a.iso]]\n", "vm.yaml:3:9: cdrom: needs a single value" },
		{ A "cdrom: {path: /a.iso}\n", "vm.yaml:3:8: cdrom: needs a single value" },
		{ A "cdrom: [/1, /2]\ndisks:\n  - {path: /d1, bus: sata}\n"
		    "  - {path: /d2, bus: sata}\n  - {path: /d3, bus: sata}\n"
		    "  - {path: /d4, bus: sata}\n  - {path: /d5, bus: sata}\n",
		  "vm.yaml:3:8: cdrom: 7 CD-ROMs and SATA disks, and the AHCI controller has 6 "
		  "ports: use bus virtio or nvme for the disks" },
		{ A "boot: network\n", "vm.yaml:3:7: boot: 'network' is not one of: disk, cdrom" },
		{ A "boot: cdrom\n",
		  "vm.yaml:3:7: boot: cdrom needs a CD-ROM ('cdrom: /path/to/installer.iso')" },
		{ A "network: wifi\n",
		  "vm.yaml:3:10: network: 'wifi' is not one of: user, bridge, none" },
		{ A "network: bridge\n", "vm.yaml:3:10: network: a bridge needs its name..." },
		{ A "network: {mode: bridge}\n",
		  "vm.yaml:3:10: network: mode bridge needs 'bridge: NAME' (an existing bridge)" },
		{ A "network: {mode: user, bridge: br0}\n",
		  "vm.yaml:3:31: bridge: only with 'mode: bridge'" },
		{ A "network: {mode: bridge, bridge: ../../x}\n",
		  "vm.yaml:3:33: bridge: '../../x' is not a network interface name" },
		{ A "network: {mode: bridge, bridge: a-very-long-bridge-name}\n",
		  "vm.yaml:3:33: bridge: 'a-very-long-bridge-name' is not a network interface "
		  "name" },
		{ A "network: {model: ne2k}\n", "vm.yaml:3:18: model: 'ne2k' is not one of: ..." },
		{ A "network: {mac: '01:00:5e:00:00:01'}\n",
		  "vm.yaml:3:16: mac: '01:00:5e:00:00:01' is not a unicast MAC address..." },
		{ A "network: {mac: '52:54:00:12:34'}\n",
		  "vm.yaml:3:16: mac: '52:54:00:12:34' is..." },
		{ A "network: {mac: ' 2:54:00:12:34:56'}\n",
		  "vm.yaml:3:16: mac: ' 2:54:00:12:34:56'..." },
		{ A "network: {mac: '+2:+4:00:12:34:56'}\n",
		  "vm.yaml:3:16: mac: '+2:+4:00:12:34:56'..." },
		{ A "network: {mac: '52-54-00-12-34-56'}\n",
		  "vm.yaml:3:16: mac: '52-54-00-12-34-56'..." },
		{ A "network: {speed: 10G}\n", "vm.yaml:3:11: speed: unknown key in network" },
		{ A "numa: 1024\n",
		  "vm.yaml:3:7: numa: '1024' is not auto, off or a node number (0 to 1023)" },
		{ A "numa: -1\n", "vm.yaml:3:7: numa: '-1' is not auto, off or a node number..." },
		{ A "hugepages: 4K\n", "vm.yaml:3:12: hugepages: '4K' is not one of: off, 2M, 1G" },
		{ A "audio: alsa\n",
		  "vm.yaml:3:8: audio: 'alsa' is not one of: none, pipewire, ..." },
		{ A "usb: 046d:c52b\n", "vm.yaml:3:6: usb: expected a list of VENDOR:PRODUCT..." },
		{ A "usb: [46d:c52b]\n", "vm.yaml:3:7: usb: '46d:c52b' is not VENDOR:PRODUCT..." },
		{ A "usb: [046d:c52g]\n",
		  "vm.yaml:3:7: usb: '046d:c52g' is not VENDOR:PRODUCT..." },
		{ A "usb: [ab]\n", "vm.yaml:3:7: usb: 'ab' is not VENDOR:PRODUCT..." },
		{ A "usb: [' 46d:c52b']\n",
		  "vm.yaml:3:7: usb: ' 46d:c52b' is not VENDOR:PRODUCT..." },
		{ A "usb: [[046d:c52b]]\n", "vm.yaml:3:7: usb: needs a single value" },
		{ A "windows: true\n", "vm.yaml:3:10: windows: expected a mapping of key: value" },
		{ A "windows: {hyperv: on}\n", "vm.yaml:3:19: hyperv: 'on' is not one of: ..." },
		{ A "windows: {cloak: true}\n", "vm.yaml:3:11: cloak: unknown key in windows" },
		{ A "autostart: maybe\n", "vm.yaml:3:12: autostart: 'maybe' is not one of: ..." },
		{ A "owner: Robert'); DROP\n",
		  "vm.yaml:3:8: owner: 'Robert'); DROP' is not a user name" },
		{ A "owner: root:root\n", "vm.yaml:3:8: owner: 'root:root' is not a user name" },
		{ A "qemu-args: -device usb-tablet\n", "vm.yaml:3:12: qemu-args: expected a list "
						       "of arguments, one item each (never a shell "
						       "line)" },
		{ A "qemu-args: [-m, {a: b}]\n", "vm.yaml:3:17: qemu-args: needs a single value" },
		{ A "qemu-args: ['']\n", "vm.yaml:3:13: qemu-args: needs a single value" },
		{ A "gpu: auto\n", "vm.yaml:3:6: gpu: expected a list of GPUs (- mode: auto)" },
		{ A "gpu: [{mode: vfio}]\n", "vm.yaml:3:14: mode: 'vfio' is not one of: auto, "
					     "mdev, sriov, passthrough, none" },
		{ A "gpu: [{address: 'zz:00.0'}]\n",
		  "vm.yaml:3:17: address: 'zz:00.0' is neither a PCI address..." },
		{ A "gpu: [{vendor: matrox}]\n",
		  "vm.yaml:3:16: vendor: 'matrox' is not intel, ..." },
		{ A "gpu: [{address: '01:00.0', vendor: amd}]\n",
		  "vm.yaml:3:36: vendor: give the GPU's address or its vendor, not both" },
		{ A "gpu: [{mode: passthrough, type: GVTg_V5_4}]\n",
		  "vm.yaml:3:33: type: only for mode mdev or sriov (or auto): a whole GPU has no "
		  "type" },
		{ A "gpu: [{mode: passthrough, display: true}]\n",
		  "vm.yaml:3:36: display: only for mode mdev (or auto)" },
		{ A "gpu: [{mode: none, vendor: amd}]\n",
		  "vm.yaml:3:7: gpu entry: mode none takes no other keys" },
		{ A "gpu: [{min-framebuffer: 0}]\n",
		  "vm.yaml:3:25: min-framebuffer: '0' is not a size (like 2G or 512M)" },
		{ A "gpu: [{max-instances: 0}]\n",
		  "vm.yaml:3:23: max-instances: '0' is not a whole..." },
		{ A "gpu: [{rom: vbios.rom}]\n",
		  "vm.yaml:3:13: rom: 'vbios.rom' is not an absolute path" },
		{ A "gpu: [{guest-ids: {vendor: ffff}}]\n",
		  "vm.yaml:3:28: vendor: 'ffff' is not a PCI id (four hex digits, like 10de)" },
		{ A "gpu: [{guest-ids: {class: 0300}}]\n",
		  "vm.yaml:3:20: class: unknown key in guest-ids" },
		{ A "gpu: [{mode: mdev, profile: {exec-quantum-ms: 10}}]\n",
		  "vm.yaml:3:29: profile: only for mode sriov (or auto): a VF's share" },
		{ A "gpu: [{mode: sriov, profile: {exec-quantum-ms: -1}}]\n",
		  "vm.yaml:3:48: exec-quantum-ms: '-1' is not a whole number from 0 to "
		  "4294967295" },
		{ A "gpu: [{mode: sriov, profile: {preempt-timeout-us: 4294967296}}]\n",
		  "vm.yaml:3:51: preempt-timeout-us: '4294967296' is not a whole number..." },
		{ A "gpu: [{mode: sriov, profile: {vram-quota: 0}}]\n",
		  "vm.yaml:3:43: vram-quota: 0 leaves the VF without VRAM (the kernel's "
		  "\"unprovisioned\"); give it a size, like 4G" },
		{ A "gpu: [{mode: sriov, profile: {vram-quota: lots}}]\n",
		  "vm.yaml:3:43: vram-quota: 'lots' is not a size (like 4G or 512M)" },
		{ A "gpu: [{mode: sriov, profile: {vram-quota: 2T}}]\n",
		  "vm.yaml:3:43: vram-quota: '2T' is not a size (like 4G or 512M)" },
		{ A "gpu: [{mode: sriov, profile: {priority: high}}]\n",
		  "vm.yaml:3:31: priority: unknown key in profile" },
		{ "name: a\nmemory: 1536M\nhugepages: 1G\n",
		  "vm.yaml:3:12: hugepages: 1G pages need memory in whole GiB (like 'memory: 8G'); "
		  "this VM has 1536M" },
		{ "name: a\nmemory: 1025M\nhugepages: 2M\n",
		  "vm.yaml:3:12: hugepages: 2M pages need memory in whole 2 MiB steps (like "
		  "'memory: 8G'); this VM has 1025M" },
		{ A "gpu: [{}, {}, {}, {}, {}]\n", "vm.yaml:3:6: gpu: at most 4 GPUs" },
		{ A "gpu: [{vendor: amd, vendor: intel}]\n", "vm.yaml:3:21: vendor: given twice" },
		{ A "cpu-pinning: yes\n",
		  "vm.yaml:3:14: cpu-pinning: expected auto, off, or a list of host CPUs, one per "
		  "vCPU" },
		{ A "cpu-pinning: [0, 1]\n",
		  "vm.yaml:3:14: cpu-pinning: lists 2 host CPUs for 1 vCPUs; give one per vCPU" },
		{ A "cpus: 2\ncpu-pinning: [3, 3]\n",
		  "vm.yaml:4:18: cpu-pinning: CPU 3 is listed twice" },
		{ A "cpu-pinning: [x]\n",
		  "vm.yaml:3:15: cpu-pinning: 'x' is not a host CPU number" },
		{ A "cpu-pinning: []\n",
		  "vm.yaml:3:14: cpu-pinning: a list of 1 to 1024 host CPUs" },
		{ A "looking-glass: 100M\n",
		  "vm.yaml:3:16: looking-glass: '100M' is not on, off, a resolution (2560x1440) "
		  "or a power-of-two size from 2M to 1G" },
		{ A "looking-glass: 2G\n",
		  "vm.yaml:3:16: looking-glass: '2G' is not on, off, a..." },
		{ A "looking-glass: yes\n",
		  "vm.yaml:3:16: looking-glass: 'yes' is not on, off, a..." },
		{ A "looking-glass: 1920x\n",
		  "vm.yaml:3:16: looking-glass: '1920x' is not on, off..." },
		{ A "looking-glass: x1080\n",
		  "vm.yaml:3:16: looking-glass: 'x1080' is not on, off..." },
		{ A "looking-glass: 1920x1080x2\n",
		  "vm.yaml:3:16: looking-glass: '1920x1080x2' is not on, off..." },
		{ A "looking-glass: -1920x1080\n",
		  "vm.yaml:3:16: looking-glass: '-1920x1080' is not on, off..." },
		{ A "looking-glass: 99999999999x1\n",
		  "vm.yaml:3:16: looking-glass: '99999999999x1' is not on, off..." },
		{ A "looking-glass: 320x240\n",
		  "vm.yaml:3:16: looking-glass: '320x240': each side must be 480 to 7680 pixels, "
		  "at "
		  "most 7680x4320 in all; give the guest's largest resolution" },
		{ A "looking-glass: 7680x7680\n",
		  "vm.yaml:3:16: looking-glass: '7680x7680': each side must be 480 to 7680..." },
		{ A "looking-glass: 8192x1080\n",
		  "vm.yaml:3:16: looking-glass: '8192x1080': each side must be 480 to 7680..." },
#undef A
		{ "memory: 1G\n", "vm.yaml:1:1: name: missing: every VM needs a name" },
		{ "name: a\n", "vm.yaml:1:1: memory: missing: say how much, like 'memory: 8G'" },
		{ "- a\n", "vm.yaml:1:1: the definition: expected a mapping of key: value" },
		{ "name: [a\n", "vm.yaml:2: ..." },
		{ "", "vm.yaml: empty: a VM needs at least a name and memory" },
	};

	for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
		VmDefinition d = { 0 };
		char *error = NULL;
		const char *expected = cases[i].error;
		size_t n = strlen(expected);

		if (load(cases[i].text, &d, &error) != -EINVAL || !error)
			fail_msg("case %zu was accepted", i);
		if (n > 3 && strcmp(expected + n - 3, "...") == 0
			    ? strncmp(error, expected, n - 3) != 0
			    : strcmp(error, expected) != 0)
			fail_msg("case %zu:\n  got      %s\n  expected %s", i, error, expected);
		assert_null(d.name); /* nothing is half-filled */
		free(error);
	}
}

/* A hostile file cannot make the error long, or put escape sequences on a terminal. */
static void test_errors_are_short_and_printable(void **state)
{
	char text[8192] = "name: \"\\e[31mred\\ttab\"\nmemory: 1G\n";
	VmDefinition d;
	char *error = NULL;

	assert_int_equal(load(text, &d, &error), -EINVAL);
	assert_string_equal(error, "vm.yaml:1:7: name: '?[31mred?tab' is not a VM name: up to 64 "
				   "letters, digits, '_', '.' and '-', starting with a letter or "
				   "digit");
	free(error);

	strcpy(text, "name: ");
	memset(text + 6, 'x', 5000);
	strcpy(text + 5006, "\nmemory: 1G\n");
	assert_int_equal(load(text, &d, &error), -EINVAL);
	assert_int_equal(strlen(error), 400);
	assert_string_equal(error + 397, "...");
	free(error);
}

static void test_too_many_disks(void **state)
{
	char text[4096] = "name: a\nmemory: 1G\ndisks:\n";
	VmDefinition d;
	char *error = NULL;

	for (int i = 0; i <= VM_MAX_DISKS; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "  - path: /d%d\n", i);
	assert_int_equal(load(text, &d, &error), -EINVAL);
	assert_string_equal(error, "vm.yaml:4:3: disks: at most 32 disks");
	free(error);
}

/* One ISO as a string, or several as a list, in order; boot: cdrom puts them first. */
static void test_cdroms_and_boot(void **state)
{
	VmDefinition d;
	char *error = NULL;

	assert_int_equal(load("name: a\nmemory: 1G\ncdrom: /iso/win11.iso\n", &d, &error), 0);
	assert_int_equal(strv_length(d.cdroms), 1);
	assert_string_equal(d.cdroms[0], "/iso/win11.iso");
	vm_definition_done(&d);

	assert_int_equal(load("name: a\nmemory: 1G\nboot: cdrom\n"
			      "cdrom:\n  - /iso/win11.iso\n  - /iso/virtio-win.iso\n",
			      &d, &error),
			 0);
	assert_int_equal(strv_length(d.cdroms), 2);
	assert_string_equal(d.cdroms[0], "/iso/win11.iso");
	assert_string_equal(d.cdroms[1], "/iso/virtio-win.iso");
	assert_int_equal(d.boot, VM_BOOT_CDROM);
	assert_string_equal(vm_boot_to_string(d.boot), "cdrom");
	vm_definition_done(&d);

	/* Six CD-ROMs fill the AHCI ports; a virtio disk beside them takes none. */
	assert_int_equal(load("name: a\nmemory: 1G\ncdrom: [/1, /2, /3, /4, /5, /6]\n"
			      "disks: [{path: /d}]\nboot: disk\n",
			      &d, &error),
			 0);
	assert_int_equal(strv_length(d.cdroms), 6);
	assert_int_equal(d.boot, VM_BOOT_DISK);
	vm_definition_done(&d);
}

static void test_files(void **state)
{
	char *dir = tmpdir_new();
	char *path = tmpdir_write_text(dir, "win.yaml", "name: win\nmemory: 4G\n");
	char *missing = tmpdir_path(dir, "missing.yaml");
	VmDefinition d;
	char *error = NULL;

	assert_int_equal(vm_definition_load_file(path, &d, &error), 0);
	assert_string_equal(d.name, "win");
	vm_definition_done(&d);
	assert_int_equal(vm_definition_load_file(missing, &d, &error), -ENOENT);
	assert_non_null(strstr(error, "cannot read: No such file or directory"));
	free(error);
	/* A directory is not a definition. */
	assert_int_equal(vm_definition_load_file(dir, &d, &error), -EINVAL);
	assert_non_null(strstr(error, "not a regular file"));
	free(error);
	free(path);
	free(missing);
	tmpdir_remove(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_minimal_has_defaults),
		cmocka_unit_test(test_gpu_on_a_parent_outside_pci),
		cmocka_unit_test(test_gpu_profile),
		cmocka_unit_test(test_mistakes),
		cmocka_unit_test(test_errors_are_short_and_printable),
		cmocka_unit_test(test_too_many_disks),
		cmocka_unit_test(test_cdroms_and_boot),
		cmocka_unit_test(test_files),
	};
	return cmocka_run_group_tests_name("vm-definition", tests, NULL, NULL);
}
