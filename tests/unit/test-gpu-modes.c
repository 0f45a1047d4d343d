/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Which partition modes a GPU offers, on host models built by hand: mdev by
 * vendor (Intel GVT-g and why it is off, NVIDIA vGPU, AMD), SR-IOV (capable
 * or not, VFs free or held), and passthrough (IOMMU groups, boot display,
 * host driver). Each reason is asserted word for word: it is what the user
 * reads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "host/gpu_modes.h"
#include "host/host.h"
#include "host_builder.h"
#include "macro.h"
#include "strv.h"

#define IGPU "0000:00:02.0"
#define DGPU "0000:01:00.0"
#define DGPU_AUDIO "0000:01:00.1"
#define ROOT_PORT "0000:00:01.0"
#define AMD_PF "0000:03:00.0"

#define GVT_OFF_NOTE                                                                        \
	"GVT-g is off (i915.enable_gvt); only Intel graphics of the 5th to 9th generation " \
	"(Broadwell to Comet Lake) support it, newer ones use SR-IOV"
#define GVT_OFF_FIX                                                                   \
	"Add i915.enable_gvt=1 to the kernel command line, load kvmgt (echo kvmgt > " \
	"/etc/modules-load.d/kvmgt.conf) and reboot."
#define NO_IOMMU_NOTE "it is in no IOMMU group: the IOMMU is off (see the iommu check)"

/* What one mode's assessment must say; NULL strings must be absent. */
typedef struct Expected {
	bool available;
	bool fixable;
	const char *capacity;
	const char *note;
	const char *fix;
} Expected;

static void expect_field(PartitionModeKind mode, const char *field, const char *got,
			 const char *expected)
{
	if (!got && !expected)
		return;
	if (!got || !expected || strcmp(got, expected) != 0)
		fail_msg("%s %s: got '%s', expected '%s'", partition_mode_to_string(mode), field,
			 got ? got : "(none)", expected ? expected : "(none)");
}

static void expect_mode(const ModeAssessment *a, PartitionModeKind mode, Expected expected)
{
	assert_int_equal(a->mode, mode);
	if (a->available != expected.available)
		fail_msg("%s: available is %d, expected %d", partition_mode_to_string(mode),
			 a->available, expected.available);
	if (a->fixable != expected.fixable)
		fail_msg("%s: fixable is %d, expected %d", partition_mode_to_string(mode),
			 a->fixable, expected.fixable);
	expect_field(mode, "capacity", a->capacity, expected.capacity);
	expect_field(mode, "note", a->note, expected.note);
	expect_field(mode, "fix", a->fix, expected.fix);
}

/* The last assessment, kept for the teardown when an assertion ends a test early. */
static ModeAssessment assessed[_PARTITION_MODE_MAX];

static int teardown(void **state)
{
	mode_assessments_done(assessed);
	return models_teardown(state);
}

/* Assesses the GPU at `address` of the finished model and checks one mode. */
static void expect_assessment(const HostModel *model, const char *address, PartitionModeKind mode,
			      Expected expected)
{
	mode_assessments_done(assessed);
	assert_int_equal(gpu_assess_modes(model, model_function(model, address), assessed), 0);
	for (int m = 0; m < _PARTITION_MODE_MAX; m++)
		assert_int_equal(assessed[m].mode, m);
	expect_mode(&assessed[mode], mode, expected);
	mode_assessments_done(assessed);
}

/* An Intel iGPU driven by i915, not the boot display, in no IOMMU group yet. */
static PciFunction *add_igpu(HostModel *model)
{
	PciFunction *gpu = model_add_function(model, IGPU, VENDOR_INTEL, CLASS_VGA, "i915");

	gpu->boot_vga = 0;
	return gpu;
}

static void test_mode_names(void **state)
{
	assert_string_equal(partition_mode_to_string(PARTITION_MDEV), "mdev");
	assert_string_equal(partition_mode_to_string(PARTITION_SRIOV), "sriov");
	assert_string_equal(partition_mode_to_string(PARTITION_PASSTHROUGH), "passthrough");
	assert_null(partition_mode_to_string(_PARTITION_MODE_MAX));
	assert_null(partition_mode_to_string((PartitionModeKind)-1));
	for (int m = 0; m < _PARTITION_MODE_MAX; m++)
		assert_int_equal(partition_mode_from_string(partition_mode_to_string(m)), m);
	assert_int_equal(partition_mode_from_string("MDEV"), -EINVAL);
	assert_int_equal(partition_mode_from_string(""), -EINVAL);
	assert_int_equal(partition_mode_from_string(NULL), -EINVAL);
}

static void test_vf_is_in_use(void **state)
{
	PciFunction vf = { .is_vf = true };

	/* Free: no driver, or vfio-pci. */
	assert_false(vf_is_in_use(&vf));
	vf.driver = (char *)"vfio-pci";
	assert_false(vf_is_in_use(&vf));
	/* Held by the host. */
	vf.driver = (char *)"amdgpu";
	assert_true(vf_is_in_use(&vf));
	vf.driver = (char *)"i915";
	assert_true(vf_is_in_use(&vf));
	vf.driver = (char *)"vfio-pc";
	assert_true(vf_is_in_use(&vf));
}

static void test_mdev_intel_types(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_igpu(model);

	function_add_mdev_type(gpu, "i915-GVTg_V5_4", 2, 0);
	function_add_mdev_type(gpu, "i915-GVTg_V5_8", 4, 1);
	model->facts.i915_enable_gvt = 1;
	assert_int_equal(strv_append(&model->facts.modules_loaded, "kvmgt"), 0);
	model_finish(model);

	expect_assessment(model, IGPU, PARTITION_MDEV,
			  (Expected){
				  .available = true,
				  .capacity = "i915-GVTg_V5_4: 2 free, i915-GVTg_V5_8: 4 free",
			  });
}

/* Capacity lists the types with room: used-up and unreadable ones are left out. */
static void test_mdev_capacity_skips_full_types(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_igpu(model);

	function_add_mdev_type(gpu, "i915-GVTg_V5_1", -1, 0);
	function_add_mdev_type(gpu, "i915-GVTg_V5_2", 0, 2);
	function_add_mdev_type(gpu, "i915-GVTg_V5_4", 1, 1);
	function_add_mdev_type(gpu, "i915-GVTg_V5_8", 0, 0);
	function_add_mdev_type(gpu, "i915-GVTg_V5_16", 3, 0);
	model_finish(model);

	expect_assessment(model, IGPU, PARTITION_MDEV,
			  (Expected){
				  .available = true,
				  .capacity = "i915-GVTg_V5_4: 1 free, i915-GVTg_V5_16: 3 free",
			  });
}

static void test_mdev_used_up(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_igpu(model);

	function_add_mdev_type(gpu, "i915-GVTg_V5_4", 0, 2);
	function_add_mdev_type(gpu, "i915-GVTg_V5_8", 0, 1);
	function_add_mdev_type(gpu, "i915-GVTg_V5_1", -1, 0);
	model_finish(model);

	expect_assessment(model, IGPU, PARTITION_MDEV,
			  (Expected){ .note = "every mdev type is used up (3 instances exist)" });
}

/* One instance: the sentence stays English. */
static void test_mdev_used_up_by_one(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_igpu(model);

	function_add_mdev_type(gpu, "i915-GVTg_V5_1", 0, 1);
	model_finish(model);

	expect_assessment(model, IGPU, PARTITION_MDEV,
			  (Expected){ .note = "every mdev type is used up (1 instance exists)" });
}

static void test_mdev_intel_gvt_off(void **state)
{
	HostModel *model = model_new();

	add_igpu(model);
	model->facts.i915_enable_gvt = 0;
	assert_int_equal(strv_append(&model->facts.modules_loaded, "kvmgt"), 0);
	model_finish(model);

	expect_assessment(model, IGPU, PARTITION_MDEV,
			  (Expected){ .fixable = true, .note = GVT_OFF_NOTE, .fix = GVT_OFF_FIX });
}

static void test_mdev_intel_no_kvmgt(void **state)
{
	HostModel *model = model_new();

	add_igpu(model);
	model->facts.i915_enable_gvt = 1;
	assert_int_equal(strv_append(&model->facts.modules_loaded, "i915"), 0);
	model_finish(model);

	expect_assessment(model, IGPU, PARTITION_MDEV,
			  (Expected){
				  .fixable = true,
				  .note = "GVT-g is on but the kvmgt module is not loaded",
				  .fix = "modprobe kvmgt (and echo kvmgt > "
					 "/etc/modules-load.d/kvmgt.conf to keep it).",
			  });
}

/* GVT-g on and kvmgt loaded, yet no types: a generation without GVT-g. */
static void test_mdev_intel_new_generation(void **state)
{
	HostModel *model = model_new();

	add_igpu(model);
	model->facts.i915_enable_gvt = 1;
	assert_int_equal(strv_append(&model->facts.modules_loaded, "kvmgt"), 0);
	model_finish(model);

	expect_assessment(model, IGPU, PARTITION_MDEV,
			  (Expected){
				  .note = "i915 offers no GVT-g types for this GPU (generation 10 "
					  "and later have no GVT-g; use SR-IOV)",
			  });
}

/*
 * An Alder Lake iGPU with GVT-g off: the family table knows GVT-g cannot be had
 * there (i915 takes Broadwell..Comet Lake only), so enable_gvt=1 is no fix.
 */
static void test_mdev_intel_gen12_is_not_fixable(void **state)
{
	HostModel *model = model_new();

	add_igpu(model)->device_id = 0x46a6;
	model->facts.i915_enable_gvt = 0;
	model_finish(model);

	expect_assessment(
		model, IGPU, PARTITION_MDEV,
		(Expected){
			.note = "GVT-g covers Intel graphics of the 5th to 9th generation "
				"(Broadwell to Comet Lake) only; this GPU (Intel Gen12 "
				"graphics (Tiger Lake, Alder/Raptor Lake, Alder Lake-N)) "
				"splits with SR-IOV",
		});
}

static void test_mdev_intel_other_driver(void **state)
{
	HostModel *model = model_new();

	model_add_function(model, IGPU, VENDOR_INTEL, CLASS_VGA, "vfio-pci");
	model_add_function(model, "0000:00:03.0", VENDOR_INTEL, CLASS_VGA, NULL);
	model->facts.i915_enable_gvt = 0;
	model_finish(model);

	/* Not fixable by enable_gvt: i915 does not drive it. */
	expect_assessment(model, IGPU, PARTITION_MDEV,
			  (Expected){ .note = "GVT-g needs the i915 driver, and this GPU is driven "
					      "by vfio-pci" });
	expect_assessment(model, "0000:00:03.0", PARTITION_MDEV,
			  (Expected){ .note = "GVT-g needs the i915 driver, and this GPU is driven "
					      "by no driver" });
}

static void test_mdev_nvidia(void **state)
{
	HostModel *model = model_new();
	PciFunction *with_types;

	model_add_function(model, DGPU, VENDOR_NVIDIA, CLASS_VGA, "nvidia");
	with_types = model_add_function(model, "0000:02:00.0", VENDOR_NVIDIA, CLASS_3D, "nvidia");
	function_add_mdev_type(with_types, "nvidia-63", 1, 0);
	model_finish(model);

	expect_assessment(model, DGPU, PARTITION_MDEV,
			  (Expected){
				  .note = "no vGPU types: they come with NVIDIA's vGPU host driver "
					  "(nvidia-vgpu-mgr, licensed); the standard driver offers "
					  "none",
			  });
	expect_assessment(model, "0000:02:00.0", PARTITION_MDEV,
			  (Expected){ .available = true, .capacity = "nvidia-63: 1 free" });
}

static void test_mdev_amd_and_others(void **state)
{
	HostModel *model = model_new();

	model_add_function(model, AMD_PF, VENDOR_AMD, CLASS_VGA, "amdgpu");
	model_add_function(model, "0000:04:00.0", 0x1af4, CLASS_VGA, "virtio-pci");
	model_finish(model);

	expect_assessment(model, AMD_PF, PARTITION_MDEV,
			  (Expected){
				  .note = "AMD GPUs offer no mediated devices; AMD splits "
					  "data-centre GPUs with SR-IOV (MxGPU)",
			  });
	expect_assessment(model, "0000:04:00.0", PARTITION_MDEV,
			  (Expected){ .note = "its driver offers no mediated device types" });
}

static void test_sriov_not_capable(void **state)
{
	HostModel *model = model_new();
	PciFunction *zero;

	add_igpu(model);
	zero = model_add_function(model, DGPU, VENDOR_AMD, CLASS_VGA, "amdgpu");
	function_set_sriov(zero, 0, 0);
	model_finish(model);

	expect_assessment(model, IGPU, PARTITION_SRIOV,
			  (Expected){ .note = "it has no SR-IOV capability" });
	expect_assessment(model, DGPU, PARTITION_SRIOV,
			  (Expected){ .note = "it has no SR-IOV capability" });
}

static void test_sriov_no_vfs_yet(void **state)
{
	HostModel *model = model_new();

	function_set_sriov(model_add_function(model, AMD_PF, VENDOR_INTEL, CLASS_VGA, "i915"), 16,
			   0);
	model_finish(model);

	expect_assessment(model, AMD_PF, PARTITION_SRIOV,
			  (Expected){
				  .available = true,
				  .capacity = "0/16 VFs enabled",
				  .note = "no VFs are enabled yet; libvfio enables them when a "
					  "partition is created",
			  });
}

/* An AMD PF with four VFs: two held by amdgpu, one on vfio-pci, one unbound. */
static HostModel *amd_with_vfs(const char *drivers[4])
{
	HostModel *model = model_new();
	char address[PCI_ADDRESS_TEXT_SIZE];

	function_set_sriov(model_add_function(model, AMD_PF, VENDOR_AMD, CLASS_VGA, "amdgpu"), 16,
			   4);
	for (int i = 0; i < 4; i++) {
		snprintf(address, sizeof(address), "0000:03:02.%d", i);
		model_add_vf(model, AMD_PF, address, VENDOR_AMD, CLASS_VGA, drivers[i]);
	}
	model_finish(model);
	return model;
}

static void test_sriov_some_free(void **state)
{
	HostModel *model = amd_with_vfs((const char *[4]){ "amdgpu", "vfio-pci", NULL, "amdgpu" });

	expect_assessment(model, AMD_PF, PARTITION_SRIOV,
			  (Expected){ .available = true, .capacity = "2/4 VFs free" });
}

static void test_sriov_all_in_use(void **state)
{
	HostModel *model =
		amd_with_vfs((const char *[4]){ "amdgpu", "amdgpu", "amdgpu", "amdgpu" });

	expect_assessment(model, AMD_PF, PARTITION_SRIOV,
			  (Expected){ .note = "all 4 enabled VFs are held by host drivers" });
}

/* A VF is no SR-IOV parent: its note names the PF. */
static void test_sriov_on_a_vf(void **state)
{
	HostModel *model = amd_with_vfs((const char *[4]){ NULL, NULL, NULL, NULL });

	expect_assessment(model, "0000:03:02.1", PARTITION_SRIOV,
			  (Expected){ .note = "it is a virtual function of 0000:03:00.0; pass it "
					      "through whole" });
}

static void test_passthrough_no_group(void **state)
{
	HostModel *model = model_new();
	PciFunction *orphan;

	add_igpu(model);
	/* A group number the model does not have is no better. */
	orphan = model_add_function(model, DGPU, VENDOR_NVIDIA, CLASS_VGA, "nouveau");
	orphan->iommu_group = 7;
	model_add_group(model, 3, ROOT_PORT, NULL);
	model_finish(model);

	expect_assessment(model, IGPU, PARTITION_PASSTHROUGH, (Expected){ .note = NO_IOMMU_NOTE });
	expect_assessment(model, DGPU, PARTITION_PASSTHROUGH, (Expected){ .note = NO_IOMMU_NOTE });
}

/* A discrete card with its audio function behind a root port. */
static HostModel *dgpu_behind_port(const char *gpu_driver, int boot_vga)
{
	HostModel *model = model_new();
	PciFunction *gpu;

	model_add_function(model, ROOT_PORT, VENDOR_INTEL, CLASS_PCI_BRIDGE, "pcieport");
	gpu = model_add_function(model, DGPU, VENDOR_NVIDIA, CLASS_VGA, gpu_driver);
	gpu->boot_vga = boot_vga;
	model_add_function(model, DGPU_AUDIO, VENDOR_NVIDIA, CLASS_AUDIO, "snd_hda_intel");
	return model;
}

static void test_passthrough_foreign_member(void **state)
{
	HostModel *model = dgpu_behind_port("vfio-pci", 0);

	function_set_device_name(
		model_add_function(model, "0000:02:00.0", VENDOR_INTEL, CLASS_ETHERNET, "igb"),
		"I210 Gigabit Network Connection");
	/* 0000:02:00.1 is in the group but not in the model: known by address only. */
	model_add_group(model, 1, ROOT_PORT, DGPU, DGPU_AUDIO, "0000:02:00.0", "0000:02:00.1",
			NULL);
	model_finish(model);

	expect_assessment(model, DGPU, PARTITION_PASSTHROUGH,
			  (Expected){
				  .note = "IOMMU group 1 also holds 0000:02:00.0 (I210 Gigabit "
					  "Network Connection), 0000:02:00.1, which would go to "
					  "the VM with it; put the card in another slot",
			  });
}

static void test_passthrough_whole_card(void **state)
{
	HostModel *model = dgpu_behind_port("vfio-pci", 0);

	model_add_group(model, 1, ROOT_PORT, DGPU, DGPU_AUDIO, NULL);
	model_finish(model);

	expect_assessment(
		model, DGPU, PARTITION_PASSTHROUGH,
		(Expected){ .available = true, .capacity = "the whole GPU (2 functions)" });
}

static void test_passthrough_one_function(void **state)
{
	HostModel *model = model_new();

	add_igpu(model);
	model_add_group(model, 0, IGPU, NULL);
	model_finish(model);

	expect_assessment(model, IGPU, PARTITION_PASSTHROUGH,
			  (Expected){
				  .available = true,
				  .capacity = "the whole GPU (1 function)",
				  .note = "its driver i915 is unbound while a VM holds it, and "
					  "restored afterwards",
			  });
}

static void test_passthrough_boot_vga(void **state)
{
	HostModel *model = dgpu_behind_port("nvidia", 1);

	model_add_group(model, 1, ROOT_PORT, DGPU, DGPU_AUDIO, NULL);
	model_finish(model);

	/* The boot display is the note that matters most; it wins over the driver's. */
	expect_assessment(
		model, DGPU, PARTITION_PASSTHROUGH,
		(Expected){
			.available = true,
			.capacity = "the whole GPU (2 functions)",
			.note = "it is the boot display: the host loses this screen while "
				"a VM holds the GPU",
		});
}

static void test_passthrough_driver_in_use(void **state)
{
	HostModel *model = dgpu_behind_port("nvidia", 0);

	model_add_group(model, 1, ROOT_PORT, DGPU, DGPU_AUDIO, NULL);
	model_finish(model);

	expect_assessment(model, DGPU, PARTITION_PASSTHROUGH,
			  (Expected){
				  .available = true,
				  .capacity = "the whole GPU (2 functions)",
				  .note = "its driver nvidia is unbound while a VM holds it, and "
					  "restored afterwards",
			  });
}

/* Three modes at once, and done leaves each assessment empty and reusable. */
static void test_all_modes_and_done(void **state)
{
	HostModel *model = model_new();
	PciFunction *gpu = add_igpu(model);

	function_add_mdev_type(gpu, "i915-GVTg_V5_4", 1, 0);
	model_add_group(model, 0, IGPU, NULL);
	model_finish(model);

	assert_int_equal(gpu_assess_modes(model, model_function(model, IGPU), assessed), 0);
	expect_mode(&assessed[PARTITION_MDEV], PARTITION_MDEV,
		    (Expected){ .available = true, .capacity = "i915-GVTg_V5_4: 1 free" });
	expect_mode(&assessed[PARTITION_SRIOV], PARTITION_SRIOV,
		    (Expected){ .note = "it has no SR-IOV capability" });
	expect_mode(&assessed[PARTITION_PASSTHROUGH], PARTITION_PASSTHROUGH,
		    (Expected){
			    .available = true,
			    .capacity = "the whole GPU (1 function)",
			    .note = "its driver i915 is unbound while a VM holds it, and restored "
				    "afterwards",
		    });

	mode_assessments_done(assessed);
	for (int m = 0; m < _PARTITION_MODE_MAX; m++)
		expect_mode(&assessed[m], (PartitionModeKind)m, (Expected){ 0 });
	mode_assessments_done(assessed);
}

int main(void)
{
#define MODEL_TEST(f) cmocka_unit_test_teardown(f, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mode_names),
		cmocka_unit_test(test_vf_is_in_use),
		MODEL_TEST(test_mdev_intel_types),
		MODEL_TEST(test_mdev_capacity_skips_full_types),
		MODEL_TEST(test_mdev_used_up),
		MODEL_TEST(test_mdev_used_up_by_one),
		MODEL_TEST(test_mdev_intel_gvt_off),
		MODEL_TEST(test_mdev_intel_no_kvmgt),
		MODEL_TEST(test_mdev_intel_new_generation),
		MODEL_TEST(test_mdev_intel_gen12_is_not_fixable),
		MODEL_TEST(test_mdev_intel_other_driver),
		MODEL_TEST(test_mdev_nvidia),
		MODEL_TEST(test_mdev_amd_and_others),
		MODEL_TEST(test_sriov_not_capable),
		MODEL_TEST(test_sriov_no_vfs_yet),
		MODEL_TEST(test_sriov_some_free),
		MODEL_TEST(test_sriov_all_in_use),
		MODEL_TEST(test_sriov_on_a_vf),
		MODEL_TEST(test_passthrough_no_group),
		MODEL_TEST(test_passthrough_foreign_member),
		MODEL_TEST(test_passthrough_whole_card),
		MODEL_TEST(test_passthrough_one_function),
		MODEL_TEST(test_passthrough_boot_vga),
		MODEL_TEST(test_passthrough_driver_in_use),
		MODEL_TEST(test_all_modes_and_done),
	};
#undef MODEL_TEST

	return cmocka_run_group_tests_name("gpu_modes", tests, NULL, NULL);
}
