/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "partitions/alloc.h"

#include <stdio.h>
#include <string.h>

#include "host/mdev_profile.h"
#include "macro.h"
#include "string_table.h"
#include "strv.h"

static const char *const alloc_error_table[_ALLOC_ERROR_MAX] = {
	[ALLOC_OK] = "ok",
	[ALLOC_NO_SUCH_GPU] = "no-such-gpu",
	[ALLOC_NOT_A_GPU] = "not-a-gpu",
	[ALLOC_NO_MATCHING_GPU] = "no-matching-gpu",
	[ALLOC_MODE_UNSUPPORTED] = "mode-unsupported",
	[ALLOC_UNKNOWN_TYPE] = "unknown-type",
	[ALLOC_NO_SUCH_TYPE] = "no-such-type",
	[ALLOC_NONE_FREE] = "none-free",
	[ALLOC_BOOT_VGA] = "boot-vga",
	[ALLOC_NOT_ISOLATED] = "not-isolated",
	[ALLOC_HELD] = "held",
	[ALLOC_DEVICE_IN_USE] = "device-in-use",
};

DEFINE_STRING_TABLE_LOOKUP(alloc_error, AllocError)

/* Appends "ID (NAME) on PARENT" for each type; false once `buf` is full. */
static bool append_types(char *buf, size_t size, size_t *used, const char *parent,
			 const MdevType *types, size_t n_types)
{
	for (size_t t = 0; t < n_types; t++) {
		const char *name = types[t].name;
		if (name && strcmp(name, types[t].id) == 0)
			name = NULL; /* "mbochs-small", not "mbochs-small (mbochs-small)" */
		int w = snprintf(buf + *used, size - *used, "%s%s%s%s%s on %s", *used ? ", " : "",
				 types[t].id, name ? " (" : "", name ? name : "", name ? ")" : "",
				 parent);
		if (w < 0 || (size_t)w >= size - *used - 5) {
			buf[*used] = '\0';
			return false;
		}
		*used += (size_t)w;
	}
	return true;
}

/*
 * "mbochs-small on mbochs, mtty-1 (Single port serial) on mtty, ...": every mdev type on the host,
 * for a type nobody offers; cut short with "..." when they do not fit.
 */
static void list_types(const HostModel *model, char *buf, size_t size)
{
	size_t used = 0;
	bool fits = true;

	buf[0] = '\0';
	for (size_t i = 0; fits && i < model->n_functions; i++)
		fits = append_types(buf, size, &used, model->functions[i].address_text,
				    model->functions[i].mdev_types,
				    model->functions[i].n_mdev_types);
	for (size_t i = 0; fits && i < model->n_mdev_parents; i++)
		fits = append_types(buf, size, &used, model->mdev_parents[i].name,
				    model->mdev_parents[i].mdev_types,
				    model->mdev_parents[i].n_mdev_types);
	if (!fits)
		snprintf(buf + used, size - used, "%s...", used ? ", " : "");
}

void alloc_error_sentence(AllocError error, const HostModel *model, const char *address,
			  bool is_address, char *buf, size_t size)
{
	switch (error) {
	case ALLOC_NO_SUCH_GPU:
		if (is_address)
			snprintf(buf, size,
				 "There is no PCI device at %s; 'vfioctl gpus' lists the GPUs.",
				 address);
		else
			snprintf(buf, size,
				 "There is no mdev parent named %s; 'vfioctl gpus' lists the GPUs "
				 "and mdev parents.",
				 address);
		break;
	case ALLOC_NOT_A_GPU:
		snprintf(buf, size, "%s is not a GPU; 'vfioctl gpus' lists the GPUs.", address);
		break;
	case ALLOC_NO_MATCHING_GPU:
		snprintf(buf, size, "No GPU matches the request; 'vfioctl gpus' lists the GPUs.");
		break;
	case ALLOC_NO_SUCH_TYPE: {
		char types[320];
		list_types(model, types, sizeof(types));
		if (types[0])
			snprintf(
				buf, size,
				"No GPU or mdev parent on this host offers an mdev type of that id "
				"or name. The types there are: %s.",
				types);
		else
			snprintf(buf, size,
				 "The mdev type is unknown: no GPU or mdev parent on this host "
				 "offers "
				 "any mdev type ('vfioctl check' says why).");
		break;
	}
	case ALLOC_MODE_UNSUPPORTED:
		snprintf(buf, size, "%s does not offer this mode; 'vfioctl check' says why.",
			 address);
		break;
	case ALLOC_UNKNOWN_TYPE:
		snprintf(buf, size,
			 "%s has no mdev or vGPU type of that id or name, or none that meets "
			 "the constraints; 'vfioctl gpu %s' lists the types it can take now.",
			 address, address);
		break;
	case ALLOC_NONE_FREE:
		snprintf(buf, size,
			 "Everything %s offers in this mode is taken; destroy a partition or "
			 "choose another GPU.",
			 address);
		break;
	case ALLOC_BOOT_VGA:
		snprintf(buf, size,
			 "%s is the boot display: passing it through takes the host's screen. "
			 "Add --force (force: true) to do it anyway.",
			 address);
		break;
	case ALLOC_NOT_ISOLATED:
		snprintf(buf, size,
			 "%s shares its IOMMU group with other devices; 'vfioctl gpu %s' names "
			 "them.",
			 address, address);
		break;
	case ALLOC_HELD:
		snprintf(buf, size,
			 "%s is in use: handed out whole, or in parts (mdevs, VFs); destroy those "
			 "partitions first.",
			 address);
		break;
	case ALLOC_DEVICE_IN_USE:
		snprintf(buf, size,
			 "A program on the host has %s open; close it, or add --force (force: "
			 "true).",
			 address);
		break;
	default:
		snprintf(buf, size, "No partition fits the request.");
		break;
	}
}

/*
 * When no GPU fits, the reason that tells the user most: "all taken" says
 * more than "no such type", which says more than "not offered".
 */
static int error_rank(AllocError error)
{
	switch (error) {
	case ALLOC_NONE_FREE:
		return 6;
	case ALLOC_BOOT_VGA:
		return 5;
	case ALLOC_HELD:
		return 4;
	case ALLOC_NOT_ISOLATED:
		return 3;
	case ALLOC_UNKNOWN_TYPE:
		return 2;
	case ALLOC_MODE_UNSUPPORTED:
		return 1;
	default:
		return 0;
	}
}

/* Is this device (a VF, or a GPU whole) held, in whatever mode? An mdev holds no device. */
static bool is_held(const HeldPartition *held, size_t n_held, const PciAddress *device)
{
	for (size_t i = 0; i < n_held; i++)
		if (held[i].mode != PARTITION_MDEV && !held[i].parent_name &&
		    pci_address_compare(&held[i].device, device) == 0)
			return true;
	return false;
}

/* How busy a GPU is: its partitions in use, whoever made them. */
static size_t gpu_load(const HostModel *model, const HeldPartition *held, size_t n_held,
		       const PciFunction *gpu)
{
	size_t load = 0;

	for (size_t i = 0; i < gpu->n_mdev_types; i++)
		load += strv_length(gpu->mdev_types[i].instances);
	for (size_t i = 0; i < gpu->n_vfs; i++) {
		const PciFunction *vf = host_find_function(model, &gpu->vfs[i]);
		if ((vf && vf_is_in_use(vf)) || is_held(held, n_held, &gpu->vfs[i]))
			load++;
	}
	for (size_t i = 0; i < n_held; i++)
		if (held[i].mode != PARTITION_SRIOV && !held[i].parent_name &&
		    pci_address_compare(&held[i].parent, &gpu->address) == 0)
			load++;
	return load;
}

/* The same for an mdev parent outside PCI: its instances, and what libvfio makes on it. */
static size_t parent_load(const HeldPartition *held, size_t n_held, const MdevParent *parent)
{
	size_t load = 0;

	for (size_t i = 0; i < parent->n_mdev_types; i++)
		load += strv_length(parent->mdev_types[i].instances);
	for (size_t i = 0; i < n_held; i++)
		if (held[i].parent_name && strcmp(held[i].parent_name, parent->name) == 0)
			load++;
	return load;
}

/* Is the type the one asked for by id or name (any, when none is)? */
static bool type_named(const MdevType *type, const PartitionRequest *request)
{
	return !request->type || strcmp(type->id, request->type) == 0 ||
	       (type->name && strcmp(type->name, request->type) == 0);
}

/* Does the type meet what the request asks of it? */
static bool type_matches(const MdevType *type, const PartitionRequest *request)
{
	if (type->device_api && strcmp(type->device_api, "vfio-pci") != 0)
		return false; /* QEMU uses vfio-pci mdevs */
	if (!type_named(type, request))
		return false;
	if (request->min_framebuffer_mib &&
	    mdev_profile_framebuffer_mib(type) < request->min_framebuffer_mib)
		return false;
	if (request->max_instances) {
		uint64_t max = mdev_profile_max_instances(type);
		if (max == 0)
			max = (uint64_t)MAX(type->available_instances, 0) +
			      strv_length(type->instances);
		if (max > request->max_instances)
			return false;
	}
	return true;
}

/* Of two free types, the better: the larger framebuffer, then bigger slices, then the id. */
static bool type_better(const MdevType *a, const MdevType *b)
{
	uint64_t fa = mdev_profile_framebuffer_mib(a), fb = mdev_profile_framebuffer_mib(b);
	if (fa != fb)
		return fa > fb;
	uint64_t ma = mdev_profile_max_instances(a), mb = mdev_profile_max_instances(b);
	if (ma != mb)
		return ma < mb;
	return strcmp(a->id, b->id) < 0;
}

static AllocError choose_mdev(const MdevType *types, size_t n_types,
			      const PartitionRequest *request, AllocationChoice *choice)
{
	const MdevType *best = NULL;
	bool any = false;

	if (n_types == 0)
		return ALLOC_MODE_UNSUPPORTED;
	for (size_t i = 0; i < n_types; i++) {
		const MdevType *t = &types[i];
		if (!type_matches(t, request))
			continue;
		any = true;
		if (t->available_instances > 0 && (!best || type_better(t, best)))
			best = t;
	}
	if (!any)
		return ALLOC_UNKNOWN_TYPE;
	if (!best)
		return ALLOC_NONE_FREE;
	choice->type = best;
	return ALLOC_OK;
}

/* Does the request name a type, or a type's size? Only mdevs and NVIDIA's VFs have one. */
static bool names_a_type(const PartitionRequest *request)
{
	return request->type || request->min_framebuffer_mib || request->max_instances;
}

/*
 * This free VF, and on a VF of NVIDIA's vGPU host driver the type it takes
 * (nvidia_vgpu.h): the one asked for, or the best it lists, as for mdev. A VF
 * of any other GPU has no type to match.
 */
static AllocError take_vf(const PciFunction *vf, const PartitionRequest *request,
			  AllocationChoice *choice)
{
	AllocError e = ALLOC_OK;

	if (vf->nvidia_vgpu)
		e = choose_mdev(vf->nvidia_vgpu_types, vf->n_nvidia_vgpu_types, request, choice);
	else if (names_a_type(request))
		e = ALLOC_UNKNOWN_TYPE;
	if (e != ALLOC_OK)
		return e == ALLOC_MODE_UNSUPPORTED ? ALLOC_NONE_FREE : e; /* lists none: GPU full */
	choice->gpu = vf->physfn;
	choice->vf = vf->address;
	choice->vf_known = true;
	return ALLOC_OK;
}

static AllocError choose_vf(const HostModel *model, const HeldPartition *held, size_t n_held,
			    const PciFunction *gpu, const PartitionRequest *request,
			    AllocationChoice *choice)
{
	AllocError reason = ALLOC_NONE_FREE;

	if (gpu->is_vf) {
		/* Asked for by address: this very VF. */
		if (vf_is_in_use(gpu) || is_held(held, n_held, &gpu->address))
			return ALLOC_NONE_FREE;
		return take_vf(gpu, request, choice);
	}
	if (gpu->sriov_total_vfs <= 0)
		return ALLOC_MODE_UNSUPPORTED;
	if (gpu->sriov_num_vfs == 0) {
		/* NVIDIA's and AMD's VFs come from their own tools (gpu_modes.c says how). */
		if (!sriov_vfs_made_by_libvfio(gpu))
			return ALLOC_MODE_UNSUPPORTED;
		if (names_a_type(request))
			return ALLOC_UNKNOWN_TYPE;
		unsigned total = (unsigned)gpu->sriov_total_vfs;
		choice->enable_vfs = request->vfs_to_enable && request->vfs_to_enable < total
					     ? request->vfs_to_enable
					     : total;
		return ALLOC_OK;
	}
	for (size_t i = 0; i < gpu->n_vfs; i++) {
		const PciFunction *vf = host_find_function(model, &gpu->vfs[i]);
		if (!vf || vf_is_in_use(vf) || is_held(held, n_held, &vf->address))
			continue;
		AllocError e = take_vf(vf, request, choice);
		if (e == ALLOC_OK)
			return e;
		if (error_rank(e) < error_rank(reason))
			reason = e; /* a VF free, but not with that type */
	}
	return reason;
}

static AllocError choose_whole(const HostModel *model, const HeldPartition *held, size_t n_held,
			       const PciFunction *gpu, const PartitionRequest *request)
{
	ModeAssessment modes[_PARTITION_MODE_MAX];

	if (gpu->iommu_group < 0 || !host_find_group(model, gpu->iommu_group))
		return ALLOC_MODE_UNSUPPORTED;
	/* Held whole, or in parts: its mdevs or VFs are in use. */
	if (is_held(held, n_held, &gpu->address) || gpu_load(model, held, n_held, gpu) > 0)
		return ALLOC_HELD;
	/* The same judgement `vfioctl check` shows: a group shared with other devices. */
	if (gpu_assess_modes(model, gpu, modes) < 0)
		return ALLOC_MODE_UNSUPPORTED;
	bool available = modes[PARTITION_PASSTHROUGH].available;
	mode_assessments_done(modes);
	if (!available)
		return ALLOC_NOT_ISOLATED;
	if (gpu->boot_vga == 1 && !request->force)
		return ALLOC_BOOT_VGA;
	return ALLOC_OK;
}

static AllocError choose_on(const HostModel *model, const HeldPartition *held, size_t n_held,
			    const PciFunction *gpu, const PartitionRequest *request,
			    AllocationChoice *choice)
{
	AllocError e;

	*choice = (AllocationChoice){ .mode = request->mode, .gpu = gpu->address };
	switch (request->mode) {
	case PARTITION_MDEV:
		/* A VF offers mdevs only as an mdev parent itself (NVIDIA before vGPU 17). */
		e = choose_mdev(gpu->mdev_types, gpu->n_mdev_types, request, choice);
		break;
	case PARTITION_SRIOV:
		e = choose_vf(model, held, n_held, gpu, request, choice);
		break;
	case PARTITION_PASSTHROUGH:
		return choose_whole(model, held, n_held, gpu, request);
	default:
		return ALLOC_MODE_UNSUPPORTED;
	}
	/* A GPU held whole offers no mdev and no VF; nor does a VF handed out whole. */
	if (e == ALLOC_OK && (is_held(held, n_held, gpu->is_vf ? &gpu->physfn : &gpu->address) ||
			      (gpu->is_vf && is_held(held, n_held, &gpu->address))))
		return ALLOC_HELD;
	return e;
}

static bool selected(const PciFunction *f, const PartitionRequest *request)
{
	/* VFs are chosen through their PF, but for mdev, a VF that is a parent itself. */
	if (!pci_function_is_gpu(f) ||
	    (f->is_vf && !(request->mode == PARTITION_MDEV && f->mdev_parent)))
		return false;
	if (request->vendor_id && f->vendor_id != request->vendor_id)
		return false;
	return !request->device_id || f->device_id == request->device_id;
}

/* Is candidate a better place than best? The preferred node, then the lighter load. */
static bool place_better(const PciFunction *a, size_t load_a, const PciFunction *b, size_t load_b,
			 int node)
{
	bool a_near = node >= 0 && a->numa_node == node, b_near = node >= 0 && b->numa_node == node;
	if (a_near != b_near)
		return a_near;
	if (load_a != load_b)
		return load_a < load_b;
	return pci_address_compare(&a->address, &b->address) < 0; /* functions come sorted */
}

/* An mdev on a parent outside PCI. */
static AllocError choose_on_parent(const MdevParent *parent, const PartitionRequest *request,
				   AllocationChoice *choice)
{
	*choice = (AllocationChoice){ .mode = request->mode, .parent = parent };
	if (request->mode != PARTITION_MDEV)
		return ALLOC_MODE_UNSUPPORTED;
	return choose_mdev(parent->mdev_types, parent->n_mdev_types, request, choice);
}

static bool types_offer(const MdevType *types, size_t n, const PartitionRequest *request)
{
	for (size_t i = 0; i < n; i++)
		if (type_named(&types[i], request))
			return true;
	return false;
}

/* Does any parent on the host offer a type of the id or name asked for? */
static bool type_exists(const HostModel *model, const PartitionRequest *request)
{
	for (size_t i = 0; i < model->n_functions; i++)
		if (types_offer(model->functions[i].mdev_types, model->functions[i].n_mdev_types,
				request))
			return true;
	for (size_t i = 0; i < model->n_mdev_parents; i++)
		if (types_offer(model->mdev_parents[i].mdev_types,
				model->mdev_parents[i].n_mdev_types, request))
			return true;
	return false;
}

AllocError alloc_choose(const HostModel *model, const HeldPartition *held, size_t n_held,
			const PartitionRequest *request, AllocationChoice *ret,
			AllocSubject *ret_about)
{
	if (request->has_address) {
		const PciFunction *f = host_find_function(model, &request->address);
		if (!f)
			return ALLOC_NO_SUCH_GPU;
		if (!pci_function_is_gpu(f))
			return ALLOC_NOT_A_GPU;
		AllocError e = choose_on(model, held, n_held, f, request, ret);
		if (e != ALLOC_OK)
			*ret_about = (AllocSubject){ .gpu = f->address };
		return e;
	}
	if (request->parent) {
		const MdevParent *parent = host_find_mdev_parent(model, request->parent);
		if (!parent)
			return ALLOC_NO_SUCH_GPU;
		AllocError e = choose_on_parent(parent, request, ret);
		if (e != ALLOC_OK)
			*ret_about = (AllocSubject){ .parent = parent->name };
		return e;
	}
	/* A type no parent offers is unknown, whatever else the host has. */
	if (request->mode == PARTITION_MDEV && request->type && !type_exists(model, request))
		return ALLOC_NO_SUCH_TYPE;

	const PciFunction *best = NULL;
	size_t best_load = 0;
	AllocationChoice choice, best_choice = { 0 };
	AllocError reason = ALLOC_NO_MATCHING_GPU;

	for (size_t i = 0; i < model->n_functions; i++) {
		const PciFunction *f = &model->functions[i];
		if (!selected(f, request))
			continue;
		AllocError e = choose_on(model, held, n_held, f, request, &choice);
		if (e != ALLOC_OK) {
			if (error_rank(e) > error_rank(reason)) {
				reason = e;
				*ret_about = (AllocSubject){ .gpu = f->address };
			}
			continue;
		}
		size_t load = gpu_load(model, held, n_held, f);
		if (!best || place_better(f, load, best, best_load, request->preferred_node)) {
			best = f;
			best_load = load;
			best_choice = choice;
		}
	}
	if (best) {
		*ret = best_choice;
		return ALLOC_OK;
	}

	/*
	 * Parents outside PCI have no vendor and no NUMA node: they come after
	 * every GPU, the least loaded first.
	 */
	const MdevParent *best_parent = NULL;
	for (size_t i = 0;
	     request->mode == PARTITION_MDEV && !request->vendor_id && i < model->n_mdev_parents;
	     i++) {
		const MdevParent *p = &model->mdev_parents[i];
		AllocError e = choose_on_parent(p, request, &choice);
		if (e != ALLOC_OK) {
			if (error_rank(e) > error_rank(reason)) {
				reason = e;
				*ret_about = (AllocSubject){ .parent = p->name };
			}
			continue;
		}
		size_t load = parent_load(held, n_held, p);
		if (!best_parent || load < best_load) {
			best_parent = p;
			best_load = load;
			best_choice = choice;
		}
	}
	if (!best_parent)
		return reason;
	*ret = best_choice;
	return ALLOC_OK;
}
