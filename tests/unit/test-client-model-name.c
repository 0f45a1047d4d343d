/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl's short model names, made from pci.ids vendor and device names: the
 * vendor said once and without its legal form, the marketing name out of its
 * brackets, the IDs when there is no name, and never a byte past the buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "json_util.h"
#include "macro.h"
#include "model_name.h"

static void assert_vendor(const char *vendor, const char *expected)
{
	char buf[128];

	assert_ptr_equal(vendor_short_name(buf, sizeof(buf), vendor), buf);
	assert_string_equal(buf, expected);
}

static void assert_model(const char *vendor, const char *device, const char *vendor_id,
			 const char *device_id, const char *expected)
{
	char buf[256];

	assert_ptr_equal(model_name(buf, sizeof(buf), vendor, device, vendor_id, device_id), buf);
	assert_string_equal(buf, expected);
}

static void test_vendor_legal_forms(void **state)
{
	assert_vendor("Intel Corporation", "Intel");
	assert_vendor("NVIDIA Corporation", "NVIDIA");
	assert_vendor("ASPEED Technology, Inc.", "ASPEED Technology");
	assert_vendor("Matrox Electronics Systems Ltd.", "Matrox Electronics Systems");
	assert_vendor("Red Hat, Inc.", "Red Hat");
	/* Several forms in a row, with and without their dots, in any case. */
	assert_vendor("Huawei Technologies Co., Ltd.", "Huawei Technologies");
	assert_vendor("Moore Threads Technology Co.,Ltd", "Moore Threads Technology");
	assert_vendor("Example gmbh", "Example");
	/* A legal form inside the name stays: only the end is trimmed. */
	assert_vendor("Corp Systems", "Corp Systems");
	/* A word that merely starts like a legal form is a name. */
	assert_vendor("Acme Incorporeal", "Acme Incorporeal");
	/* Nothing to drop. */
	assert_vendor("Qualcomm", "Qualcomm");
}

static void test_vendor_keeps_one_word(void **state)
{
	assert_vendor("Corporation", "Corporation");
	assert_vendor("Inc. Corp", "Inc.");
}

static void test_vendor_brackets(void **state)
{
	/* pci.ids puts the name people use in brackets; before a slash when there are two. */
	assert_vendor("Advanced Micro Devices, Inc. [AMD/ATI]", "AMD");
	assert_vendor("Advanced Micro Devices, Inc. [AMD]", "AMD");
	assert_vendor("Silicon Integrated Systems [SiS]", "SiS");
	/* A parenthesised aside goes, then the legal form before it. */
	assert_vendor("XGI Technology Inc. (eXtreme Graphics Innovation)", "XGI Technology");
}

static void test_vendor_odd_brackets(void **state)
{
	/* Unbalanced or empty brackets are no short name: the name is kept as it is. */
	assert_vendor("Foo [Bar", "Foo [Bar");
	assert_vendor("Foo ]Bar[", "Foo ]Bar[");
	assert_vendor("Foo []", "Foo []");
	assert_vendor("[", "[");
	assert_vendor("]", "]");
	assert_vendor("(", "");
	assert_vendor("", "");
	/* Nested: cut at the first closing bracket, without reading past the name. */
	assert_vendor("Foo [Bar [Baz]]", "Bar [Baz");
}

static void test_vendor_bracket_without_short_name(void **state)
{
	char buf[128];

	/*
	 * Brackets that hold nothing before their slash give no short name: the vendor
	 * must not vanish (from the model name either); what stays of it starts with its
	 * first word.
	 */
	vendor_short_name(buf, sizeof(buf), "Foo Inc. [/ATI]");
	assert_true(strncmp(buf, "Foo", 3) == 0);
	model_name(buf, sizeof(buf), "Foo Inc. [/ATI]", "Bar [Baz 1]", NULL, NULL);
	assert_true(strncmp(buf, "Foo", 3) == 0);
	assert_true(strlen(buf) > strlen(" Baz 1"));
	assert_string_equal(buf + strlen(buf) - strlen(" Baz 1"), " Baz 1");
}

static void test_model_marketing_name(void **state)
{
	assert_model("Intel Corporation", "CoffeeLake-S GT2 [UHD Graphics 630]", "8086", "3e9b",
		     "Intel UHD Graphics 630");
	assert_model("NVIDIA Corporation", "TU104GL [Tesla T4]", "10de", "1eb8", "NVIDIA Tesla T4");
	assert_model("Advanced Micro Devices, Inc. [AMD/ATI]", "Tonga XT GL [FirePro S7150]",
		     "1002", "6929", "AMD FirePro S7150");
	assert_model("NVIDIA Corporation", "GA102 [GeForce RTX 3090]", NULL, NULL,
		     "NVIDIA GeForce RTX 3090");
	/* No brackets: all of the device name. */
	assert_model("Red Hat, Inc.", "Virtio GPU", "1af4", "1050", "Red Hat Virtio GPU");
	/* The last bracketed part when there are several. */
	assert_model("Advanced Micro Devices, Inc. [AMD/ATI]", "Stoney PCIe [GFX,GPP] Bridge [4:0]",
		     NULL, NULL, "AMD 4:0");
}

static void test_model_vendor_said_once(void **state)
{
	assert_model("ASPEED Technology, Inc.", "ASPEED Graphics Family", "1a03", "2000",
		     "ASPEED Graphics Family");
	assert_model("NVIDIA Corporation", "GA102GL [NVIDIA RTX A6000]", NULL, NULL,
		     "NVIDIA RTX A6000");
	/* Compared without case. */
	assert_model("nVidia Corporation", "NV44 [NVIDIA Quadro NVS 285]", NULL, NULL,
		     "NVIDIA Quadro NVS 285");
	/* A name that starts with the vendor's letters but another word still gets it. */
	assert_model("Intel Corporation", "Intelligent Graphics", NULL, NULL,
		     "Intel Intelligent Graphics");
	assert_model("ASPEED Technology, Inc.", "ASPEEDish", NULL, NULL,
		     "ASPEED Technology ASPEEDish");
}

static void test_model_vendor_alone(void **state)
{
	/* A marketing name that is just the vendor's name is said once too (pci.ids 1039:0180). */
	assert_model("Silicon Integrated Systems [SiS]", "RAID bus controller 180 SATA/PATA  [SiS]",
		     "1039", "0180", "SiS");
	assert_model("Intel Corporation", "[intel]", NULL, NULL, "intel");
	assert_model("NVIDIA Corporation", "NVIDIA", NULL, NULL, "NVIDIA");
}

static void test_model_without_names(void **state)
{
	assert_model(NULL, NULL, "8086", "3e9b", "8086:3e9b");
	assert_model("", "", "8086", "3e9b", "8086:3e9b");
	assert_model("Intel Corporation", NULL, "8086", "3e9b", "Intel 8086:3e9b");
	assert_model("Intel Corporation", "", "8086", "3e9b", "Intel 8086:3e9b");
	assert_model(NULL, NULL, NULL, "3e9b", "?:3e9b");
	assert_model(NULL, NULL, "8086", NULL, "8086:?");
	assert_model(NULL, NULL, NULL, NULL, "?:?");
	/* Without a vendor name the device name stands alone. */
	assert_model(NULL, "TU104GL [Tesla T4]", "10de", "1eb8", "Tesla T4");
	assert_model("", "Virtio GPU", NULL, NULL, "Virtio GPU");
}

static void test_model_odd_brackets(void **state)
{
	/* Unbalanced, empty or backwards brackets: all of the device name. */
	assert_model("NVIDIA Corporation", "GA102 [GeForce", NULL, NULL, "NVIDIA GA102 [GeForce");
	assert_model("NVIDIA Corporation", "GA102 ]GeForce[", NULL, NULL, "NVIDIA GA102 ]GeForce[");
	assert_model("NVIDIA Corporation", "GA102 []", NULL, NULL, "NVIDIA GA102 []");
	assert_model("NVIDIA Corporation", "[", NULL, NULL, "NVIDIA [");
	assert_model("NVIDIA Corporation", "]", NULL, NULL, "NVIDIA ]");
	assert_model("NVIDIA Corporation", "[GeForce] [", NULL, NULL, "NVIDIA [GeForce] [");
	/* Nested: the innermost last part. */
	assert_model("NVIDIA Corporation", "GA102 [GeForce [RTX] 3090]", NULL, NULL, "NVIDIA RTX");
}

/* Fills a buffer with a canary, lets model_name write `size` bytes of it, checks the rest. */
static void assert_model_fits(size_t size, const char *vendor, const char *device,
			      const char *expected)
{
	char buf[512];

	memset(buf, '#', sizeof(buf));
	model_name(buf, size, vendor, device, "10de", "1eb8");
	if (size > 0) {
		assert_string_equal(buf, expected);
		assert_true(strlen(buf) < size);
	}
	for (size_t i = size; i < sizeof(buf); i++)
		assert_int_equal(buf[i], '#');
}

static void test_model_small_buffer(void **state)
{
	assert_model_fits(8, "NVIDIA Corporation", "TU104GL [Tesla T4]", "NVIDIA ");
	assert_model_fits(10, "NVIDIA Corporation", "TU104GL [Tesla T4]", "NVIDIA Te");
	assert_model_fits(16, "NVIDIA Corporation", "TU104GL [Tesla T4]", "NVIDIA Tesla T4");
	assert_model_fits(15, "NVIDIA Corporation", "TU104GL [Tesla T4]", "NVIDIA Tesla T");
	assert_model_fits(1, "NVIDIA Corporation", "TU104GL [Tesla T4]", "");
	assert_model_fits(0, "NVIDIA Corporation", "TU104GL [Tesla T4]", NULL);
	assert_model_fits(6, "Intel Corporation", NULL, "Intel");
	assert_model_fits(4, NULL, NULL, "10d");

	char buf[8];
	memset(buf, '#', sizeof(buf));
	vendor_short_name(buf, 4, "NVIDIA Corporation");
	assert_string_equal(buf, "NVI");
	assert_int_equal(buf[4], '#');
}

static void test_model_long_names(void **state)
{
	char vendor[1000], device[1000], expected[300], buf[256];

	/* A vendor of one long word and a device name in long brackets. */
	memset(vendor, 'V', 600);
	strcpy(vendor + 600, " Corporation");
	memset(device, 'D', sizeof(device));
	memcpy(device, "GA102 [", 7);
	strcpy(device + 900, "]");

	memset(buf, '#', sizeof(buf));
	model_name(buf, sizeof(buf), vendor, device, "10de", "2204");
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	/* The vendor's short name is itself bounded, but what is kept of it is its start. */
	assert_int_equal(strspn(buf, "V"), strcspn(buf, " "));
	assert_true(strspn(buf, "V") >= 16);
	assert_int_equal(buf[strspn(buf, "V")], ' ');
	assert_int_equal(strspn(buf + strspn(buf, "V") + 1, "D"),
			 sizeof(buf) - 2 - strspn(buf, "V"));

	/* A short vendor and a long device name: all of the buffer is used. */
	snprintf(expected, sizeof(expected), "NVIDIA %.*s", (int)(sizeof(buf) - 8), device + 7);
	model_name(buf, sizeof(buf), "NVIDIA Corporation", device, NULL, NULL);
	assert_string_equal(buf, expected);

	/* A long vendor name and no device name. */
	model_name(buf, sizeof(buf), vendor, NULL, "10de", "2204");
	assert_int_equal(strlen(buf), strcspn(buf, " ") + strlen(" 10de:2204"));
	assert_string_equal(buf + strcspn(buf, " "), " 10de:2204");
}

static void test_function_model_name(void **state)
{
	char buf[128];
	_cleanup_json_ json_object *gpu = json_object_new_object();
	_cleanup_json_ json_object *partial = json_object_new_object();
	_cleanup_json_ json_object *wrong = json_object_new_object();

	assert_non_null(gpu);
	assert_non_null(partial);
	assert_non_null(wrong);
	assert_int_equal(json_add_string(gpu, "vendor", "Intel Corporation"), 0);
	assert_int_equal(json_add_string(gpu, "device", "CoffeeLake-S GT2 [UHD Graphics 630]"), 0);
	assert_int_equal(json_add_string(gpu, "vendorId", "8086"), 0);
	assert_int_equal(json_add_string(gpu, "deviceId", "3e9b"), 0);
	assert_ptr_equal(function_model_name(buf, sizeof(buf), gpu), buf);
	assert_string_equal(buf, "Intel UHD Graphics 630");

	assert_int_equal(json_add_string(partial, "vendorId", "8086"), 0);
	assert_int_equal(json_add_string(partial, "deviceId", "3e9b"), 0);
	assert_string_equal(function_model_name(buf, sizeof(buf), partial), "8086:3e9b");
	assert_int_equal(json_add_string(partial, "vendor", "Intel Corporation"), 0);
	assert_string_equal(function_model_name(buf, sizeof(buf), partial), "Intel 8086:3e9b");

	/* Names of another type, or null, count as missing. */
	assert_int_equal(json_add_int(wrong, "vendor", 8086), 0);
	assert_int_equal(json_add_string(wrong, "device", NULL), 0);
	assert_int_equal(json_add_string(wrong, "vendorId", "8086"), 0);
	assert_int_equal(json_add_bool(wrong, "deviceId", true), 0);
	assert_string_equal(function_model_name(buf, sizeof(buf), wrong), "8086:?");

	assert_string_equal(function_model_name(buf, sizeof(buf), NULL), "?:?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vendor_legal_forms),
		cmocka_unit_test(test_vendor_keeps_one_word),
		cmocka_unit_test(test_vendor_brackets),
		cmocka_unit_test(test_vendor_odd_brackets),
		cmocka_unit_test(test_vendor_bracket_without_short_name),
		cmocka_unit_test(test_model_marketing_name),
		cmocka_unit_test(test_model_vendor_said_once),
		cmocka_unit_test(test_model_vendor_alone),
		cmocka_unit_test(test_model_without_names),
		cmocka_unit_test(test_model_odd_brackets),
		cmocka_unit_test(test_model_small_buffer),
		cmocka_unit_test(test_model_long_names),
		cmocka_unit_test(test_function_model_name),
	};

	return cmocka_run_group_tests_name("client-model-name", tests, NULL, NULL);
}
