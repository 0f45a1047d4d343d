/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Tests of the partition plans (partition_plan.c): for each mode, the steps
 * of a creation in order, what each one writes down before its writes, when
 * a creation is complete, and the undo of a record however far it got,
 * including the host as a crash between two writes leaves it.
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

#include "host_builder.h"
#include "macro.h"
#include "partitions/partition_plan.h"
#include "strv.h"

#define UUID "83b8f4f2-509f-382f-3c1e-e6bfe0fa1001"

static PciAddress address(const char *text)
{
	PciAddress a;
	assert_int_equal(pci_address_parse(text, &a), 0);
	return a;
}

static bool same_address(const PciAddress *a, const char *text)
{
	PciAddress b = address(text);
	return pci_address_compare(a, &b) == 0;
}

/* The function at `text` of a finished model, to change as the kernel would. */
static PciFunction *function(HostModel *model, const char *text)
{
	return (PciFunction *)model_function(model, text);
}

static void set_driver(HostModel *model, const char *text, const char *driver)
{
	PciFunction *f = function(model, text);
	free(f->driver);
	f->driver = driver ? strdup(driver) : NULL;
	assert_true(!driver || f->driver);
}

static PartitionRecord new_record(PartitionModeKind mode, const char *gpu)
{
	PartitionRecord record = { .mode = mode };
	snprintf(record.id, sizeof(record.id), "test");
	if (gpu)
		record.gpu = address(gpu);
	return record;
}

/* Appends the planned step to the record, as the engine writes it down, in `state`. */
static RecordStep *record_step(PartitionRecord *record, const RecordStep *step, StepState state)
{
	int i = partition_record_add_step(record, step);
	assert_true(i >= 0);
	assert_int_equal(record->steps[i].state, STEP_STARTED);
	record->steps[i].state = state;
	return &record->steps[i];
}

static int next(const PartitionRecord *record, const HostModel *model,
		const PartitionPlanInput *input, PartitionStepPlan *ret, char message[256])
{
	message[0] = '\0';
	return partition_plan_next_step(record, model, input, ret, message, 256);
}

/* ---- mdev ---- */

static HostModel *gvt_host(void)
{
	HostModel *model = model_new();
	PciFunction *gpu =
		model_add_function(model, "0000:00:02.0", VENDOR_INTEL, CLASS_VGA, "i915");
	(void)function_add_mdev_type(gpu, "i915-GVTg_V5_8", 1, 0);
	(void)function_add_mdev_type(gpu, "i915-GVTg_V5_4", 2, 0);
	model_finish(model);
	return model;
}

static void test_mdev_on_a_pci_parent(void **state)
{
	HostModel *model = gvt_host();
	PartitionRecord record = new_record(PARTITION_MDEV, "0000:00:02.0");
	PartitionPlanInput input = { .type = "i915-GVTg_V5_4", .uuid = UUID };
	PartitionStepPlan plan;
	char message[256];

	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_MDEV_CREATE);
	assert_true(same_address(&plan.step.device, "0000:00:02.0"));
	assert_null(plan.step.parent);
	assert_string_equal(plan.step.uuid, UUID);
	assert_string_equal(plan.step.type, "i915-GVTg_V5_4");
	assert_int_equal(plan.autoprobe_off, -1);
	expect_plan(&plan.writes,
		    "sys/bus/pci/devices/0000:00:02.0/mdev_supported_types/i915-GVTg_V5_4/create",
		    UUID, NULL);

	/* Not made yet: the kernel has no mdev of that UUID. */
	assert_false(partition_step_took_effect(&plan.step, model));
	MdevType *type = &function(model, "0000:00:02.0")->mdev_types[1];
	assert_int_equal(strv_append(&type->instances, UUID), 0);
	assert_true(partition_step_took_effect(&plan.step, model));

	/* One mdev is the whole partition: recorded, nothing comes next. */
	record_step(&record, &plan.step, STEP_DONE);
	assert_int_equal(next(&record, model, &input, &plan, message), 0);
	partition_record_done(&record);
}

static void test_mdev_refusals(void **state)
{
	HostModel *model = gvt_host();
	PartitionRecord record = new_record(PARTITION_MDEV, "0000:00:02.0");
	PartitionPlanInput input = { .type = "i915-GVTg_V5_1", .uuid = UUID };
	PartitionStepPlan plan;
	char message[256];

	/* The type chosen is gone from the GPU. */
	assert_int_equal(next(&record, model, &input, &plan, message), -ENODEV);
	assert_string_equal(message, "The mdev type i915-GVTg_V5_1 of 0000:00:02.0 vanished.");

	/* No UUID could be made: nothing is written with none. */
	input = (PartitionPlanInput){ .type = "i915-GVTg_V5_4" };
	assert_int_equal(next(&record, model, &input, &plan, message), -ENODEV);

	/* A UUID the kernel would refuse is no plan. */
	input.uuid = "not-a-uuid";
	assert_int_equal(next(&record, model, &input, &plan, message), -EINVAL);

	/* The GPU itself is gone. */
	PartitionRecord gone = new_record(PARTITION_MDEV, "0000:09:00.0");
	input.uuid = UUID;
	assert_int_equal(next(&gone, model, &input, &plan, message), -ENODEV);
	assert_string_equal(message,
			    "The GPU 0000:09:00.0 vanished while its partition was being made.");
}

static void add_mdev_parent(HostModel *model, const char *name, const char *type_id)
{
	MdevParent *parent = calloc(1, sizeof(MdevParent));
	MdevType *type = calloc(1, sizeof(MdevType));
	assert_non_null(parent);
	assert_non_null(type);
	*type = (MdevType){ .id = strdup(type_id), .available_instances = 1 };
	*parent = (MdevParent){ .name = strdup(name),
				.path = strdup("devices/virtual/mbochs/mbochs"),
				.mdev_types = type,
				.n_mdev_types = 1 };
	assert_non_null(type->id);
	assert_non_null(parent->name);
	assert_int_equal(model->n_mdev_parents, 0);
	model->mdev_parents = parent;
	model->n_mdev_parents = 1;
}

static void test_mdev_on_a_parent_outside_pci(void **state)
{
	HostModel *model = model_new();
	PartitionRecord record = new_record(PARTITION_MDEV, NULL);
	PartitionPlanInput input = { .type = "mbochs-4", .uuid = UUID };
	PartitionStepPlan plan;
	char message[256];

	record.parent = strdup("mbochs");
	assert_non_null(record.parent);

	/* The parent vanished (its module unloaded) before the first step. */
	assert_int_equal(next(&record, model, &input, &plan, message), -ENODEV);
	assert_string_equal(message, "The mdev parent mbochs vanished while its partition was "
				     "being made.");

	add_mdev_parent(model, "mbochs", "mbochs-4");
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_MDEV_CREATE);
	assert_string_equal(plan.step.parent, "mbochs");
	assert_string_equal(plan.step.uuid, UUID);
	expect_plan(&plan.writes, "sys/class/mdev_bus/mbochs/mdev_supported_types/mbochs-4/create",
		    UUID, NULL);
	assert_false(partition_step_took_effect(&plan.step, model));
	assert_int_equal(strv_append(&model->mdev_parents[0].mdev_types[0].instances, UUID), 0);
	assert_true(partition_step_took_effect(&plan.step, model));

	record_step(&record, &plan.step, STEP_DONE);
	assert_int_equal(next(&record, model, &input, &plan, message), 0);
	/* Complete on record even once the mdev is gone: that is the undo's business. */
	model->mdev_parents[0].mdev_types[0].instances =
		strv_free(model->mdev_parents[0].mdev_types[0].instances);
	assert_int_equal(next(&record, model, &input, &plan, message), 0);
	partition_record_done(&record);
}

/* ---- SR-IOV ---- */

/* An SR-IOV PF at 03:00.0 with 16 VFs possible, `num` of them there (all unbound). */
static HostModel *sriov_host(const char *pf_driver, int num, int autoprobe)
{
	HostModel *model = model_new();
	PciFunction *pf =
		model_add_function(model, "0000:03:00.0", VENDOR_AMD, CLASS_VGA, pf_driver);
	function_set_sriov(pf, 16, num);
	pf->sriov_autoprobe = autoprobe;
	for (int i = 0; i < num; i++) {
		char vf[PCI_ADDRESS_TEXT_SIZE];
		snprintf(vf, sizeof(vf), "0000:03:00.%d", i + 1);
		(void)model_add_vf(model, "0000:03:00.0", vf, VENDOR_AMD, CLASS_VGA, NULL);
	}
	model_finish(model);
	return model;
}

static void test_sriov_enables_vfs_then_binds_one(void **state)
{
	HostModel *model = sriov_host("gim", 0, 1);
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	PartitionPlanInput input = { .vfs_to_enable = 4 };
	PartitionStepPlan plan;
	char message[256];

	/* No VFs: enable them first, autoprobe off so they come up without a host driver. */
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_SRIOV_NUMVFS);
	assert_true(same_address(&plan.step.device, "0000:03:00.0"));
	assert_int_equal(plan.step.value_before, 0);
	assert_int_equal(plan.step.value_after, 4);
	/* The administrator's autoprobe, for the engine to write down before any write. */
	assert_int_equal(plan.autoprobe_off, 1);
	expect_plan(&plan.writes, "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "0",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "4", NULL);
	assert_false(partition_step_took_effect(&plan.step, model));
	record_step(&record, &plan.step, STEP_DONE);

	/* The VFs appeared; the first one another partition holds is passed over. */
	HostModel *after = sriov_host("gim", 4, 0);
	assert_true(partition_step_took_effect(&record.steps[0], after));
	HeldPartition held = { PARTITION_SRIOV, address("0000:03:00.0"), address("0000:03:00.1"),
			       NULL };
	input.held = &held;
	input.n_held = 1;
	assert_int_equal(next(&record, after, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_BIND_VFIO);
	assert_true(same_address(&plan.step.device, "0000:03:00.2"));
	assert_null(plan.step.driver_before); /* a new VF: no driver to give back */
	assert_int_equal(plan.autoprobe_off, -1);
	expect_plan(&plan.writes, "sys/bus/pci/devices/0000:03:00.2/driver_override", "vfio-pci",
		    "sys/bus/pci/drivers_probe", "0000:03:00.2", NULL);
	assert_false(partition_step_took_effect(&plan.step, after));
	record_step(&record, &plan.step, STEP_DONE);
	set_driver(after, "0000:03:00.2", "vfio-pci");
	assert_true(partition_step_took_effect(&record.steps[1], after));

	assert_int_equal(next(&record, after, &input, &plan, message), 0);
	partition_record_done(&record);
}

static void test_sriov_vf_count(void **state)
{
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	PartitionPlanInput input = { 0 };
	PartitionStepPlan plan;
	char message[256];

	/* 0: all the PF supports; more than it supports: all it supports. */
	HostModel *model = sriov_host("gim", 0, 0);
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.value_after, 16);
	/* Autoprobe off already: nothing to write down, and only the count is written. */
	assert_int_equal(plan.autoprobe_off, -1);
	expect_plan(&plan.writes, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "16", NULL);
	input.vfs_to_enable = 99;
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.value_after, 16);

	/* Only the PF's driver can make VFs. */
	HostModel *driverless = sriov_host(NULL, 0, 1);
	assert_int_equal(next(&record, driverless, &input, &plan, message), -ENXIO);
	assert_string_equal(message, "0000:03:00.0 has no driver, and only its driver can create "
				     "VFs: load and bind it first.");
}

static void test_sriov_vf_choice(void **state)
{
	HostModel *model = sriov_host("gim", 2, 0);
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	PartitionPlanInput input = { .vf_known = true, .vf = address("0000:03:00.2") };
	PartitionStepPlan plan;
	char message[256];

	/* VFs there already: no count step, the VF allocation chose is bound. */
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_BIND_VFIO);
	assert_true(same_address(&plan.step.device, "0000:03:00.2"));

	/* The chosen VF vanished (the VFs were recreated meanwhile). */
	input.vf = address("0000:03:00.7");
	assert_int_equal(next(&record, model, &input, &plan, message), -ENODEV);
	assert_string_equal(message, "The VF chosen on 0000:03:00.0 vanished.");

	/* Every VF held, or taken by a host driver: none to choose. */
	HeldPartition held = { PARTITION_SRIOV, address("0000:03:00.0"), address("0000:03:00.1"),
			       NULL };
	set_driver(model, "0000:03:00.2", "amdgpu");
	input = (PartitionPlanInput){ .held = &held, .n_held = 1 };
	assert_int_equal(next(&record, model, &input, &plan, message), -ENOSPC);
	assert_string_equal(message, "No VF of 0000:03:00.0 is free.");

	/* A VF on vfio-pci already: a step to record, and no write. */
	set_driver(model, "0000:03:00.2", "vfio-pci");
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_true(same_address(&plan.step.device, "0000:03:00.2"));
	assert_string_equal(plan.step.driver_before, "vfio-pci");
	assert_int_equal(plan.writes.n_writes, 0);
	partition_record_done(&record);
}

/*
 * An xe PF with two VFs, each with its sriov_admin profile (exec 25 ms, preempt
 * 500 us); a discrete GPU's also with a vram_quota, unprovisioned (0).
 */
static HostModel *xe_host_of(bool discrete)
{
	HostModel *model = sriov_host("xe", 2, 0);
	for (unsigned i = 1; i <= 2; i++) {
		char vf[PCI_ADDRESS_TEXT_SIZE];
		snprintf(vf, sizeof(vf), "0000:03:00.%u", i);
		PciFunction *f = function(model, vf);
		f->xe_vf_index = i;
		f->xe_profile[XE_PROFILE_EXEC_QUANTUM_MS] = 25;
		f->xe_profile[XE_PROFILE_PREEMPT_TIMEOUT_US] = 500;
		f->xe_profile_known[XE_PROFILE_EXEC_QUANTUM_MS] = true;
		f->xe_profile_known[XE_PROFILE_PREEMPT_TIMEOUT_US] = true;
		f->xe_profile_known[XE_PROFILE_VRAM_QUOTA] = discrete;
	}
	return model;
}

static HostModel *xe_host(void)
{
	return xe_host_of(false);
}

static void test_sriov_xe_profile_set_then_bound_then_put_back(void **state)
{
	HostModel *model = xe_host();
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	XeProfile profile = { .set = { true, true }, .value = { 10, 20000 } };
	PartitionPlanInput input = { .vf_known = true,
				     .vf = address("0000:03:00.2"),
				     .profile = &profile };
	PartitionStepPlan plan;
	char message[256];

	/* Each attribute, its value before written down, through the PF's sriov_admin/vf2. */
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_XE_PROFILE);
	assert_true(same_address(&plan.step.device, "0000:03:00.2"));
	assert_string_equal(plan.step.type, "exec_quantum_ms");
	assert_int_equal(plan.step.value_before, 25);
	assert_int_equal(plan.step.value_after, 10);
	expect_plan(&plan.writes,
		    "sys/bus/pci/devices/0000:03:00.0/sriov_admin/vf2/profile/exec_quantum_ms",
		    "10", NULL);
	assert_false(partition_step_took_effect(&plan.step, model));
	record_step(&record, &plan.step, STEP_DONE);
	function(model, "0000:03:00.2")->xe_profile[XE_PROFILE_EXEC_QUANTUM_MS] = 10;
	assert_true(partition_step_took_effect(&record.steps[0], model));

	/* The VF is the recorded one from now on, whatever allocation would choose. */
	input.vf_known = false;
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_string_equal(plan.step.type, "preempt_timeout_us");
	assert_true(same_address(&plan.step.device, "0000:03:00.2"));
	expect_plan(&plan.writes,
		    "sys/bus/pci/devices/0000:03:00.0/sriov_admin/vf2/profile/preempt_timeout_us",
		    "20000", NULL);
	record_step(&record, &plan.step, STEP_DONE);
	function(model, "0000:03:00.2")->xe_profile[XE_PROFILE_PREEMPT_TIMEOUT_US] = 20000;

	/* Then the bind; then it is complete. */
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_BIND_VFIO);
	assert_true(same_address(&plan.step.device, "0000:03:00.2"));
	record_step(&record, &plan.step, STEP_DONE);
	set_driver(model, "0000:03:00.2", "vfio-pci");
	assert_int_equal(next(&record, model, &input, &plan, message), 0);

	/* A VF given a profile is held, bound or not. */
	size_t n_held;
	HeldPartition *held = partition_plan_held(&record, 1, &n_held);
	assert_non_null(held);
	assert_true(n_held >= 1 && same_address(&held[0].device, "0000:03:00.2"));
	free(held);

	/* Undone, each value goes back, also when the VFs are kept for the next partition. */
	SysfsPlan undo;
	assert_int_equal(partition_undo_plan(&record.steps[1], model, true, -1, &undo), 0);
	expect_plan(&undo,
		    "sys/bus/pci/devices/0000:03:00.0/sriov_admin/vf2/profile/preempt_timeout_us",
		    "500", NULL);
	assert_int_equal(partition_undo_plan(&record.steps[0], model, false, -1, &undo), 0);
	expect_plan(&undo,
		    "sys/bus/pci/devices/0000:03:00.0/sriov_admin/vf2/profile/exec_quantum_ms",
		    "25", NULL);
	/* A value already back (a crash after the write): nothing to write. */
	function(model, "0000:03:00.2")->xe_profile[XE_PROFILE_EXEC_QUANTUM_MS] = 25;
	assert_int_equal(partition_undo_plan(&record.steps[0], model, false, -1, &undo), 0);
	assert_int_equal(undo.n_writes, 0);
	partition_record_done(&record);
}

/* A discrete GPU's VF: its VRAM, a u64, before the bind, and back to 0 after. */
static void test_sriov_xe_vram_quota_set_then_put_back(void **state)
{
	HostModel *model = xe_host_of(true);
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	XeProfile profile = { .set = { [XE_PROFILE_VRAM_QUOTA] = true },
			      .value = { [XE_PROFILE_VRAM_QUOTA] = UINT64_C(4) << 30 } };
	PartitionPlanInput input = { .vf_known = true,
				     .vf = address("0000:03:00.1"),
				     .profile = &profile };
	PartitionStepPlan plan;
	char message[256];

	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_XE_PROFILE);
	assert_string_equal(plan.step.type, "vram_quota");
	assert_int_equal(plan.step.value_before, 0);
	assert_true(plan.step.value_after == INT64_C(4294967296));
	expect_plan(&plan.writes,
		    "sys/bus/pci/devices/0000:03:00.0/sriov_admin/vf1/profile/vram_quota",
		    "4294967296", NULL);
	assert_false(partition_step_took_effect(&plan.step, model));
	record_step(&record, &plan.step, STEP_DONE);
	/* The kernel may align the quota up (HW/FW): that took effect too. */
	function(model, "0000:03:00.1")->xe_profile[XE_PROFILE_VRAM_QUOTA] =
		(UINT64_C(4) << 30) + (UINT64_C(2) << 20);
	assert_true(partition_step_took_effect(&record.steps[0], model));
	function(model, "0000:03:00.1")->xe_profile[XE_PROFILE_VRAM_QUOTA] = UINT64_C(4) << 30;
	assert_true(partition_step_took_effect(&record.steps[0], model));

	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_BIND_VFIO);

	SysfsPlan undo;
	assert_int_equal(partition_undo_plan(&record.steps[0], model, true, -1, &undo), 0);
	expect_plan(&undo, "sys/bus/pci/devices/0000:03:00.0/sriov_admin/vf1/profile/vram_quota",
		    "0", NULL);
	partition_record_done(&record);
}

/* An integrated GPU's VFs have a share of GPU time and no VRAM of their own. */
static void test_sriov_xe_vram_quota_on_an_integrated_gpu(void **state)
{
	HostModel *model = xe_host();
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	XeProfile profile = { .set = { true, false, true }, .value = { 10, 0, UINT64_C(1) << 30 } };
	PartitionPlanInput input = { .vf_known = true,
				     .vf = address("0000:03:00.1"),
				     .profile = &profile };
	PartitionStepPlan plan;
	char message[256];

	/* The share of GPU time is set first, then the quota is refused. */
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_string_equal(plan.step.type, "exec_quantum_ms");
	record_step(&record, &plan.step, STEP_DONE);
	assert_int_equal(next(&record, model, &input, &plan, message), -EOPNOTSUPP);
	assert_string_equal(message,
			    "profile: vram-quota: 0000:03:00.1 has no vram_quota in its xe "
			    "profile (only a discrete GPU's VFs have their own VRAM, from Linux "
			    "7.0); remove vram-quota from the VM's gpu profile.");
	partition_record_done(&record);
}

static void test_sriov_xe_profile_on_a_gpu_without_sriov_admin(void **state)
{
	HostModel *model = sriov_host("gim", 2, 0); /* AMD's gim: no xe profile */
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	XeProfile profile = { .set = { true, false }, .value = { 10, 0 } };
	PartitionPlanInput input = { .vf_known = true,
				     .vf = address("0000:03:00.1"),
				     .profile = &profile };
	PartitionStepPlan plan;
	char message[256];

	assert_int_equal(next(&record, model, &input, &plan, message), -EOPNOTSUPP);
	assert_string_equal(message,
			    "profile: 0000:03:00.1 has no xe SR-IOV profile to set (that needs "
			    "Intel's xe driver on the GPU, Linux 6.19 or later); remove profile "
			    "from the VM's gpu entry.");
	/* Nothing asked: the bind as before. */
	profile.set[0] = false;
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_BIND_VFIO);
	partition_record_done(&record);
}

/* An NVIDIA PF with two VFs of vGPU 17 (no mdev): each takes a type through nvidia/. */
#define L4_TYPES "1150 : NVIDIA L4-1Q\n1155 : NVIDIA L4-8Q\n1157 : NVIDIA L4-24Q\n"

static HostModel *vgpu17_host(void)
{
	HostModel *model = sriov_host("nvidia", 2, 1);
	for (unsigned i = 1; i <= 2; i++) {
		char vf[PCI_ADDRESS_TEXT_SIZE];
		snprintf(vf, sizeof(vf), "0000:03:00.%u", i);
		set_driver(model, vf, "nvidia");
		function_set_nvidia_vgpu(function(model, vf), 0, L4_TYPES);
	}
	return model;
}

static void test_sriov_nvidia_vgpu_type_is_the_only_step(void **state)
{
	HostModel *model = vgpu17_host();
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	PartitionPlanInput input = { .vf_known = true,
				     .vf = address("0000:03:00.2"),
				     .type = "1155" };
	PartitionStepPlan plan;
	char message[256];

	/* The type's id to current_vgpu_type, 0 before written down; never a rebind. */
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_NVIDIA_VGPU);
	assert_true(same_address(&plan.step.device, "0000:03:00.2"));
	assert_string_equal(plan.step.type, "1155");
	assert_int_equal(plan.step.value_before, 0);
	assert_int_equal(plan.step.value_after, 1155);
	expect_plan(&plan.writes, "sys/bus/pci/devices/0000:03:00.2/nvidia/current_vgpu_type",
		    "1155", NULL);
	assert_false(partition_step_took_effect(&plan.step, model));
	record_step(&record, &plan.step, STEP_DONE);
	function_set_nvidia_vgpu(function(model, "0000:03:00.2"), 1155, "");
	assert_true(partition_step_took_effect(&record.steps[0], model));
	assert_int_equal(next(&record, model, &input, &plan, message), 0);

	/* The VF is held; released, it goes back to no type (kept VFs too). */
	size_t n_held;
	HeldPartition *held = partition_plan_held(&record, 1, &n_held);
	assert_non_null(held);
	assert_true(n_held == 1 && same_address(&held[0].device, "0000:03:00.2"));
	free(held);
	SysfsPlan undo;
	assert_int_equal(partition_undo_plan(&record.steps[0], model, true, -1, &undo), 0);
	expect_plan(&undo, "sys/bus/pci/devices/0000:03:00.2/nvidia/current_vgpu_type", "0", NULL);
	/* Nothing to undo once it has none (a crash before the write), or another's type. */
	function_set_nvidia_vgpu(function(model, "0000:03:00.2"), 0, L4_TYPES);
	assert_int_equal(partition_undo_plan(&record.steps[0], model, false, -1, &undo), 0);
	assert_int_equal(undo.n_writes, 0);
	function_set_nvidia_vgpu(function(model, "0000:03:00.2"), 1150, "");
	assert_int_equal(partition_undo_plan(&record.steps[0], model, false, -1, &undo), 0);
	assert_int_equal(undo.n_writes, 0);
	partition_record_done(&record);
}

static void test_sriov_nvidia_vgpu_type_gone(void **state)
{
	HostModel *model = vgpu17_host();
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	PartitionPlanInput input = { .vf_known = true,
				     .vf = address("0000:03:00.1"),
				     .type = "1157" };
	PartitionStepPlan plan;
	char message[256];

	/* Another vGPU took the room meanwhile: the VF lists only what still fits. */
	function_set_nvidia_vgpu(function(model, "0000:03:00.1"), 0, "1150 : NVIDIA L4-1Q\n");
	assert_int_equal(next(&record, model, &input, &plan, message), -ENOSPC);
	assert_string_equal(
		message, "0000:03:00.1 can no longer take the vGPU type 1157: the GPU filled up, "
			 "or another type took it; 'vfioctl gpu 0000:03:00.1' lists what it "
			 "can take now.");
	partition_record_done(&record);
}

/* ---- passthrough ---- */

/* An NVIDIA card with its audio function behind a bridge, all in IOMMU group 1. */
static HostModel *passthrough_host(void)
{
	HostModel *model = model_new();
	(void)model_add_function(model, "0000:00:01.0", VENDOR_INTEL, CLASS_PCI_BRIDGE, "pcieport");
	(void)model_add_function(model, "0000:01:00.0", VENDOR_NVIDIA, CLASS_VGA, "nvidia");
	(void)model_add_function(model, "0000:01:00.1", VENDOR_NVIDIA, CLASS_AUDIO,
				 "snd_hda_intel");
	model_add_group(model, 1, "0000:00:01.0", "0000:01:00.0", "0000:01:00.1", NULL);
	model_finish(model);
	return model;
}

static void test_passthrough_binds_the_whole_group(void **state)
{
	HostModel *model = passthrough_host();
	PartitionRecord record = new_record(PARTITION_PASSTHROUGH, "0000:01:00.0");
	PartitionPlanInput input = { 0 };
	PartitionStepPlan plan;
	char message[256];

	/* The GPU: off its driver (written down, to give back), onto vfio-pci. */
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_BIND_VFIO);
	assert_true(same_address(&plan.step.device, "0000:01:00.0"));
	assert_string_equal(plan.step.driver_before, "nvidia");
	expect_plan(&plan.writes, "sys/bus/pci/devices/0000:01:00.0/driver_override", "vfio-pci",
		    "sys/bus/pci/drivers/nvidia/unbind", "0000:01:00.0",
		    "sys/bus/pci/drivers_probe", "0000:01:00.0", NULL);
	record_step(&record, &plan.step, STEP_DONE);
	set_driver(model, "0000:01:00.0", "vfio-pci");

	/* Then its audio function; the bridge stays with the host. */
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_true(same_address(&plan.step.device, "0000:01:00.1"));
	assert_string_equal(plan.step.driver_before, "snd_hda_intel");
	expect_plan(&plan.writes, "sys/bus/pci/devices/0000:01:00.1/driver_override", "vfio-pci",
		    "sys/bus/pci/drivers/snd_hda_intel/unbind", "0000:01:00.1",
		    "sys/bus/pci/drivers_probe", "0000:01:00.1", NULL);
	record_step(&record, &plan.step, STEP_DONE);
	set_driver(model, "0000:01:00.1", "vfio-pci");

	assert_int_equal(next(&record, model, &input, &plan, message), 0);
	assert_int_equal(record.n_steps, 2);
	partition_record_done(&record);
}

/* An RX 580 (1002:67df, in vendor-reset's list) with its audio, alone in group 1. */
static HostModel *polaris_host(const char *reset_method, bool vendor_reset)
{
	HostModel *model = model_new();
	PciFunction *gpu =
		model_add_function(model, "0000:01:00.0", VENDOR_AMD, CLASS_VGA, "amdgpu");
	gpu->device_id = 0x67df;
	gpu->reset_method = reset_method ? strdup(reset_method) : NULL;
	PciFunction *audio =
		model_add_function(model, "0000:01:00.1", VENDOR_AMD, CLASS_AUDIO, "snd_hda_intel");
	audio->device_id = 0xaaf0;
	audio->reset_method = strdup("bus");
	model_add_group(model, 1, "0000:01:00.0", "0000:01:00.1", NULL);
	if (vendor_reset)
		assert_int_equal(strv_append(&model->facts.modules_loaded, "vendor_reset"), 0);
	model_finish(model);
	return model;
}

static void test_passthrough_gives_vendor_resets_reset_first(void **state)
{
	HostModel *model = polaris_host("bus", true);
	PartitionRecord record = new_record(PARTITION_PASSTHROUGH, "0000:01:00.0");
	PartitionPlanInput input = { 0 };
	PartitionStepPlan plan;
	char message[256];

	/* The GPU's reset_method first, what it was written down; then its bind. */
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_RESET_METHOD);
	assert_true(same_address(&plan.step.device, "0000:01:00.0"));
	assert_string_equal(plan.step.override_before, "bus");
	expect_plan(&plan.writes, "sys/bus/pci/devices/0000:01:00.0/reset_method",
		    "device_specific", NULL);
	assert_false(partition_step_took_effect(&plan.step, model));
	RecordStep *reset = record_step(&record, &plan.step, STEP_DONE);
	PciFunction *gpu = function(model, "0000:01:00.0");
	free(gpu->reset_method);
	gpu->reset_method = strdup("device_specific");
	assert_true(partition_step_took_effect(reset, model));

	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_BIND_VFIO);
	assert_true(same_address(&plan.step.device, "0000:01:00.0"));
	record_step(&record, &plan.step, STEP_DONE);
	set_driver(model, "0000:01:00.0", "vfio-pci");
	/* Its audio function is no GPU vendor-reset knows: bound as it is. */
	assert_int_equal(next(&record, model, &input, &plan, message), 1);
	assert_int_equal(plan.step.kind, STEP_BIND_VFIO);
	assert_true(same_address(&plan.step.device, "0000:01:00.1"));

	/* Undone: the methods it had, in their order; nothing when they are back already. */
	SysfsPlan undo;
	assert_int_equal(partition_undo_plan(&record.steps[0], model, false, -1, &undo), 0);
	expect_plan(&undo, "sys/bus/pci/devices/0000:01:00.0/reset_method", "bus", NULL);
	free(gpu->reset_method);
	gpu->reset_method = strdup("bus");
	assert_int_equal(partition_undo_plan(&record.steps[0], model, false, -1, &undo), 0);
	assert_int_equal(undo.n_writes, 0);
	partition_record_done(&record);
}

static void test_passthrough_without_vendor_reset_changes_no_reset(void **state)
{
	PartitionPlanInput input = { 0 };
	PartitionStepPlan plan;
	char message[256];

	/* Not loaded, an older kernel (no reset_method), or device_specific already. */
	HostModel *models[] = { polaris_host("bus", false), polaris_host(NULL, true),
				polaris_host("device_specific", true) };
	for (size_t i = 0; i < ELEMENTSOF(models); i++) {
		PartitionRecord record = new_record(PARTITION_PASSTHROUGH, "0000:01:00.0");
		assert_int_equal(next(&record, models[i], &input, &plan, message), 1);
		assert_int_equal(plan.step.kind, STEP_BIND_VFIO);
		partition_record_done(&record);
	}
}

/* ---- undo ---- */

static void test_undo_order_of_a_partial_record(void **state)
{
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	RecordStep numvfs = { .kind = STEP_SRIOV_NUMVFS,
			      .device = address("0000:03:00.0"),
			      .value_after = 4 };
	RecordStep bind = { .kind = STEP_BIND_VFIO, .device = address("0000:03:00.1") };
	size_t cursor = 0;

	/* Nothing recorded: nothing to undo. */
	assert_int_equal(partition_undo_next(&record, &cursor), -ENOENT);

	/* VFs enabled, a first bind undone already, a second one cut short by a crash. */
	record_step(&record, &numvfs, STEP_DONE);
	record_step(&record, &bind, STEP_UNDONE);
	bind.device = address("0000:03:00.2");
	record_step(&record, &bind, STEP_STARTED);
	cursor = record.n_steps;
	assert_int_equal(partition_undo_next(&record, &cursor), 2);
	assert_int_equal(partition_undo_next(&record, &cursor), 0);
	assert_int_equal(partition_undo_next(&record, &cursor), -ENOENT);
	assert_int_equal(partition_undo_next(&record, &cursor), -ENOENT);

	/* A step that fails to undo is not skipped by a second pass. */
	record.steps[2].state = STEP_UNDONE;
	cursor = record.n_steps;
	assert_int_equal(partition_undo_next(&record, &cursor), 0);
	partition_record_done(&record);
}

static void test_undo_plans(void **state)
{
	HostModel *model = passthrough_host();
	RecordStep bind = { .kind = STEP_BIND_VFIO,
			    .device = address("0000:01:00.0"),
			    .driver_before = (char *)"nvidia" };
	SysfsPlan plan;

	/* Bound: off vfio-pci, the override cleared, its driver probes it again. */
	set_driver(model, "0000:01:00.0", "vfio-pci");
	assert_int_equal(partition_undo_plan(&bind, model, false, -1, &plan), 0);
	expect_plan(&plan, "sys/bus/pci/devices/0000:01:00.0/driver_override", "\n",
		    "sys/bus/pci/drivers/vfio-pci/unbind", "0000:01:00.0",
		    "sys/bus/pci/drivers_probe", "0000:01:00.0", NULL);

	/* A VF that had no driver is left without one. */
	bind.driver_before = NULL;
	assert_int_equal(partition_undo_plan(&bind, model, false, -1, &plan), 0);
	expect_plan(&plan, "sys/bus/pci/devices/0000:01:00.0/driver_override", "\n",
		    "sys/bus/pci/drivers/vfio-pci/unbind", "0000:01:00.0", NULL);

	/* On vfio-pci before libvfio: left there. Gone: nothing to undo. */
	bind.driver_before = (char *)"vfio-pci";
	assert_int_equal(partition_undo_plan(&bind, model, false, -1, &plan), 0);
	assert_int_equal(plan.n_writes, 0);
	bind.driver_before = (char *)"nvidia";
	bind.device = address("0000:09:00.0");
	assert_int_equal(partition_undo_plan(&bind, model, false, -1, &plan), 0);
	assert_int_equal(plan.n_writes, 0);

	/* Kept VFs stay bound and enabled; an mdev is removed all the same. */
	bind.device = address("0000:01:00.0");
	assert_int_equal(partition_undo_plan(&bind, model, true, -1, &plan), 0);
	assert_int_equal(plan.n_writes, 0);

	/* An mdev is removed when it is there, and only then. */
	HostModel *gvt = gvt_host();
	RecordStep mdev = { .kind = STEP_MDEV_CREATE,
			    .device = address("0000:00:02.0"),
			    .uuid = (char *)UUID,
			    .type = (char *)"i915-GVTg_V5_4" };
	assert_int_equal(partition_undo_plan(&mdev, gvt, false, -1, &plan), 0);
	assert_int_equal(plan.n_writes, 0);
	assert_int_equal(strv_append(&function(gvt, "0000:00:02.0")->mdev_types[1].instances, UUID),
			 0);
	assert_int_equal(partition_undo_plan(&mdev, gvt, true, -1, &plan), 0);
	expect_plan(&plan, "sys/bus/mdev/devices/" UUID "/remove", "1", NULL);

	/* VFs: back to none and autoprobe as it was; kept, or the PF gone: nothing. */
	HostModel *sriov = sriov_host("gim", 4, 0);
	RecordStep numvfs = { .kind = STEP_SRIOV_NUMVFS,
			      .device = address("0000:03:00.0"),
			      .value_after = 4 };
	assert_int_equal(partition_undo_plan(&numvfs, sriov, false, 1, &plan), 0);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "0",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "1", NULL);
	assert_int_equal(partition_undo_plan(&numvfs, sriov, false, -1, &plan), 0);
	expect_plan(&plan, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "0", NULL);
	assert_int_equal(partition_undo_plan(&numvfs, sriov, true, 1, &plan), 0);
	assert_int_equal(plan.n_writes, 0);
	numvfs.device = address("0000:04:00.0");
	assert_int_equal(partition_undo_plan(&numvfs, sriov, false, 1, &plan), 0);
	assert_int_equal(plan.n_writes, 0);
}

static void test_undo_autoprobe(void **state)
{
	AutoprobeRecord records[] = { { .pf = address("0000:03:00.0"), .before = true } };
	AutoprobeRecords set = { .records = records, .n_records = 1 };
	AutoprobeRecords none = { 0 };
	RecordStep step = { .kind = STEP_SRIOV_NUMVFS, .device = address("0000:03:00.0") };

	assert_int_equal(partition_undo_autoprobe(&set, &step), 1);
	assert_int_equal(partition_undo_autoprobe(&none, &step), -1);

	/* A record of an older libvfiod kept it in the step; the PF's record wins. */
	step.override_before = (char *)"0";
	assert_int_equal(partition_undo_autoprobe(&set, &step), 1);
	assert_int_equal(partition_undo_autoprobe(&none, &step), 0);
	step.override_before = (char *)"1";
	assert_int_equal(partition_undo_autoprobe(&none, &step), 1);
	step.override_before = (char *)"amdgpu";
	assert_int_equal(partition_undo_autoprobe(&none, &step), -1);
}

/* ---- crash safety: the record alone undoes a crash between any two writes ---- */

static void test_a_crash_inside_a_bind_is_undone(void **state)
{
	HostModel *model = passthrough_host();
	PartitionRecord record = new_record(PARTITION_PASSTHROUGH, "0000:01:00.0");
	PartitionPlanInput input = { 0 };
	PartitionStepPlan next_plan;
	SysfsPlan undo;
	char message[256];

	assert_int_equal(next(&record, model, &input, &next_plan, message), 1);
	/* Written down before the first write: the driver to give back. */
	RecordStep *step = record_step(&record, &next_plan.step, STEP_STARTED);
	assert_string_equal(step->driver_before, "nvidia");
	assert_int_equal(next_plan.writes.n_writes, 3);

	/* Dead before any write, or after the override only: the override goes, no unbind. */
	assert_int_equal(partition_undo_plan(step, model, false, -1, &undo), 0);
	expect_plan(&undo, "sys/bus/pci/devices/0000:01:00.0/driver_override", "\n", NULL);

	/* Dead after the unbind: the device has no driver; its own is probed back. */
	set_driver(model, "0000:01:00.0", NULL);
	assert_false(partition_step_took_effect(step, model));
	assert_int_equal(partition_undo_plan(step, model, false, -1, &undo), 0);
	expect_plan(&undo, "sys/bus/pci/devices/0000:01:00.0/driver_override", "\n",
		    "sys/bus/pci/drivers_probe", "0000:01:00.0", NULL);

	/* Dead after the probe: on vfio-pci, undone in full. */
	set_driver(model, "0000:01:00.0", "vfio-pci");
	assert_true(partition_step_took_effect(step, model));
	assert_int_equal(partition_undo_plan(step, model, false, -1, &undo), 0);
	expect_plan(&undo, "sys/bus/pci/devices/0000:01:00.0/driver_override", "\n",
		    "sys/bus/pci/drivers/vfio-pci/unbind", "0000:01:00.0",
		    "sys/bus/pci/drivers_probe", "0000:01:00.0", NULL);

	/* A restart goes on where the record stops: the step written down is not planned again. */
	assert_int_equal(next(&record, model, &input, &next_plan, message), 1);
	assert_true(same_address(&next_plan.step.device, "0000:01:00.1"));
	partition_record_done(&record);
}

static void test_a_crash_inside_enabling_vfs_is_undone(void **state)
{
	HostModel *model = sriov_host("gim", 0, 1);
	PartitionRecord record = new_record(PARTITION_SRIOV, "0000:03:00.0");
	PartitionPlanInput input = { .vfs_to_enable = 4 };
	PartitionStepPlan next_plan;
	SysfsPlan undo;
	char message[256];

	assert_int_equal(next(&record, model, &input, &next_plan, message), 1);
	/* The first write turns autoprobe off: its value must be on record before it. */
	assert_string_equal(next_plan.writes.writes[0].path,
			    "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe");
	assert_int_equal(next_plan.autoprobe_off, 1);
	AutoprobeRecord written[] = { { .pf = next_plan.step.device,
					.before = next_plan.autoprobe_off } };
	AutoprobeRecords autoprobe = { .records = written, .n_records = 1 };
	RecordStep *step = record_step(&record, &next_plan.step, STEP_STARTED);
	int before = partition_undo_autoprobe(&autoprobe, step);
	assert_int_equal(before, 1);

	/* Dead before any write: nothing changed, nothing to write back. */
	assert_int_equal(partition_undo_plan(step, model, false, before, &undo), 0);
	assert_int_equal(undo.n_writes, 0);

	/* Dead after autoprobe went off: it comes back on. */
	function(model, "0000:03:00.0")->sriov_autoprobe = 0;
	assert_int_equal(partition_undo_plan(step, model, false, before, &undo), 0);
	expect_plan(&undo, "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "1", NULL);

	/* Dead after the VFs appeared: they go, then autoprobe comes back. */
	HostModel *after = sriov_host("gim", 4, 0);
	assert_true(partition_step_took_effect(step, after));
	assert_int_equal(partition_undo_plan(step, after, false, before, &undo), 0);
	expect_plan(&undo, "sys/bus/pci/devices/0000:03:00.0/sriov_numvfs", "0",
		    "sys/bus/pci/devices/0000:03:00.0/sriov_drivers_autoprobe", "1", NULL);
	partition_record_done(&record);
}

static void test_a_crash_around_an_mdev_create_is_undone(void **state)
{
	HostModel *model = gvt_host();
	PartitionRecord record = new_record(PARTITION_MDEV, "0000:00:02.0");
	PartitionPlanInput input = { .type = "i915-GVTg_V5_4", .uuid = UUID };
	PartitionStepPlan next_plan;
	SysfsPlan undo;
	char message[256];

	assert_int_equal(next(&record, model, &input, &next_plan, message), 1);
	/* The UUID is on record before it is written to create. */
	RecordStep *step = record_step(&record, &next_plan.step, STEP_STARTED);
	assert_string_equal(step->uuid, next_plan.writes.writes[0].value);

	/* Dead before the kernel made it: nothing to remove. After: removed by its UUID. */
	assert_int_equal(partition_undo_plan(step, model, false, -1, &undo), 0);
	assert_int_equal(undo.n_writes, 0);
	assert_int_equal(
		strv_append(&function(model, "0000:00:02.0")->mdev_types[1].instances, UUID), 0);
	assert_int_equal(partition_undo_plan(step, model, false, -1, &undo), 0);
	expect_plan(&undo, "sys/bus/mdev/devices/" UUID "/remove", "1", NULL);

	/* And a restart does not make a second one: the step on record completes it. */
	assert_int_equal(next(&record, model, &input, &next_plan, message), 0);
	partition_record_done(&record);
}

/* ---- what allocation must not hand out again ---- */

static void test_held(void **state)
{
	PartitionRecord records[3] = {
		new_record(PARTITION_PASSTHROUGH, "0000:01:00.0"),
		new_record(PARTITION_SRIOV, "0000:03:00.0"),
		new_record(PARTITION_MDEV, NULL),
	};
	RecordStep bind = { .kind = STEP_BIND_VFIO, .device = address("0000:01:00.1") };
	RecordStep numvfs = { .kind = STEP_SRIOV_NUMVFS, .device = address("0000:03:00.0") };
	RecordStep mdev = { .kind = STEP_MDEV_CREATE, .uuid = (char *)UUID };
	size_t n = 0;

	record_step(&records[0], &bind, STEP_DONE); /* the group's audio: not a partition */
	record_step(&records[1], &numvfs, STEP_DONE);
	bind.device = address("0000:03:00.3");
	record_step(&records[1], &bind, STEP_DONE);
	records[2].parent = strdup("mbochs");
	assert_non_null(records[2].parent);
	record_step(&records[2], &mdev, STEP_DONE);

	HeldPartition *held = partition_plan_held(records, ELEMENTSOF(records), &n);
	assert_non_null(held);
	assert_int_equal(n, 3);
	assert_int_equal(held[0].mode, PARTITION_PASSTHROUGH);
	assert_true(same_address(&held[0].device, "0000:01:00.0"));
	assert_int_equal(held[1].mode, PARTITION_SRIOV);
	assert_true(same_address(&held[1].parent, "0000:03:00.0"));
	assert_true(same_address(&held[1].device, "0000:03:00.3"));
	assert_int_equal(held[2].mode, PARTITION_MDEV);
	assert_string_equal(held[2].parent_name, "mbochs");
	free(held);

	held = partition_plan_held(NULL, 0, &n);
	assert_non_null(held);
	assert_int_equal(n, 0);
	free(held);
	for (size_t i = 0; i < ELEMENTSOF(records); i++)
		partition_record_done(&records[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_mdev_on_a_pci_parent, models_teardown),
		cmocka_unit_test_teardown(test_mdev_refusals, models_teardown),
		cmocka_unit_test_teardown(test_mdev_on_a_parent_outside_pci, models_teardown),
		cmocka_unit_test_teardown(test_sriov_enables_vfs_then_binds_one, models_teardown),
		cmocka_unit_test_teardown(test_sriov_vf_count, models_teardown),
		cmocka_unit_test_teardown(test_sriov_vf_choice, models_teardown),
		cmocka_unit_test_teardown(test_sriov_xe_profile_set_then_bound_then_put_back,
					  models_teardown),
		cmocka_unit_test_teardown(test_sriov_nvidia_vgpu_type_is_the_only_step,
					  models_teardown),
		cmocka_unit_test_teardown(test_sriov_nvidia_vgpu_type_gone, models_teardown),
		cmocka_unit_test_teardown(test_sriov_xe_vram_quota_set_then_put_back,
					  models_teardown),
		cmocka_unit_test_teardown(test_sriov_xe_vram_quota_on_an_integrated_gpu,
					  models_teardown),
		cmocka_unit_test_teardown(test_sriov_xe_profile_on_a_gpu_without_sriov_admin,
					  models_teardown),
		cmocka_unit_test_teardown(test_passthrough_binds_the_whole_group, models_teardown),
		cmocka_unit_test_teardown(test_passthrough_gives_vendor_resets_reset_first,
					  models_teardown),
		cmocka_unit_test_teardown(test_passthrough_without_vendor_reset_changes_no_reset,
					  models_teardown),
		cmocka_unit_test(test_undo_order_of_a_partial_record),
		cmocka_unit_test_teardown(test_undo_plans, models_teardown),
		cmocka_unit_test(test_undo_autoprobe),
		cmocka_unit_test_teardown(test_a_crash_inside_a_bind_is_undone, models_teardown),
		cmocka_unit_test_teardown(test_a_crash_inside_enabling_vfs_is_undone,
					  models_teardown),
		cmocka_unit_test_teardown(test_a_crash_around_an_mdev_create_is_undone,
					  models_teardown),
		cmocka_unit_test(test_held),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
