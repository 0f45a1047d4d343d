/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm_template.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "macro.h"

#define GIB (UINT64_C(1) << 30)

static const char *const vm_template_os_table[_VM_TEMPLATE_OS_MAX] = {
	[VM_TEMPLATE_WINDOWS11] = "windows11",
	[VM_TEMPLATE_WINDOWS10] = "windows10",
	[VM_TEMPLATE_LINUX] = "linux",
};

DEFINE_STRING_TABLE_LOOKUP(vm_template_os, VmTemplateOs)

VmTemplateDefaults vm_template_defaults(VmTemplateOs os)
{
	switch (os) {
	case VM_TEMPLATE_WINDOWS11: /* Microsoft's minimum is 4 GiB and 64 GB */
		return (VmTemplateDefaults){ 8 * GIB, 4, 64 * GIB };
	case VM_TEMPLATE_WINDOWS10: /* 32 GB is the minimum; updates need more */
		return (VmTemplateDefaults){ 4 * GIB, 4, 64 * GIB };
	default:
		return (VmTemplateDefaults){ 2 * GIB, 2, 20 * GIB };
	}
}

/* `text` as a double-quoted YAML scalar: '"' and '\' escaped, control characters as \xNN. */
static void put_quoted(FILE *f, const char *text)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\x%02x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void put_key(FILE *f, const char *key, const char *value)
{
	fprintf(f, "%s: ", key);
	put_quoted(f, value);
	fputc('\n', f);
}

int vm_template_text(const VmTemplate *t, char **ret)
{
	VmTemplateDefaults defaults = vm_template_defaults(t->os);
	bool windows = t->os != VM_TEMPLATE_LINUX;
	/* Without the drivers, Windows' installer sees neither a virtio disk nor a virtio NIC. */
	bool virtio = !windows || t->drivers_iso;
	_cleanup_free_ char *text = NULL;
	size_t size = 0;

	FILE *f = open_memstream(&text, &size);
	if (!f)
		return -ENOMEM;
	fprintf(f, "# Made by 'vfioctl create' for %s; 'vfioctl edit ",
		vm_template_os_to_string(t->os));
	/* The name is checked by the caller; quoted anyway, in a comment it cannot escape. */
	for (const char *p = t->name; *p; p++)
		fputc(*p == '\n' || *p == '\r' ? ' ' : *p, f);
	fprintf(f, "' changes it.\n");
	put_key(f, "name", t->name);
	fprintf(f, "memory: %" PRIu64 "M\n", (t->memory ? t->memory : defaults.memory) >> 20);
	fprintf(f, "cpus: %u\n", t->cpus ? t->cpus : defaults.cpus);
	fprintf(f, "firmware: uefi\n");
	if (windows)
		fprintf(f, "secure-boot: true\n");
	if (t->os == VM_TEMPLATE_WINDOWS11)
		fprintf(f, "tpm: true               # Windows 11 insists on TPM 2.0\n");
	fprintf(f, "disks:\n  - path: ");
	put_quoted(f, t->disk);
	fprintf(f, "\n    format: qcow2\n    bus: %s\n",
		virtio ? "virtio" : "sata         # Windows' installer has no virtio driver");
	/* The disk boots first: while it is empty, the firmware falls through to the installer. */
	if (t->drivers_iso) {
		fprintf(f, "cdrom: [");
		put_quoted(f, t->iso);
		fprintf(f, ", ");
		put_quoted(f, t->drivers_iso);
		fprintf(f, "]\n");
	} else
		put_key(f, "cdrom", t->iso);
	fprintf(f, "network: {mode: user, model: %s}\n", virtio ? "virtio-net-pci" : "e1000e");
	if (t->gpu) {
		fprintf(f, "gpu:\n  - mode: auto\n    address: ");
		put_quoted(f, t->gpu);
		fputc('\n', f);
	}
	if (windows)
		fprintf(f, "windows: {hyperv: true}\n");
	if (t->owner)
		put_key(f, "owner", t->owner);
	if (fclose(f) != 0)
		return -ENOMEM;
	*ret = TAKE_PTR(text);
	return 0;
}
