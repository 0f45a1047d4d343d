/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Choosing a partition, on host models built by hand: the exact address and
 * its refusals, vendor and device selectors, mdev types (by id, by name, by
 * constraint, and the default), SR-IOV VFs (enable, pick, skip the taken),
 * whole-GPU passthrough (IOMMU groups, boot display, held), the ranking of
 * GPUs (NUMA node, load, address), the reason reported when nothing fits, and
 * requests in a row that must never share a partition.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/gpu_modes.h"
#include "host/host.h"
#include "host_builder.h"
#include "macro.h"
#include "partitions/alloc.h"
#include "pci_address.h"

#define IGPU "0000:00:02.0"
#define ROOT_PORT "0000:00:01.0"
#define DGPU "0000:01:00.0"
#define DGPU_AUDIO "0000:01:00.1"
#define NIC "0000:02:00.0"
#define AMD_PF "0000:03:00.0"
#define AMD_VF0 "0000:03:02.0"
#define AMD_VF1 "0000:03:02.1"
#define AMD_VF2 "0000:03:02.2"
#define AMD_VF3 "0000:03:02.3"
#define AMD_PF2 "0000:04:00.0"
#define AMD_PF2_VF0 "0000:04:02.0"
#define AMD_PF2_VF1 "0000:04:02.1"
#define DGPU2 "0000:41:00.0"

#define DEVICE_T4 0x1eb8
#define DEVICE_A100 0x20b0
#define DEVICE_NVIDIA_AUDIO 0x10fa
#define DEVICE_UHD630 0x3e92
#define DEVICE_MI25 0x6860
#define DEVICE_FLEX_170 0x56c0

#define CLASS_NONE 0x000000

/* What alloc_choose() must not touch: an address no host has. */
static const PciAddress untouched = {
	.domain = 0xffff, .bus = 0xff, .device = 0x1f, .function = 7
};

static PciAddress address(const char *text)
{
	PciAddress a;

	if (pci_address_parse(text, &a) != 0)
		fail_msg("'%s' is no PCI address", text);
	return a;
}

static void expect_address(const char *what, const PciAddress *got, const char *expected)
{
	char text[PCI_ADDRESS_TEXT_SIZE];

	pci_address_format(got, text);
	if (strcmp(text, expected) != 0)
		fail_msg("%s is %s, expected %s", what, text, expected);
}

static const char *error_text(AllocError error)
{
	if (error == ALLOC_OK)
		return "OK";
	return alloc_error_to_string(error) ? alloc_error_to_string(error) : "(unnamed error)";
}

/* A request for `mode` with nothing else asked: no NUMA preference (0 would be node 0). */
static PartitionRequest request_for(PartitionModeKind mode)
{
	return (PartitionRequest){ .mode = mode, .preferred_node = -1 };
}

static PartitionRequest request_at(PartitionModeKind mode, const char *text)
{
	PartitionRequest request = request_for(mode);

	request.has_address = true;
	request.address = address(text);
	return request;
}

static HeldPartition held_partition(PartitionModeKind mode, const char *parent, const char *device)
{
	return (HeldPartition){ .mode = mode,
				.parent = address(parent),
				.device = address(device) };
}

/*
 * Expects the request to fail with `expected`, about the GPU at `expected_gpu`
 * (NULL: *ret_gpu stays as it was).
 */
static void expect_error(const HostModel *model, const HeldPartition *held, size_t n_held,
			 const PartitionRequest *request, AllocError expected,
			 const char *expected_gpu)
{
	AllocationChoice choice = { 0 };
	AllocSubject about = { .gpu = untouched };
	AllocError error = alloc_choose(model, held, n_held, request, &choice, &about);
	PciAddress gpu = about.gpu;

	if (error != expected) {
		char text[PCI_ADDRESS_TEXT_SIZE];
		fail_msg("got %s (GPU %s), expected %s", error_text(error),
			 pci_address_format(error == ALLOC_OK ? &choice.gpu : &gpu, text),
			 error_text(expected));
	}
	if (expected_gpu)
		expect_address("the GPU of the error", &gpu, expected_gpu);
	else if (pci_address_compare(&gpu, &untouched) != 0)
		expect_address("ret_gpu (to be left alone)", &gpu, "ffff:ff:1f.7");
}

/* Expects a choice on the GPU at `expected_gpu`, in the request's mode. */
static AllocationChoice expect_choice(const HostModel *model, const HeldPartition *held,
				      size_t n_held, const PartitionRequest *request,
				      const char *expected_gpu)
{
	AllocationChoice choice = { 0 };
	AllocSubject about = { .gpu = untouched };
	AllocError error = alloc_choose(model, held, n_held, request, &choice, &about);
	PciAddress gpu = about.gpu;

	if (error != ALLOC_OK) {
		char text[PCI_ADDRESS_TEXT_SIZE];
		fail_msg("got %s about %s, expected a choice on %s", error_text(error),
			 pci_address_format(&gpu, text), expected_gpu);
	}
	assert_int_equal(choice.mode, request->mode);
	expect_address("the chosen GPU", &choice.gpu, expected_gpu);
	return choice;
}

/* Expects the mdev type `type_id` of the GPU at `expected_gpu`, pointing into the model. */
static void expect_mdev(const HostModel *model, const HeldPartition *held, size_t n_held,
			const PartitionRequest *request, const char *expected_gpu,
			const char *type_id)
{
	AllocationChoice choice = expect_choice(model, held, n_held, request, expected_gpu);
	const PciFunction *gpu = model_function(model, expected_gpu);
	const MdevType *type = NULL;

	assert_non_null(choice.type);
	if (strcmp(choice.type->id, type_id) != 0)
		fail_msg("chose type %s, expected %s", choice.type->id, type_id);
	for (size_t i = 0; i < gpu->n_mdev_types; i++)
		if (strcmp(gpu->mdev_types[i].id, type_id) == 0)
			type = &gpu->mdev_types[i];
	assert_ptr_equal(choice.type, type);
	assert_int_equal(choice.enable_vfs, 0);
	assert_false(choice.vf_known);
}

/* Expects the VF at `expected_vf` of the PF at `expected_pf`, with nothing to enable. */
static void expect_vf(const HostModel *model, const HeldPartition *held, size_t n_held,
		      const PartitionRequest *request, const char *expected_pf,
		      const char *expected_vf)
{
	AllocationChoice choice = expect_choice(model, held, n_held, request, expected_pf);

	assert_true(choice.vf_known);
	expect_address("the chosen VF", &choice.vf, expected_vf);
	assert_int_equal(choice.enable_vfs, 0);
	assert_null(choice.type);
}

/* Expects the PF at `expected_pf` with `n` VFs to enable first, the VF not known yet. */
static void expect_enable(const HostModel *model, const PartitionRequest *request,
			  const char *expected_pf, unsigned n)
{
	AllocationChoice choice = expect_choice(model, NULL, 0, request, expected_pf);

	assert_int_equal(choice.enable_vfs, n);
	assert_false(choice.vf_known);
	assert_null(choice.type);
}

/* Expects the whole GPU at `expected_gpu`. */
static void expect_whole(const HostModel *model, const HeldPartition *held, size_t n_held,
			 const PartitionRequest *request, const char *expected_gpu)
{
	AllocationChoice choice = expect_choice(model, held, n_held, request, expected_gpu);

	assert_null(choice.type);
	assert_int_equal(choice.enable_vfs, 0);
	assert_false(choice.vf_known);
}

/* A GPU that is not the boot display. The pointer is good until the next function is added. */
static PciFunction *add_gpu(HostModel *model, const char *at, uint16_t vendor_id,
			    uint16_t device_id, const char *driver, int numa_node)
{
	PciFunction *gpu = model_add_function(model, at, vendor_id, CLASS_VGA, driver);

	gpu->device_id = device_id;
	gpu->numa_node = numa_node;
	gpu->boot_vga = 0;
	return gpu;
}

/* An NVIDIA T4 vGPU type "GRID T4-<gib>Q", described as the NVIDIA driver does. */
static MdevType *add_t4_type(PciFunction *gpu, const char *id, unsigned gib, int64_t available,
			     size_t existing)
{
	MdevType *type = function_add_mdev_type(gpu, id, available, existing);
	char name[32], description[160];

	snprintf(name, sizeof(name), "GRID T4-%uQ", gib);
	snprintf(description, sizeof(description),
		 "num_heads=4, frl_config=60, framebuffer=%uM, max_resolution=7680x4320, "
		 "max_instance=%u",
		 gib * 1024, 16 / gib);
	mdev_type_set_text(type, name, description);
	return type;
}

/* An AMD SR-IOV PF with `total` VFs of which `num` are enabled (add them after). */
static PciFunction *add_amd_pf(HostModel *model, const char *at, int total, int num)
{
	PciFunction *pf = add_gpu(model, at, VENDOR_AMD, DEVICE_MI25, "gim", -1);

	function_set_sriov(pf, total, num);
	return pf;
}

static void add_amd_vf(HostModel *model, const char *pf, const char *at, const char *driver)
{
	(void)model_add_vf(model, pf, at, VENDOR_AMD, CLASS_3D, driver);
}

/*
 * The codes' own names (for logs and these tests); the wire names are
 * api/errors.c's, tested in test-api-errors.
 */
static void test_error_codes_named(void **state)
{
	for (int e = ALLOC_OK; e < _ALLOC_ERROR_MAX; e++) {
		const char *name = alloc_error_to_string((AllocError)e);
		if (!name)
			fail_msg("error %d has no name", e);
		assert_int_equal(alloc_error_from_string(name), e);
	}
	assert_null(alloc_error_to_string(_ALLOC_ERROR_MAX));
	assert_null(alloc_error_to_string((AllocError)-1));
}

/*
 * An exact address
 */

static void test_address_no_such_device(void **state)
{
	HostModel *empty = model_new(), *model = model_new();
	PartitionRequest request = request_at(PARTITION_PASSTHROUGH, DGPU);
	AllocationChoice choice, before;
	AllocSubject gpu = { .gpu = untouched };

	model_finish(empty);
	expect_error(empty, NULL, 0, &request, ALLOC_NO_SUCH_GPU, NULL);

	add_gpu(model, IGPU, VENDOR_INTEL, DEVICE_UHD630, "i915", 0);
	model_add_group(model, 0, IGPU, NULL);
	model_finish(model);
	for (PartitionModeKind m = 0; m < _PARTITION_MODE_MAX; m++) {
		request.mode = m;
		expect_error(model, NULL, 0, &request, ALLOC_NO_SUCH_GPU, NULL);
	}

	/* The choice is left alone too. */
	memset(&choice, 0xa5, sizeof(choice));
	before = choice;
	assert_int_equal(alloc_choose(model, NULL, 0, &request, &choice, &gpu), ALLOC_NO_SUCH_GPU);
	assert_memory_equal(&choice, &before, sizeof(choice));
}

static void test_address_not_a_gpu(void **state)
{
	HostModel *model = model_new();

	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_add_function(model, DGPU_AUDIO, VENDOR_NVIDIA, CLASS_AUDIO, "snd_hda_intel")
		->device_id = DEVICE_NVIDIA_AUDIO;
	model_add_function(model, NIC, VENDOR_INTEL, CLASS_ETHERNET, "igb");
	model_add_function(model, ROOT_PORT, VENDOR_INTEL, CLASS_PCI_BRIDGE, "pcieport");
	model_add_group(model, 1, DGPU, DGPU_AUDIO, NULL);
	model_add_group(model, 2, NIC, NULL);
	model_finish(model);

	/* The GPU's own audio function, a NIC in a group of its own, a bridge: not GPUs. */
	for (PartitionModeKind m = 0; m < _PARTITION_MODE_MAX; m++) {
		PartitionRequest request = request_at(m, DGPU_AUDIO);
		expect_error(model, NULL, 0, &request, ALLOC_NOT_A_GPU, NULL);
		request = request_at(m, NIC);
		expect_error(model, NULL, 0, &request, ALLOC_NOT_A_GPU, NULL);
		request = request_at(m, ROOT_PORT);
		expect_error(model, NULL, 0, &request, ALLOC_NOT_A_GPU, NULL);
	}
}

/* A device whose IDs could not be read is no GPU, whatever the request. */
static void test_address_unreadable_device(void **state)
{
	HostModel *model = model_new();
	PciFunction *f = model_add_function(model, DGPU, 0, CLASS_NONE, NULL);
	PartitionRequest request = request_at(PARTITION_PASSTHROUGH, DGPU);

	f->readable = false;
	model_add_group(model, 1, DGPU, NULL);
	model_finish(model);

	expect_error(model, NULL, 0, &request, ALLOC_NOT_A_GPU, NULL);
}

/* The address is taken even when another GPU is on the preferred node and idle. */
static void test_address_beats_ranking(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu;

	gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_t4_type(gpu, "nvidia-223", 2, 8, 0);
	gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 1);
	add_t4_type(gpu, "nvidia-223", 2, 5, 3);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	request.preferred_node = 0;
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");
	request = request_at(PARTITION_MDEV, DGPU2);
	request.preferred_node = 0;
	expect_mdev(model, NULL, 0, &request, DGPU2, "nvidia-223");

	model = model_new();
	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 1);
	model_add_group(model, 1, DGPU, NULL);
	model_add_group(model, 41, DGPU2, NULL);
	model_finish(model);
	request = request_for(PARTITION_PASSTHROUGH);
	request.preferred_node = 0;
	expect_whole(model, NULL, 0, &request, DGPU);
	request = request_at(PARTITION_PASSTHROUGH, DGPU2);
	request.preferred_node = 0;
	expect_whole(model, NULL, 0, &request, DGPU2);
}

/* A refusal at an exact address names that GPU. */
static void test_address_refusal_names_gpu(void **state)
{
	HostModel *model = model_new();

	add_gpu(model, IGPU, VENDOR_INTEL, DEVICE_UHD630, "i915", 0);
	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_finish(model);

	PartitionRequest request = request_at(PARTITION_MDEV, DGPU);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU);
	request = request_at(PARTITION_SRIOV, IGPU);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, IGPU);
	request = request_at(PARTITION_PASSTHROUGH, DGPU);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU);
}

/*
 * Vendor and device selectors
 */

static HostModel *selector_host(void)
{
	HostModel *model = model_new();

	add_gpu(model, IGPU, VENDOR_INTEL, DEVICE_UHD630, "i915", 0);
	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_add_function(model, DGPU_AUDIO, VENDOR_NVIDIA, CLASS_AUDIO, "snd_hda_intel")
		->device_id = DEVICE_NVIDIA_AUDIO;
	model_add_function(model, NIC, VENDOR_NVIDIA, CLASS_ETHERNET, NULL)->device_id =
		DEVICE_A100;
	add_gpu(model, AMD_PF, VENDOR_AMD, DEVICE_MI25, "amdgpu", 0);
	add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_A100, "nvidia", 0);
	model_add_group(model, 0, IGPU, NULL);
	model_add_group(model, 1, DGPU, DGPU_AUDIO, NULL);
	model_add_group(model, 2, NIC, NULL);
	model_add_group(model, 3, AMD_PF, NULL);
	model_add_group(model, 41, DGPU2, NULL);
	model_finish(model);
	return model;
}

static void test_vendor_selector(void **state)
{
	HostModel *model = selector_host();
	PartitionRequest request = request_for(PARTITION_PASSTHROUGH);

	expect_whole(model, NULL, 0, &request, IGPU);
	request.vendor_id = VENDOR_NVIDIA;
	expect_whole(model, NULL, 0, &request, DGPU);
	request.vendor_id = VENDOR_AMD;
	expect_whole(model, NULL, 0, &request, AMD_PF);
	request.vendor_id = VENDOR_INTEL;
	expect_whole(model, NULL, 0, &request, IGPU);
}

static void test_vendor_device_selector(void **state)
{
	HostModel *model = selector_host();
	PartitionRequest request = request_for(PARTITION_PASSTHROUGH);

	request.vendor_id = VENDOR_NVIDIA;
	request.device_id = DEVICE_A100;
	expect_whole(model, NULL, 0, &request, DGPU2);
	request.device_id = DEVICE_T4;
	expect_whole(model, NULL, 0, &request, DGPU);
}

static void test_selector_no_match(void **state)
{
	HostModel *model = selector_host(), *empty = model_new();
	PartitionRequest request = request_for(PARTITION_PASSTHROUGH);

	model_finish(empty);
	expect_error(empty, NULL, 0, &request, ALLOC_NO_MATCHING_GPU, NULL);

	/* A vendor with no GPU here. */
	request.vendor_id = 0x1af4;
	expect_error(model, NULL, 0, &request, ALLOC_NO_MATCHING_GPU, NULL);
	/* Another vendor's device. */
	request.vendor_id = VENDOR_INTEL;
	request.device_id = DEVICE_A100;
	expect_error(model, NULL, 0, &request, ALLOC_NO_MATCHING_GPU, NULL);
	/* NVIDIA functions that are not GPUs: the audio function and the NIC. */
	request.vendor_id = VENDOR_NVIDIA;
	request.device_id = DEVICE_NVIDIA_AUDIO;
	expect_error(model, NULL, 0, &request, ALLOC_NO_MATCHING_GPU, NULL);
	for (PartitionModeKind m = 0; m < _PARTITION_MODE_MAX; m++) {
		request.mode = m;
		request.device_id = 0x1234;
		expect_error(model, NULL, 0, &request, ALLOC_NO_MATCHING_GPU, NULL);
	}
}

/* A selector only ever picks physical GPUs: a VF is had by its address. */
static void test_selector_skips_vfs(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[] = { held_partition(PARTITION_PASSTHROUGH, AMD_PF, AMD_PF) };

	add_amd_pf(model, AMD_PF, 2, 2);
	add_amd_vf(model, AMD_PF, AMD_VF0, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF1, NULL);
	model_add_group(model, 3, AMD_PF, NULL);
	model_add_group(model, 30, AMD_VF0, NULL);
	model_add_group(model, 31, AMD_VF1, NULL);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_PASSTHROUGH);
	request.vendor_id = VENDOR_AMD;
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, AMD_PF);
	request.vendor_id = 0;
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, AMD_PF);
}

/*
 * mdev
 */

/* A T4 with its 1, 2 and 4 GiB types free. */
static HostModel *t4_host(void)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);

	add_t4_type(gpu, "nvidia-222", 1, 16, 0);
	add_t4_type(gpu, "nvidia-223", 2, 8, 0);
	add_t4_type(gpu, "nvidia-224", 4, 4, 0);
	model_finish(model);
	return model;
}

static void test_mdev_type_by_id(void **state)
{
	HostModel *model = t4_host();
	PartitionRequest request = request_for(PARTITION_MDEV);

	request.type = "nvidia-222";
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-222");
	request.type = "nvidia-223";
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");
	request = request_at(PARTITION_MDEV, DGPU);
	request.type = "nvidia-222";
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-222");
}

static void test_mdev_type_by_name(void **state)
{
	HostModel *model = t4_host();
	PartitionRequest request = request_for(PARTITION_MDEV);

	request.type = "GRID T4-1Q";
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-222");
	request.type = "GRID T4-2Q";
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");
	/* Names and ids are matched exactly: no parent offers these. */
	request.type = "grid t4-2q";
	expect_error(model, NULL, 0, &request, ALLOC_NO_SUCH_TYPE, NULL);
	request.type = "GRID T4-2";
	expect_error(model, NULL, 0, &request, ALLOC_NO_SUCH_TYPE, NULL);
	request.type = "nvidia-22";
	expect_error(model, NULL, 0, &request, ALLOC_NO_SUCH_TYPE, NULL);
	/* On the GPU asked for, the type is unknown to that GPU. */
	request = request_at(PARTITION_MDEV, DGPU);
	request.type = "grid t4-2q";
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU);
}

static void test_mdev_unknown_type(void **state)
{
	HostModel *model = t4_host();
	PartitionRequest request = request_for(PARTITION_MDEV);

	request.type = "nvidia-999";
	expect_error(model, NULL, 0, &request, ALLOC_NO_SUCH_TYPE, NULL);
	request.type = "";
	expect_error(model, NULL, 0, &request, ALLOC_NO_SUCH_TYPE, NULL);
	request = request_at(PARTITION_MDEV, DGPU);
	request.type = "i915-GVTg_V5_4";
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU);
}

static void test_mdev_type_used_up(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);

	add_t4_type(gpu, "nvidia-222", 1, 16, 0);
	add_t4_type(gpu, "nvidia-223", 2, 0, 8);
	function_add_mdev_type(gpu, "nvidia-230", -1, 0); /* available_instances unreadable */
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	request.type = "nvidia-223";
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, DGPU);
	request.type = "nvidia-230";
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, DGPU);
	request = request_at(PARTITION_MDEV, DGPU);
	request.type = "GRID T4-2Q";
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, DGPU);
}

/* Across GPUs, "all taken" tells most, then "no such type", then "not offered". */
static void test_mdev_reason_across_gpus(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu;

	/* 00:02.0 offers no mdev, 01:00.0 not the type, 41:00.0 the type but used up. */
	add_gpu(model, IGPU, VENDOR_INTEL, DEVICE_UHD630, "i915", 0);
	gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_t4_type(gpu, "nvidia-222", 1, 16, 0);
	gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_t4_type(gpu, "nvidia-223", 2, 0, 8);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	request.type = "nvidia-223";
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, DGPU2);
	request.type = "nvidia-999";
	expect_error(model, NULL, 0, &request, ALLOC_NO_SUCH_TYPE, NULL);

	/* The other way round: the better reason comes first and stays. */
	model = model_new();
	gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_t4_type(gpu, "nvidia-223", 2, 0, 8);
	gpu = add_gpu(model, AMD_PF, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_t4_type(gpu, "nvidia-222", 1, 16, 0);
	add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_A100, "nvidia", 0);
	model_finish(model);

	request.type = "nvidia-223";
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, DGPU);
	request.type = "nvidia-999";
	expect_error(model, NULL, 0, &request, ALLOC_NO_SUCH_TYPE, NULL);
	request.type = "nvidia-222";
	request.vendor_id = VENDOR_NVIDIA;
	request.device_id = DEVICE_A100;
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU2);
	/* One reason on several GPUs: the first of them. */
	request.device_id = 0;
	request.min_framebuffer_mib = 65536;
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU);
}

/* No type asked: the largest framebuffer that has a free instance. */
static void test_mdev_default_largest(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);

	add_t4_type(gpu, "nvidia-222", 1, 16, 0);
	add_t4_type(gpu, "nvidia-225", 8, 2, 0);
	add_t4_type(gpu, "nvidia-223", 2, 8, 0);
	add_t4_type(gpu, "nvidia-226", 16, 0, 0);
	add_t4_type(gpu, "nvidia-224", 4, 4, 0);
	/* Unknown size: last. */
	function_add_mdev_type(gpu, "nvidia-999", 1, 0);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-225");
}

/* Equal framebuffers: fewer instances per GPU (bigger slices), then the id. */
static void test_mdev_default_ties(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu;
	MdevType *type;

	gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	type = function_add_mdev_type(gpu, "nvidia-300", 8, 0);
	mdev_type_set_text(type, "GRID T4-2B", "framebuffer=2048M, max_instance=8");
	type = function_add_mdev_type(gpu, "nvidia-301", 4, 0);
	mdev_type_set_text(type, "GRID T4-2Q", "framebuffer=2048M, max_instance=4");
	type = function_add_mdev_type(gpu, "nvidia-302", 1, 0);
	mdev_type_set_text(type, "GRID T4-1A", "framebuffer=1024M, max_instance=1");

	gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	type = function_add_mdev_type(gpu, "nvidia-311", 4, 0);
	mdev_type_set_text(type, "GRID T4-2Q", "framebuffer=2048M, max_instance=4");
	type = function_add_mdev_type(gpu, "nvidia-310", 4, 0);
	mdev_type_set_text(type, "GRID T4-2B", "framebuffer=2048M, max_instance=4");
	type = function_add_mdev_type(gpu, "nvidia-312", 4, 0);
	mdev_type_set_text(type, "GRID T4-2C", "framebuffer=2048M, max_instance=4");
	model_finish(model);

	PartitionRequest request = request_at(PARTITION_MDEV, DGPU);
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-301");
	request = request_at(PARTITION_MDEV, DGPU2);
	expect_mdev(model, NULL, 0, &request, DGPU2, "nvidia-310");
}

static void test_mdev_min_framebuffer(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);

	add_t4_type(gpu, "nvidia-222", 1, 12, 2);
	add_t4_type(gpu, "nvidia-223", 2, 0, 0);
	add_t4_type(gpu, "nvidia-224", 4, 0, 0);
	function_add_mdev_type(gpu, "nvidia-999", 3, 0); /* says nothing of its size */
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-222");
	request.min_framebuffer_mib = 1024;
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-222");
	/* The bigger types meet it but are used up. */
	request.min_framebuffer_mib = 1025;
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, DGPU);
	request.min_framebuffer_mib = 4096;
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, DGPU);
	/* None is that big; a type of unknown size never meets a minimum. */
	request.min_framebuffer_mib = 4097;
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU);
	/* With a type: both must hold. */
	request.min_framebuffer_mib = 2048;
	request.type = "nvidia-222";
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU);
	request.type = "nvidia-999";
	request.min_framebuffer_mib = 1;
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU);
}

/* At most M instances per GPU, as the description says. */
static void test_mdev_max_instances(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);

	add_t4_type(gpu, "nvidia-222", 1, 16, 0); /* max_instance=16 */
	add_t4_type(gpu, "nvidia-223", 2, 8, 0); /* 8 */
	add_t4_type(gpu, "nvidia-224", 4, 0, 0); /* 4 */
	/* The description says 2 though 6 are free: the description counts. */
	MdevType *type = function_add_mdev_type(gpu, "nvidia-250", 6, 0);
	mdev_type_set_text(type, "GRID T4-512MB", "framebuffer=512M, max_instance=2");
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	request.max_instances = 16;
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");
	request.max_instances = 8;
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");
	request.max_instances = 7;
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-250");
	request.type = "nvidia-223";
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU);
	request.type = NULL;
	request.max_instances = 1;
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU);
	/* With a minimum: only the used-up 4 GiB type qualifies. */
	request.max_instances = 4;
	request.min_framebuffer_mib = 1024;
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, DGPU);
}

/* A description that does not say: the free and existing instances are the most there can be. */
static void test_mdev_max_instances_fallback(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_gpu(model, IGPU, VENDOR_INTEL, DEVICE_UHD630, "i915", 0);
	MdevType *type;

	type = function_add_mdev_type(gpu, "i915-GVTg_V5_4", 0, 4); /* at most 4 */
	mdev_type_set_text(type, "GVTg_V5_4", "low_gm_size: 128MB\nhigh_gm_size: 512MB\n");
	type = function_add_mdev_type(gpu, "i915-GVTg_V5_8", 6, 2); /* at most 8 */
	mdev_type_set_text(type, "GVTg_V5_8", "low_gm_size: 64MB\nhigh_gm_size: 384MB\n");
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	expect_mdev(model, NULL, 0, &request, IGPU, "i915-GVTg_V5_8");
	request.max_instances = 8;
	expect_mdev(model, NULL, 0, &request, IGPU, "i915-GVTg_V5_8");
	/* 6 free and 2 made: 8, more than 6 or 7. */
	request.max_instances = 7;
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, IGPU);
	request.max_instances = 6;
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, IGPU);
	request.max_instances = 4;
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, IGPU);
	request.max_instances = 3;
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, IGPU);
}

/* QEMU takes vfio-pci mdevs only. */
static void test_mdev_device_api(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	MdevType *type;

	add_t4_type(gpu, "nvidia-222", 1, 16, 0);
	type = add_t4_type(gpu, "nvidia-900", 16, 1, 0);
	mdev_type_set_device_api(type, "vfio-ccw");
	type = add_t4_type(gpu, "nvidia-901", 8, 2, 0);
	mdev_type_set_device_api(type, "vfio-pcie");
	gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	type = add_t4_type(gpu, "nvidia-900", 16, 1, 0);
	mdev_type_set_device_api(type, "vfio-ap");
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-222");
	request.type = "nvidia-900";
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU);
	request.type = "GRID T4-8Q";
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU);
	request = request_at(PARTITION_MDEV, DGPU2);
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU2);
}

static void test_mdev_no_types(void **state)
{
	HostModel *model = model_new();

	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU);
	/* A type asked for that nothing offers is unknown, not a GPU's shortcoming. */
	request.type = "nvidia-222";
	expect_error(model, NULL, 0, &request, ALLOC_NO_SUCH_TYPE, NULL);
	request = request_at(PARTITION_MDEV, DGPU2);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU2);
}

/* Each mdev request held adds to its GPU's load: the next goes to the other GPU. */
static void test_mdev_requests_in_a_row(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[3];
	PciFunction *gpu;

	gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_t4_type(gpu, "nvidia-223", 2, 8, 0);
	gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_t4_type(gpu, "nvidia-223", 2, 8, 0);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	expect_mdev(model, held, 0, &request, DGPU, "nvidia-223");
	held[0] = held_partition(PARTITION_MDEV, DGPU, DGPU);
	expect_mdev(model, held, 1, &request, DGPU2, "nvidia-223");
	held[1] = held_partition(PARTITION_MDEV, DGPU2, DGPU2);
	expect_mdev(model, held, 2, &request, DGPU, "nvidia-223");
	held[2] = held_partition(PARTITION_MDEV, DGPU, DGPU);
	expect_mdev(model, held, 3, &request, DGPU2, "nvidia-223");
}

/*
 * SR-IOV
 */

static void test_sriov_not_capable(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu;

	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_A100, "nvidia", 0);
	function_set_sriov(gpu, 0, 0); /* the capability, with no VFs to offer */
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_SRIOV);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU);
	request = request_at(PARTITION_SRIOV, DGPU);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU);
	request = request_at(PARTITION_SRIOV, DGPU2);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU2);
}

/* Capable, none enabled yet: enable them all, or as many as asked, then pick. */
static void test_sriov_enable(void **state)
{
	HostModel *model = model_new();

	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	/* An Intel Flex 170: its PF driver makes VFs through sriov_numvfs. */
	function_set_sriov(add_gpu(model, AMD_PF, VENDOR_INTEL, DEVICE_FLEX_170, "i915", -1), 4, 0);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_SRIOV);
	expect_enable(model, &request, AMD_PF, 4);
	request.vfs_to_enable = 2;
	expect_enable(model, &request, AMD_PF, 2);
	request.vfs_to_enable = 1;
	expect_enable(model, &request, AMD_PF, 1);
	request.vfs_to_enable = 4;
	expect_enable(model, &request, AMD_PF, 4);
	request.vfs_to_enable = 5;
	expect_enable(model, &request, AMD_PF, 4);
	request = request_at(PARTITION_SRIOV, AMD_PF);
	request.vfs_to_enable = 3;
	expect_enable(model, &request, AMD_PF, 3);

	/* AMD's VFs come from gim (vf_num), NVIDIA's from sriov-manage: never from libvfio. */
	model = model_new();
	add_amd_pf(model, AMD_PF, 4, 0);
	model_finish(model);
	request = request_for(PARTITION_SRIOV);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, AMD_PF);
}

/* The first free VF by address: unbound or on vfio-pci, and held by nobody. */
static void test_sriov_first_free_vf(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[] = { held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF1) };

	add_amd_pf(model, AMD_PF, 4, 4);
	add_amd_vf(model, AMD_PF, AMD_VF0, "amdgpu");
	add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF2, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF3, NULL);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_SRIOV);
	expect_vf(model, held, ELEMENTSOF(held), &request, AMD_PF, AMD_VF2);
	/* Not held: the first on vfio-pci. */
	expect_vf(model, NULL, 0, &request, AMD_PF, AMD_VF1);
	request = request_at(PARTITION_SRIOV, AMD_PF);
	expect_vf(model, held, ELEMENTSOF(held), &request, AMD_PF, AMD_VF2);

	/* Unbound VFs are free too. */
	model = model_new();
	add_amd_pf(model, AMD_PF, 4, 2);
	add_amd_vf(model, AMD_PF, AMD_VF0, NULL);
	add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
	model_finish(model);
	request = request_for(PARTITION_SRIOV);
	expect_vf(model, NULL, 0, &request, AMD_PF, AMD_VF0);
}

static void test_sriov_all_taken(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[] = {
		held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF1),
		held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF3),
	};

	add_amd_pf(model, AMD_PF, 4, 4);
	add_amd_vf(model, AMD_PF, AMD_VF0, "amdgpu");
	add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF2, "i915");
	add_amd_vf(model, AMD_PF, AMD_VF3, NULL);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_SRIOV);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_NONE_FREE, AMD_PF);
	request = request_at(PARTITION_SRIOV, AMD_PF);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_NONE_FREE, AMD_PF);
	/* Without the holdings, the two held VFs are free again. */
	request = request_for(PARTITION_SRIOV);
	expect_vf(model, NULL, 0, &request, AMD_PF, AMD_VF1);
	expect_vf(model, held, 1, &request, AMD_PF, AMD_VF3);
}

/* Expects the VF at `expected_vf` of the PF at `expected_pf` with NVIDIA vGPU type `type_id`. */
static void expect_vgpu(const HostModel *model, const HeldPartition *held, size_t n_held,
			const PartitionRequest *request, const char *expected_pf,
			const char *expected_vf, const char *type_id)
{
	AllocationChoice choice = expect_choice(model, held, n_held, request, expected_pf);

	assert_true(choice.vf_known);
	expect_address("the chosen VF", &choice.vf, expected_vf);
	assert_non_null(choice.type);
	assert_string_equal(choice.type->id, type_id);
	assert_ptr_equal(choice.type, &model_function(model, expected_vf)->nvidia_vgpu_types[0]);
}

#define NV_VF0 "0000:41:00.4"
#define NV_VF1 "0000:41:00.5"
#define NV_VF2 "0000:41:00.6"

/*
 * NVIDIA vGPU 17, no mdev: a VF without a type takes the one asked for, by id
 * or name, among those it lists now; or the largest. Its VFs come from NVIDIA's
 * sriov-manage, never from libvfio.
 */
static void test_sriov_nvidia_vgpu_types(void **state)
{
	HostModel *model = model_new();
	PciFunction *pf = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_A100, "nvidia", 0);
	function_set_sriov(pf, 4, 3);
	PciFunction *vf = model_add_vf(model, DGPU2, NV_VF0, VENDOR_NVIDIA, CLASS_3D, "nvidia");
	function_set_nvidia_vgpu(vf, 1155, ""); /* holds a vGPU, lists nothing */
	/* The driver keeps one type per GPU: the free VFs list only the one in use. */
	vf = model_add_vf(model, DGPU2, NV_VF1, VENDOR_NVIDIA, CLASS_3D, "nvidia");
	function_set_nvidia_vgpu(vf, 0, "1155 : NVIDIA L4-8Q\n");
	vf = model_add_vf(model, DGPU2, NV_VF2, VENDOR_NVIDIA, CLASS_3D, "nvidia");
	function_set_nvidia_vgpu(vf, 0, "1155 : NVIDIA L4-8Q\n");
	model_finish(model);
	HeldPartition held[] = { held_partition(PARTITION_SRIOV, DGPU2, NV_VF1),
				 held_partition(PARTITION_SRIOV, DGPU2, NV_VF2) };

	PartitionRequest request = request_for(PARTITION_SRIOV);
	expect_vgpu(model, NULL, 0, &request, DGPU2, NV_VF1, "1155");
	request.type = "NVIDIA L4-8Q";
	expect_vgpu(model, NULL, 0, &request, DGPU2, NV_VF1, "1155");
	expect_vgpu(model, held, 1, &request, DGPU2, NV_VF2, "1155");
	expect_error(model, held, 2, &request, ALLOC_NONE_FREE, DGPU2);
	request.type = "1157"; /* NVIDIA L4-24Q: not while an 8Q is there */
	expect_error(model, NULL, 0, &request, ALLOC_UNKNOWN_TYPE, DGPU2);
	request = request_at(PARTITION_SRIOV, NV_VF0);
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, NV_VF0);
	request = request_at(PARTITION_SRIOV, NV_VF2);
	expect_vgpu(model, NULL, 0, &request, DGPU2, NV_VF2, "1155");

	/* A GPU with room for no more: its free VFs list nothing. */
	model = model_new();
	pf = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_A100, "nvidia", 0);
	function_set_sriov(pf, 4, 1);
	vf = model_add_vf(model, DGPU2, NV_VF1, VENDOR_NVIDIA, CLASS_3D, "nvidia");
	function_set_nvidia_vgpu(vf, 0, "");
	model_finish(model);
	request = request_for(PARTITION_SRIOV);
	expect_error(model, NULL, 0, &request, ALLOC_NONE_FREE, DGPU2);

	/* No VFs yet: sriov-manage makes them, on the nvidia driver; libvfio does not. */
	model = model_new();
	pf = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_A100, "nvidia", 0);
	function_set_sriov(pf, 4, 0);
	model_finish(model);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU2);
}

/* An exact VF address: that VF, on its PF; or NONE_FREE about the VF when it is taken. */
static void test_sriov_vf_address(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[] = { held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF1) };

	add_amd_pf(model, AMD_PF, 4, 4);
	add_amd_vf(model, AMD_PF, AMD_VF0, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF2, "amdgpu");
	add_amd_vf(model, AMD_PF, AMD_VF3, NULL);
	model_finish(model);

	PartitionRequest request = request_at(PARTITION_SRIOV, AMD_VF3);
	expect_vf(model, held, ELEMENTSOF(held), &request, AMD_PF, AMD_VF3);
	request = request_at(PARTITION_SRIOV, AMD_VF1);
	expect_vf(model, NULL, 0, &request, AMD_PF, AMD_VF1);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_NONE_FREE, AMD_VF1);
	request = request_at(PARTITION_SRIOV, AMD_VF2);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_NONE_FREE, AMD_VF2);
}

/* Requests in a row, each added to the holdings: a different VF every time. */
static void test_sriov_requests_in_a_row(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[3];

	add_amd_pf(model, AMD_PF, 4, 3);
	add_amd_vf(model, AMD_PF, AMD_VF0, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF2, NULL);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_SRIOV);
	expect_vf(model, held, 0, &request, AMD_PF, AMD_VF0);
	held[0] = held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF0);
	expect_vf(model, held, 1, &request, AMD_PF, AMD_VF1);
	held[1] = held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF1);
	expect_vf(model, held, 2, &request, AMD_PF, AMD_VF2);
	held[2] = held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF2);
	expect_error(model, held, 3, &request, ALLOC_NONE_FREE, AMD_PF);
}

/* Two PFs: each held VF loads its PF, so requests in a row alternate. */
static void test_sriov_requests_spread(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[4];

	add_amd_pf(model, AMD_PF, 2, 2);
	add_amd_vf(model, AMD_PF, AMD_VF0, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
	add_amd_pf(model, AMD_PF2, 2, 2);
	add_amd_vf(model, AMD_PF2, AMD_PF2_VF0, "vfio-pci");
	add_amd_vf(model, AMD_PF2, AMD_PF2_VF1, "vfio-pci");
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_SRIOV);
	expect_vf(model, held, 0, &request, AMD_PF, AMD_VF0);
	held[0] = held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF0);
	expect_vf(model, held, 1, &request, AMD_PF2, AMD_PF2_VF0);
	held[1] = held_partition(PARTITION_SRIOV, AMD_PF2, AMD_PF2_VF0);
	expect_vf(model, held, 2, &request, AMD_PF, AMD_VF1);
	held[2] = held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF1);
	expect_vf(model, held, 3, &request, AMD_PF2, AMD_PF2_VF1);
	held[3] = held_partition(PARTITION_SRIOV, AMD_PF2, AMD_PF2_VF1);
	expect_error(model, held, 4, &request, ALLOC_NONE_FREE, AMD_PF);
}

/*
 * Passthrough
 */

static void test_passthrough_no_group(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu;

	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	gpu->iommu_group = 7; /* a group the model does not have */
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_PASSTHROUGH);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU);
	request.force = true;
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU);
	request = request_at(PARTITION_PASSTHROUGH, DGPU2);
	expect_error(model, NULL, 0, &request, ALLOC_MODE_UNSUPPORTED, DGPU2);
}

static void test_passthrough_not_isolated(void **state)
{
	HostModel *model = model_new();

	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_add_function(model, DGPU_AUDIO, VENDOR_NVIDIA, CLASS_AUDIO, "snd_hda_intel");
	model_add_function(model, NIC, VENDOR_INTEL, CLASS_ETHERNET, "igb");
	model_add_group(model, 1, DGPU, DGPU_AUDIO, NIC, NULL);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_PASSTHROUGH);
	expect_error(model, NULL, 0, &request, ALLOC_NOT_ISOLATED, DGPU);
	request.force = true; /* force is about the boot display, not about groups */
	expect_error(model, NULL, 0, &request, ALLOC_NOT_ISOLATED, DGPU);
	request = request_at(PARTITION_PASSTHROUGH, DGPU);
	expect_error(model, NULL, 0, &request, ALLOC_NOT_ISOLATED, DGPU);

	/* The card's own functions and a bridge are no obstacle. */
	model = model_new();
	model_add_function(model, ROOT_PORT, VENDOR_INTEL, CLASS_PCI_BRIDGE, "pcieport");
	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_add_function(model, DGPU_AUDIO, VENDOR_NVIDIA, CLASS_AUDIO, "snd_hda_intel");
	model_add_group(model, 1, ROOT_PORT, DGPU, DGPU_AUDIO, NULL);
	model_finish(model);
	request = request_for(PARTITION_PASSTHROUGH);
	expect_whole(model, NULL, 0, &request, DGPU);
}

static void test_passthrough_boot_vga(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu;

	gpu = add_gpu(model, IGPU, VENDOR_INTEL, DEVICE_UHD630, "i915", 0);
	gpu->boot_vga = 1;
	gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	gpu->boot_vga = -1; /* no boot_vga attribute: not the boot display */
	model_add_group(model, 0, IGPU, NULL);
	model_add_group(model, 1, DGPU, NULL);
	model_finish(model);

	PartitionRequest request = request_at(PARTITION_PASSTHROUGH, IGPU);
	expect_error(model, NULL, 0, &request, ALLOC_BOOT_VGA, IGPU);
	request.force = true;
	expect_whole(model, NULL, 0, &request, IGPU);
	request = request_at(PARTITION_PASSTHROUGH, DGPU);
	expect_whole(model, NULL, 0, &request, DGPU);

	/* Any GPU: the boot display is passed over without force, and taken with it. */
	request = request_for(PARTITION_PASSTHROUGH);
	expect_whole(model, NULL, 0, &request, DGPU);
	request.vendor_id = VENDOR_INTEL;
	expect_error(model, NULL, 0, &request, ALLOC_BOOT_VGA, IGPU);
	request.force = true;
	expect_whole(model, NULL, 0, &request, IGPU);
}

static void test_passthrough_held(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[] = { held_partition(PARTITION_PASSTHROUGH, DGPU, DGPU) };

	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "vfio-pci", 0);
	model_add_group(model, 1, DGPU, NULL);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_PASSTHROUGH);
	expect_whole(model, NULL, 0, &request, DGPU);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, DGPU);
	request.force = true;
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, DGPU);
	request = request_at(PARTITION_PASSTHROUGH, DGPU);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, DGPU);
}

/* Requests in a row: the next GPU, then HELD about the first. */
static void test_passthrough_requests_in_a_row(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[2];

	add_gpu(model, IGPU, VENDOR_INTEL, DEVICE_UHD630, "i915", 0);
	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_add_group(model, 0, IGPU, NULL);
	model_add_group(model, 1, DGPU, NULL);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_PASSTHROUGH);
	expect_whole(model, held, 0, &request, IGPU);
	held[0] = held_partition(PARTITION_PASSTHROUGH, IGPU, IGPU);
	expect_whole(model, held, 1, &request, DGPU);
	held[1] = held_partition(PARTITION_PASSTHROUGH, DGPU, DGPU);
	expect_error(model, held, 2, &request, ALLOC_HELD, IGPU);

	/* One GPU: the second request is told it is busy. */
	request = request_at(PARTITION_PASSTHROUGH, DGPU);
	expect_whole(model, held, 1, &request, DGPU);
	expect_error(model, held, 2, &request, ALLOC_HELD, DGPU);
}

/* Across GPUs: the boot display (force helps), then held, then the group, then no IOMMU. */
static void test_passthrough_reason_across_gpus(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[] = { held_partition(PARTITION_PASSTHROUGH, DGPU, DGPU) };
	PciFunction *gpu;

	add_gpu(model, IGPU, VENDOR_INTEL, DEVICE_UHD630, "i915", 0); /* no group */
	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "vfio-pci", 0); /* held */
	model_add_function(model, NIC, VENDOR_INTEL, CLASS_ETHERNET, "igb");
	add_gpu(model, AMD_PF, VENDOR_AMD, DEVICE_MI25, "amdgpu", 0); /* shares with the NIC */
	gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_A100, "nvidia", 0);
	gpu->boot_vga = 1;
	model_add_group(model, 1, DGPU, NULL);
	model_add_group(model, 2, NIC, AMD_PF, NULL);
	model_add_group(model, 41, DGPU2, NULL);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_PASSTHROUGH);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_BOOT_VGA, DGPU2);
	request.vendor_id = VENDOR_NVIDIA;
	request.device_id = DEVICE_T4;
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, DGPU);
	request.device_id = 0;
	request.force = true;
	expect_whole(model, held, ELEMENTSOF(held), &request, DGPU2);
	request = request_for(PARTITION_PASSTHROUGH);
	request.vendor_id = VENDOR_INTEL;
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_MODE_UNSUPPORTED, IGPU);

	/* Held beats the group, whichever comes first. */
	request = request_for(PARTITION_PASSTHROUGH);
	request.vendor_id = VENDOR_NVIDIA;
	request.device_id = DEVICE_T4;
	held[0] = held_partition(PARTITION_PASSTHROUGH, DGPU, DGPU);
	model = model_new();
	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "vfio-pci", 0);
	model_add_function(model, NIC, VENDOR_INTEL, CLASS_ETHERNET, "igb");
	add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_add_group(model, 1, DGPU, NULL);
	model_add_group(model, 41, NIC, DGPU2, NULL);
	model_finish(model);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, DGPU);
	model = model_new();
	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_add_function(model, NIC, VENDOR_INTEL, CLASS_ETHERNET, "igb");
	add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "vfio-pci", 0);
	model_add_group(model, 1, DGPU, NIC, NULL);
	model_add_group(model, 41, DGPU2, NULL);
	model_finish(model);
	held[0] = held_partition(PARTITION_PASSTHROUGH, DGPU2, DGPU2);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, DGPU2);
	/* Not held any more: the free GPU. */
	expect_whole(model, NULL, 0, &request, DGPU2);

	/* The group beats no IOMMU, whichever comes first. */
	model = model_new();
	add_gpu(model, IGPU, VENDOR_INTEL, DEVICE_UHD630, "i915", 0);
	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_add_function(model, NIC, VENDOR_INTEL, CLASS_ETHERNET, "igb");
	model_add_group(model, 1, DGPU, NIC, NULL);
	model_finish(model);
	request = request_for(PARTITION_PASSTHROUGH);
	expect_error(model, NULL, 0, &request, ALLOC_NOT_ISOLATED, DGPU);
	model = model_new();
	add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_add_function(model, NIC, VENDOR_INTEL, CLASS_ETHERNET, "igb");
	add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	model_add_group(model, 1, DGPU, NIC, NULL);
	model_finish(model);
	expect_error(model, NULL, 0, &request, ALLOC_NOT_ISOLATED, DGPU);
}

/*
 * Ranking
 */

/* Two T4s with a free 2 GiB type; `load_first` and `load_second` instances exist on each. */
static HostModel *two_t4_host(int node_first, size_t load_first, int node_second,
			      size_t load_second)
{
	HostModel *model = model_new();
	PciFunction *gpu;

	gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", node_first);
	add_t4_type(gpu, "nvidia-222", 1, 16, 0);
	add_t4_type(gpu, "nvidia-223", 2, 8 - (int64_t)load_first, load_first);
	gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", node_second);
	add_t4_type(gpu, "nvidia-222", 1, 16, 0);
	add_t4_type(gpu, "nvidia-223", 2, 8 - (int64_t)load_second, load_second);
	model_finish(model);
	return model;
}

static void test_rank_preferred_node(void **state)
{
	/* 41:00.0 is on node 1 and busier. */
	HostModel *model = two_t4_host(0, 0, 1, 3);
	PartitionRequest request = request_for(PARTITION_MDEV);

	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");
	request.preferred_node = 1;
	expect_mdev(model, NULL, 0, &request, DGPU2, "nvidia-223");
	request.preferred_node = 0;
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");
	/* A node without GPUs: as if none were preferred. */
	request.preferred_node = 2;
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");

	/* The preferred node's GPU must fit: otherwise another node's. */
	model = two_t4_host(0, 0, 1, 8);
	request.preferred_node = 1;
	request.type = "nvidia-223";
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");

	/* A GPU of unknown node (-1) is on no preferred node; without a preference, load decides.
	 */
	model = two_t4_host(1, 2, -1, 0);
	request = request_for(PARTITION_MDEV);
	expect_mdev(model, NULL, 0, &request, DGPU2, "nvidia-223");
	request.preferred_node = 1;
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");
	model = two_t4_host(-1, 2, 0, 0);
	request.preferred_node = -1;
	expect_mdev(model, NULL, 0, &request, DGPU2, "nvidia-223");
}

/* Load: every mdev instance on the GPU, whatever its type. */
static void test_rank_load_mdev(void **state)
{
	HostModel *model = two_t4_host(0, 2, 0, 1);
	PartitionRequest request = request_for(PARTITION_MDEV);

	expect_mdev(model, NULL, 0, &request, DGPU2, "nvidia-223");
	request.type = "nvidia-222";
	expect_mdev(model, NULL, 0, &request, DGPU2, "nvidia-222");

	model = two_t4_host(0, 1, 0, 2);
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-222");

	/* Equal loads: the lower address. */
	model = two_t4_host(0, 3, 0, 3);
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-222");
	model = two_t4_host(0, 0, 0, 0);
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-222");

	/* Held partitions on a GPU count too. */
	HeldPartition held[] = { held_partition(PARTITION_MDEV, DGPU2, DGPU2),
				 held_partition(PARTITION_MDEV, DGPU2, DGPU2) };
	model = two_t4_host(0, 1, 0, 0);
	expect_mdev(model, held, 1, &request, DGPU, "nvidia-222");
	expect_mdev(model, held, 2, &request, DGPU, "nvidia-222");
}

/* Load: VFs in use by a host driver, and VFs held. */
static void test_rank_load_vfs(void **state)
{
	HostModel *model = model_new();

	add_amd_pf(model, AMD_PF, 3, 3);
	add_amd_vf(model, AMD_PF, AMD_VF0, "amdgpu");
	add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF2, "vfio-pci");
	add_amd_pf(model, AMD_PF2, 2, 2);
	add_amd_vf(model, AMD_PF2, AMD_PF2_VF0, "vfio-pci");
	add_amd_vf(model, AMD_PF2, AMD_PF2_VF1, NULL);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_SRIOV);
	expect_vf(model, NULL, 0, &request, AMD_PF2, AMD_PF2_VF0);

	HeldPartition held[] = { held_partition(PARTITION_SRIOV, AMD_PF2, AMD_PF2_VF1),
				 held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF2) };
	/* 1 in use against 1 held: the lower address. */
	expect_vf(model, held, 1, &request, AMD_PF, AMD_VF1);
	/* 2 (1 in use, 1 held) against 1 held. */
	expect_vf(model, held, 2, &request, AMD_PF2, AMD_PF2_VF0);
}

/* The same question, the same answer; and the order devices were found in does not matter. */
static void test_deterministic(void **state)
{
	HostModel *models[2];
	HeldPartition held[] = { held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF0) };
	HeldPartition held_before[ELEMENTSOF(held)];

	memcpy(held_before, held, sizeof(held));
	for (int i = 0; i < 2; i++) {
		HostModel *model = models[i] = model_new();
		PciFunction *gpu;
		/* The second host lists its devices the other way round before sorting. */
		if (i == 0) {
			add_amd_pf(model, AMD_PF, 2, 2);
			add_amd_vf(model, AMD_PF, AMD_VF0, "vfio-pci");
			add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
			add_amd_pf(model, AMD_PF2, 2, 2);
			add_amd_vf(model, AMD_PF2, AMD_PF2_VF0, "vfio-pci");
			add_amd_vf(model, AMD_PF2, AMD_PF2_VF1, "vfio-pci");
			gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
			add_t4_type(gpu, "nvidia-223", 2, 8, 0);
			gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
			add_t4_type(gpu, "nvidia-223", 2, 8, 0);
		} else {
			gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
			add_t4_type(gpu, "nvidia-223", 2, 8, 0);
			gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
			add_t4_type(gpu, "nvidia-223", 2, 8, 0);
			add_amd_pf(model, AMD_PF2, 2, 2);
			add_amd_vf(model, AMD_PF2, AMD_PF2_VF0, "vfio-pci");
			add_amd_vf(model, AMD_PF2, AMD_PF2_VF1, "vfio-pci");
			add_amd_pf(model, AMD_PF, 2, 2);
			add_amd_vf(model, AMD_PF, AMD_VF0, "vfio-pci");
			add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
		}
		model_finish(model);
	}

	for (int i = 0; i < 2; i++)
		for (int round = 0; round < 2; round++) {
			PartitionRequest request = request_for(PARTITION_SRIOV);
			expect_vf(models[i], held, ELEMENTSOF(held), &request, AMD_PF2,
				  AMD_PF2_VF0);
			request = request_for(PARTITION_MDEV);
			expect_mdev(models[i], held, ELEMENTSOF(held), &request, DGPU,
				    "nvidia-223");
		}
	assert_memory_equal(held, held_before, sizeof(held));
}

/*
 * Partitions that overlap: a whole GPU and the partitions made of it. Each is
 * taken while the other is in use.
 */

/* A GPU whose mdevs or VFs are in use, or held, cannot go whole to a VM. */
static void test_passthrough_refuses_gpu_in_parts(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu;

	gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_t4_type(gpu, "nvidia-223", 2, 7, 1); /* one mdev exists */
	add_amd_pf(model, AMD_PF, 2, 2);
	add_amd_vf(model, AMD_PF, AMD_VF0, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
	gpu = add_gpu(model, DGPU2, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_t4_type(gpu, "nvidia-223", 2, 8, 0);
	model_add_group(model, 1, DGPU, NULL);
	model_add_group(model, 3, AMD_PF, NULL);
	model_add_group(model, 30, AMD_VF0, NULL);
	model_add_group(model, 31, AMD_VF1, NULL);
	model_add_group(model, 41, DGPU2, NULL);
	model_finish(model);

	/* The mdev on 01:00.0 is in the model. */
	PartitionRequest request = request_at(PARTITION_PASSTHROUGH, DGPU);
	expect_error(model, NULL, 0, &request, ALLOC_HELD, DGPU);
	/* A VF of 03:00.0 is held. */
	HeldPartition held_vf[] = { held_partition(PARTITION_SRIOV, AMD_PF, AMD_VF1) };
	request = request_at(PARTITION_PASSTHROUGH, AMD_PF);
	expect_whole(model, NULL, 0, &request, AMD_PF);
	expect_error(model, held_vf, ELEMENTSOF(held_vf), &request, ALLOC_HELD, AMD_PF);
	/* An mdev on 41:00.0 is being created. */
	HeldPartition held_mdev[] = { held_partition(PARTITION_MDEV, DGPU2, DGPU2) };
	request = request_at(PARTITION_PASSTHROUGH, DGPU2);
	expect_whole(model, NULL, 0, &request, DGPU2);
	expect_error(model, held_mdev, ELEMENTSOF(held_mdev), &request, ALLOC_HELD, DGPU2);
}

/* A GPU held whole offers no mdev and no VF. */
static void test_parts_refused_on_gpu_held_whole(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[] = { held_partition(PARTITION_PASSTHROUGH, DGPU, DGPU),
				 held_partition(PARTITION_PASSTHROUGH, AMD_PF, AMD_PF) };
	PciFunction *gpu;

	gpu = add_gpu(model, DGPU, VENDOR_NVIDIA, DEVICE_T4, "nvidia", 0);
	add_t4_type(gpu, "nvidia-223", 2, 8, 0);
	add_amd_pf(model, AMD_PF, 2, 2);
	add_amd_vf(model, AMD_PF, AMD_VF0, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF1, NULL);
	model_add_group(model, 1, DGPU, NULL);
	model_add_group(model, 3, AMD_PF, NULL);
	model_finish(model);

	PartitionRequest request = request_for(PARTITION_MDEV);
	expect_mdev(model, NULL, 0, &request, DGPU, "nvidia-223");
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, DGPU);
	request = request_for(PARTITION_SRIOV);
	expect_vf(model, NULL, 0, &request, AMD_PF, AMD_VF0);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, AMD_PF);
	request = request_at(PARTITION_SRIOV, AMD_VF1);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, AMD_VF1);
}

/* A VF passed through whole by its address is not handed out again as a VF. */
static void test_vf_held_whole_is_taken(void **state)
{
	HostModel *model = model_new();
	HeldPartition held[] = { held_partition(PARTITION_PASSTHROUGH, AMD_VF0, AMD_VF0) };

	add_amd_pf(model, AMD_PF, 2, 2);
	add_amd_vf(model, AMD_PF, AMD_VF0, "vfio-pci");
	add_amd_vf(model, AMD_PF, AMD_VF1, "vfio-pci");
	model_add_group(model, 3, AMD_PF, NULL);
	model_add_group(model, 30, AMD_VF0, NULL);
	model_add_group(model, 31, AMD_VF1, NULL);
	model_finish(model);

	PartitionRequest request = request_at(PARTITION_PASSTHROUGH, AMD_VF0);
	expect_whole(model, NULL, 0, &request, AMD_VF0);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_HELD, AMD_VF0);
	request = request_for(PARTITION_SRIOV);
	expect_vf(model, held, ELEMENTSOF(held), &request, AMD_PF, AMD_VF1);
	request = request_at(PARTITION_SRIOV, AMD_VF0);
	expect_error(model, held, ELEMENTSOF(held), &request, ALLOC_NONE_FREE, AMD_VF0);
}

int main(void)
{
#define MODEL_TEST(f) cmocka_unit_test_teardown(f, models_teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_codes_named),
		MODEL_TEST(test_address_no_such_device),
		MODEL_TEST(test_address_not_a_gpu),
		MODEL_TEST(test_address_unreadable_device),
		MODEL_TEST(test_address_beats_ranking),
		MODEL_TEST(test_address_refusal_names_gpu),
		MODEL_TEST(test_vendor_selector),
		MODEL_TEST(test_vendor_device_selector),
		MODEL_TEST(test_selector_no_match),
		MODEL_TEST(test_selector_skips_vfs),
		MODEL_TEST(test_mdev_type_by_id),
		MODEL_TEST(test_mdev_type_by_name),
		MODEL_TEST(test_mdev_unknown_type),
		MODEL_TEST(test_mdev_type_used_up),
		MODEL_TEST(test_mdev_reason_across_gpus),
		MODEL_TEST(test_mdev_default_largest),
		MODEL_TEST(test_mdev_default_ties),
		MODEL_TEST(test_mdev_min_framebuffer),
		MODEL_TEST(test_mdev_max_instances),
		MODEL_TEST(test_mdev_max_instances_fallback),
		MODEL_TEST(test_mdev_device_api),
		MODEL_TEST(test_mdev_no_types),
		MODEL_TEST(test_mdev_requests_in_a_row),
		MODEL_TEST(test_sriov_not_capable),
		MODEL_TEST(test_sriov_enable),
		MODEL_TEST(test_sriov_first_free_vf),
		MODEL_TEST(test_sriov_all_taken),
		MODEL_TEST(test_sriov_vf_address),
		MODEL_TEST(test_sriov_nvidia_vgpu_types),
		MODEL_TEST(test_sriov_requests_in_a_row),
		MODEL_TEST(test_sriov_requests_spread),
		MODEL_TEST(test_passthrough_no_group),
		MODEL_TEST(test_passthrough_not_isolated),
		MODEL_TEST(test_passthrough_boot_vga),
		MODEL_TEST(test_passthrough_held),
		MODEL_TEST(test_passthrough_requests_in_a_row),
		MODEL_TEST(test_passthrough_reason_across_gpus),
		MODEL_TEST(test_rank_preferred_node),
		MODEL_TEST(test_rank_load_mdev),
		MODEL_TEST(test_rank_load_vfs),
		MODEL_TEST(test_deterministic),
		MODEL_TEST(test_passthrough_refuses_gpu_in_parts),
		MODEL_TEST(test_parts_refused_on_gpu_held_whole),
		MODEL_TEST(test_vf_held_whole_is_taken),
	};
#undef MODEL_TEST

	return cmocka_run_group_tests_name("alloc", tests, NULL, NULL);
}
