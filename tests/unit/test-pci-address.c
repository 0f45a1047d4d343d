/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI addresses as sysfs and users write them: the long and the short form,
 * every way to get one wrong, the canonical text, the order and the slot.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "macro.h"
#include "pci_address.h"

#define ADDRESS(d, b, s, f) ((PciAddress){ (d), (b), (s), (f) })

typedef struct Good {
	const char *text;
	PciAddress address;
} Good;

static bool same_address(const PciAddress *a, const PciAddress *b)
{
	return a->domain == b->domain && a->bus == b->bus && a->device == b->device &&
	       a->function == b->function;
}

static void expect_parses(const Good *cases, size_t n_cases)
{
	for (size_t i = 0; i < n_cases; i++) {
		PciAddress address = ADDRESS(0xdead, 0xbe, 0xef, 0xaa);
		int r = pci_address_parse(cases[i].text, &address);

		if (r != 0 || !same_address(&address, &cases[i].address))
			fail_msg("'%s': got %d and %04x:%02x:%02x.%x, expected 0 and "
				 "%04x:%02x:%02x.%x",
				 cases[i].text, r, address.domain, address.bus, address.device,
				 address.function, cases[i].address.domain, cases[i].address.bus,
				 cases[i].address.device, cases[i].address.function);
	}
}

/* A refused text is -EINVAL and leaves *ret alone. */
static void expect_refused(const char *const *texts, size_t n_texts)
{
	for (size_t i = 0; i < n_texts; i++) {
		PciAddress address = ADDRESS(0xdead, 0xbe, 0xef, 0xaa);
		int r = pci_address_parse(texts[i], &address);

		if (r != -EINVAL || !same_address(&address, &ADDRESS(0xdead, 0xbe, 0xef, 0xaa)))
			fail_msg("'%s': got %d and %04x:%02x:%02x.%x, expected -EINVAL and "
				 "nothing stored",
				 texts[i], r, address.domain, address.bus, address.device,
				 address.function);
	}
}

static void test_parse_long(void **state)
{
	static const Good good[] = {
		{ "0000:00:00.0", { 0, 0, 0, 0 } },
		{ "0000:00:02.0", { 0, 0, 2, 0 } },
		{ "0000:01:00.1", { 0, 1, 0, 1 } },
		{ "0000:3b:1f.7", { 0, 0x3b, 31, 7 } },
		{ "10de:ff:00.3", { 0x10de, 0xff, 0, 3 } },
		{ "ffff:ff:1f.7", { 0xffff, 0xff, 31, 7 } },
		/* Upper case and mixed case are the same address. */
		{ "FFFF:FF:1F.7", { 0xffff, 0xff, 31, 7 } },
		{ "AbCd:eF:0A.6", { 0xabcd, 0xef, 10, 6 } },
		{ "0000:3B:00.0", { 0, 0x3b, 0, 0 } },
	};

	expect_parses(good, ELEMENTSOF(good));
}

static void test_parse_short(void **state)
{
	/* The short form, as lspci prints it, is domain 0. */
	static const Good good[] = {
		{ "00:02.0", { 0, 0, 2, 0 } },     { "01:00.1", { 0, 1, 0, 1 } },
		{ "3b:1f.7", { 0, 0x3b, 31, 7 } }, { "3B:1F.7", { 0, 0x3b, 31, 7 } },
		{ "ff:0a.0", { 0, 0xff, 10, 0 } },
	};

	expect_parses(good, ELEMENTSOF(good));
}

static void test_parse_wrong_lengths(void **state)
{
	static const char *const bad[] = {
		"",
		"0",
		"0:0.0",
		"0:02.0",
		"00:2.0",
		"00:02.",
		"00:02",
		"00:02.00",
		"000:02.0",
		"0:00:02.0",
		"00:00:02.0",
		"000:00:02.0",
		"00000:00:02.0",
		"0000:0:02.0",
		"0000:000:02.0",
		"0000:00:2.0",
		"0000:00:002.0",
		"0000:00:02.",
		"0000:00:02",
		"0000:00:02.00",
		"0000:0000:00:02.0",
		"000:0:02.0",
		"00:002.0",
	};

	expect_refused(bad, ELEMENTSOF(bad));
}

static void test_parse_wrong_separators(void **state)
{
	static const char *const bad[] = {
		/* The right lengths, with a separator missing or another in its place. */
		"0000000002.0", "00000:0002.0", "0000:0000200", "0000:00:0200", "0000-00:02.0",
		"0000:00-02.0", "0000:00:02:0", "0000.00:02.0", "0000:00.02.0", "0000.00.02.0",
		"0000_00:02.0", "00002.0",      "00:0200",      "00-02.0",      "00:02:0",
		"00.02.0",      "00.02:0",      "0000:00.02:0",
	};

	expect_refused(bad, ELEMENTSOF(bad));
}

static void test_parse_out_of_range(void **state)
{
	static const char *const bad[] = {
		/* A device is 5 bits (0-31), a function 3 bits (0-7). */
		"0000:00:20.0", "0000:00:21.0", "0000:00:ff.0", "0000:00:2F.0", "00:20.0",
		"00:80.0",      "0000:00:02.8", "0000:00:02.9", "0000:00:02.f", "0000:00:02.F",
		"00:02.8",      "00:1f.8",      "00:20.8",
	};

	expect_refused(bad, ELEMENTSOF(bad));
}

static void test_parse_not_hex(void **state)
{
	static const char *const bad[] = {
		/* Signs, which strtoul would take. */
		"+000:00:02.0",
		"-000:00:02.0",
		"0000:+0:02.0",
		"0000:-1:02.0",
		"0000:00:+2.0",
		"0000:00:-2.0",
		"0000:00:02.-",
		"+0:02.0",
		"-1:02.0",
		"00:-2.0",
		"00:02.+",
		/* Spaces, leading, inside and trailing. */
		" 0000:00:02.0",
		"0000:00:02.0 ",
		"0000: 0:02.0",
		"0000:00: 2.0",
		"0000:00:02. ",
		" 000:00:02.0",
		" 00:02.0",
		"00:02.0 ",
		" 0:02.0",
		"00: 2.0",
		"00:02. ",
		"\t00:02.0",
		"00:02.0\n",
		"0000:00:02.0\n",
		/* Trailing text. */
		"0000:00:02.0x",
		"0000:00:02.0.1",
		"00:02.0.1",
		"00:02.0x",
		"0000:00:02.0/",
		/* Letters that are not hex digits, and prefixes. */
		"000g:00:02.0",
		"0000:0g:02.0",
		"0000:00:0g.0",
		"0000:00:02.g",
		"0x00:00:02.0",
		"0000:0x:02.0",
		"zz:02.0",
		"0000:00:02.z",
	};

	expect_refused(bad, ELEMENTSOF(bad));
}

static void expect_format(PciAddress address, const char *expected)
{
	char buf[PCI_ADDRESS_TEXT_SIZE];

	memset(buf, 'x', sizeof(buf));
	assert_ptr_equal(pci_address_format(&address, buf), buf);
	assert_string_equal(buf, expected);
}

static void test_format(void **state)
{
	assert_int_equal(PCI_ADDRESS_TEXT_SIZE, strlen("0000:00:02.0") + 1);
	expect_format(ADDRESS(0, 0, 0, 0), "0000:00:00.0");
	expect_format(ADDRESS(0, 0, 2, 0), "0000:00:02.0");
	expect_format(ADDRESS(0, 1, 0, 1), "0000:01:00.1");
	expect_format(ADDRESS(0, 0x3b, 31, 7), "0000:3b:1f.7");
	expect_format(ADDRESS(0xabcd, 0xef, 10, 6), "abcd:ef:0a.6");
	expect_format(ADDRESS(0xffff, 0xff, 31, 7), "ffff:ff:1f.7");
}

/* Every device and function, on a few domains and buses, reads back as itself. */
static void test_format_round_trip(void **state)
{
	static const uint16_t domains[] = { 0, 1, 0x10de, 0xffff };
	static const uint8_t buses[] = { 0, 1, 0x3b, 0xa0, 0xff };

	for (size_t d = 0; d < ELEMENTSOF(domains); d++)
		for (size_t b = 0; b < ELEMENTSOF(buses); b++)
			for (unsigned s = 0; s <= 31; s++)
				for (unsigned f = 0; f <= 7; f++) {
					PciAddress address = ADDRESS(domains[d], buses[b], s, f);
					PciAddress back;
					char buf[PCI_ADDRESS_TEXT_SIZE];

					pci_address_format(&address, buf);
					assert_int_equal(pci_address_parse(buf, &back), 0);
					if (!same_address(&address, &back))
						fail_msg("'%s' did not read back as itself", buf);
				}

	/* Upper case and the short form come back canonical. */
	static const struct {
		const char *text, *canonical;
	} texts[] = {
		{ "ABCD:EF:1F.7", "abcd:ef:1f.7" },
		{ "00:02.0", "0000:00:02.0" },
		{ "3B:00.1", "0000:3b:00.1" },
	};
	for (size_t i = 0; i < ELEMENTSOF(texts); i++) {
		PciAddress address;
		char buf[PCI_ADDRESS_TEXT_SIZE];

		assert_int_equal(pci_address_parse(texts[i].text, &address), 0);
		assert_string_equal(pci_address_format(&address, buf), texts[i].canonical);
	}
}

static int sign(int x)
{
	return (x > 0) - (x < 0);
}

static int compare_for_qsort(const void *a, const void *b)
{
	return pci_address_compare(a, b);
}

static void test_compare(void **state)
{
	/* In order: domain first, then bus, device, function. */
	static const PciAddress ordered[] = {
		{ 0, 0, 0, 0 }, { 0, 0, 0, 1 },      { 0, 0, 0, 7 },          { 0, 0, 1, 0 },
		{ 0, 0, 2, 0 }, { 0, 0, 31, 7 },     { 0, 1, 0, 0 },          { 0, 0xff, 0, 0 },
		{ 1, 0, 0, 0 }, { 0x10de, 0, 0, 0 }, { 0xffff, 0xff, 31, 7 },
	};
	PciAddress shuffled[ELEMENTSOF(ordered)];

	for (size_t i = 0; i < ELEMENTSOF(ordered); i++)
		for (size_t k = 0; k < ELEMENTSOF(ordered); k++) {
			int expected = (i > k) - (i < k);
			int got = sign(pci_address_compare(&ordered[i], &ordered[k]));

			if (got != expected)
				fail_msg("compare(#%zu, #%zu) has sign %d, expected %d", i, k, got,
					 expected);
		}

	/* A higher field never loses to a lower one. */
	assert_true(pci_address_compare(&ADDRESS(0, 1, 0, 0), &ADDRESS(0, 0, 31, 7)) > 0);
	assert_true(pci_address_compare(&ADDRESS(1, 0, 0, 0), &ADDRESS(0, 0xff, 31, 7)) > 0);
	assert_true(pci_address_compare(&ADDRESS(0, 0, 1, 0), &ADDRESS(0, 0, 0, 7)) > 0);

	/* Sorting with it puts a shuffled list in order. */
	for (size_t i = 0; i < ELEMENTSOF(ordered); i++)
		shuffled[i] = ordered[(i * 7 + 3) % ELEMENTSOF(ordered)];
	qsort(shuffled, ELEMENTSOF(shuffled), sizeof(shuffled[0]), compare_for_qsort);
	for (size_t i = 0; i < ELEMENTSOF(ordered); i++)
		assert_true(same_address(&shuffled[i], &ordered[i]));
}

static void test_same_slot(void **state)
{
	PciAddress gpu = ADDRESS(0, 1, 0, 0);

	assert_true(pci_address_same_slot(&gpu, &gpu));
	assert_true(pci_address_same_slot(&gpu, &ADDRESS(0, 1, 0, 1)));
	assert_true(pci_address_same_slot(&ADDRESS(0, 1, 0, 7), &gpu));
	assert_false(pci_address_same_slot(&gpu, &ADDRESS(0, 1, 1, 0)));
	assert_false(pci_address_same_slot(&gpu, &ADDRESS(0, 2, 0, 0)));
	assert_false(pci_address_same_slot(&gpu, &ADDRESS(1, 1, 0, 0)));
	assert_false(pci_address_same_slot(&gpu, &ADDRESS(0, 0, 0, 0)));
}

static void test_ids_and_vendor_selectors(void **state)
{
	uint16_t id, vendor, device;

	assert_int_equal(pci_id_parse("10DE", &id), 0);
	assert_int_equal(id, 0x10de);
	static const char *const bad_ids[] = { "10d", "10de0", " 10d", "0x10", "+10d", "10dg", "" };
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(bad_ids[0]); i++)
		assert_int_equal(pci_id_parse(bad_ids[i], &id), -EINVAL);

	assert_int_equal(pci_vendor_selector_parse("NVIDIA", &vendor, &device), 0);
	assert_true(vendor == 0x10de && device == 0);
	assert_int_equal(pci_vendor_selector_parse("1002", &vendor, &device), 0);
	assert_true(vendor == 0x1002 && device == 0);
	assert_int_equal(pci_vendor_selector_parse("10de:1EB8", &vendor, &device), 0);
	assert_true(vendor == 0x10de && device == 0x1eb8);
	static const char *const bad[] = { "nvidia:1eb8", "10de:",       "10de-1eb8", "10de:1eb",
					   " 10de",       "10de:1eb8:0", "matrox",    "" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(pci_vendor_selector_parse(bad[i], &vendor, &device), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_long),
		cmocka_unit_test(test_parse_short),
		cmocka_unit_test(test_parse_wrong_lengths),
		cmocka_unit_test(test_parse_wrong_separators),
		cmocka_unit_test(test_parse_out_of_range),
		cmocka_unit_test(test_parse_not_hex),
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_format_round_trip),
		cmocka_unit_test(test_compare),
		cmocka_unit_test(test_same_slot),
		cmocka_unit_test(test_ids_and_vendor_selectors),
	};

	return cmocka_run_group_tests_name("pci_address", tests, NULL, NULL);
}
