/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of daemon/host/pci_ids.c: names found in pci.ids text the way libpci
 * finds them (vendor lines, their device lines; subsystems, comments and the
 * class section skipped), a file without names, and the real pci.ids checked
 * against libpci itself when it is installed.
 */
#include <pci/pci.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "host/pci_ids.h"

static const char sample[] = "1000  First Vendor\n"
			     "\t0001  First Device\n"
			     "# A comment inside a vendor\n"
			     "\t\t1000 0002  A subsystem\n"
			     "\n"
			     "\t0002  Second Device\r\n"
			     "# 10de  not a vendor: a comment\n"
			     "10de  NVIDIA Corporation\n"
			     "\t1000  A device whose id is another vendor's\n"
			     "\t\t10de 2204  Subsystem 2204\n"
			     "\t2204  GA102 [GeForce RTX 3090]\n"
			     "8086  Intel Corporation\n"
			     "\t7000  82371SB PIIX3 ISA [Natoma/Triton II]\n"
			     "C 03  Display controller\n"
			     "\t00  VGA compatible controller\n"
			     "abcd  Last Vendor\n"
			     "\tef01  Last Device, no newline";

static PciIds *sample_ids(void)
{
	static PciIds ids;
	if (!ids.text) {
		char *text = strdup(sample);
		assert_non_null(text);
		assert_int_equal(pci_ids_from_text(text, sizeof(sample) - 1, &ids), 0);
		/* Vendors 1000, 10de, 8086, abcd; not the class line, the comment or devices. */
		assert_int_equal(ids.n_vendors, 4);
	}
	return &ids;
}

static void check(uint16_t vendor, int device, const char *expected)
{
	char *name = pci_ids_name(sample_ids(), vendor, device);
	if (!expected)
		assert_null(name);
	else
		assert_string_equal(name, expected);
	free(name);
}

static void test_names(void **state)
{
	check(0x1000, -1, "First Vendor"); /* at the very start */
	check(0x0001, -1, NULL);
	check(0x1000, 0x0001, "First Device");
	check(0x1000, 0x0002, "Second Device"); /* after a comment, a subsystem, a blank line */
	check(0x10de, -1, "NVIDIA Corporation");
	check(0x10de, 0x2204, "GA102 [GeForce RTX 3090]");
	check(0x10de, 0x1000, "A device whose id is another vendor's");
	check(0x8086, 0x7000, "82371SB PIIX3 ISA [Natoma/Triton II]");
	check(0xabcd, -1, "Last Vendor");
	check(0xabcd, 0xef01, "Last Device, no newline");
}

static void test_unknown(void **state)
{
	check(0x1234, -1, NULL);
	check(0x1000, 0x2204, NULL); /* 2204 is NVIDIA's, not this vendor's */
	check(0x8086, 0x0000, NULL); /* the class section ends Intel's devices */
	check(0x1000, 0x0003, NULL);
	/* A subsystem id is not a device. */
	check(0x10de, 0x10de, NULL);
	static const char *const texts[] = { "", "10de", "10de NVIDIA\n", "10DE  NVIDIA\n" };
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		PciIds ids;
		assert_int_equal(pci_ids_from_text(strdup(texts[i]), strlen(texts[i]), &ids), 0);
		char *name = pci_ids_name(&ids, 0x10de, -1);
		assert_null(name);
		pci_ids_done(&ids);
	}
}

static void quiet(char *format, ...)
{
}

__attribute__((noreturn)) static void fatal(char *format, ...)
{
	fail_msg("libpci failed");
	abort();
}

/*
 * The real file, when there is one: the same names as libpci's for IDs it
 * lists (libpci, without pci_init(), is not asked for one it lacks).
 */
static void test_real_file_agrees_with_libpci(void **state)
{
	static const struct {
		uint16_t vendor, device;
	} ids[] = { { 0x10de, 0x2204 },
		    { 0x8086, 0x7000 },
		    { 0x1002, 0x67df },
		    { 0x1af4, 0x1050 },
		    { 0x1a03, 0x2000 } };
	struct pci_access *access = pci_alloc();
	PciIds text;

	assert_non_null(access);
	access->method = PCI_ACCESS_DUMP;
	access->warning = quiet; /* pci_init() would set these; no bus is read here */
	access->debug = quiet;
	access->error = fatal;
	if (!access->id_file_name || pci_ids_read(access->id_file_name, &text) < 0) {
		pci_cleanup(access);
		skip();
	}
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++)
		for (int kind = 0; kind < 2; kind++) {
			char buf[256];
			int flags = (kind ? PCI_LOOKUP_DEVICE : PCI_LOOKUP_VENDOR) |
				    PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB;
			const char *theirs = pci_lookup_name(access, buf, sizeof(buf), flags,
							     ids[i].vendor, ids[i].device);
			char *ours = pci_ids_name(&text, ids[i].vendor, kind ? ids[i].device : -1);
			if (theirs) {
				if (!ours)
					fail_msg("%04x:%04x: no name, libpci says '%s'",
						 ids[i].vendor, ids[i].device, theirs);
				assert_string_equal(ours, theirs);
			} else
				assert_null(ours);
			free(ours);
		}
	pci_ids_done(&text);
	pci_cleanup(access);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_real_file_agrees_with_libpci),
	};
	return cmocka_run_group_tests_name("pci_ids", tests, NULL, NULL);
}
