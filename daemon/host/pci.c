/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * PCI functions: IDs, class, NUMA node, IOMMU group and driver read from each
 * function's sysfs directory, through a descriptor of it; names from pci.ids
 * (pci_ids.h), where libpci says it is, and through libpci when it is
 * compressed: the one thing libpci is used for.
 *
 * libpci treats an unreadable pci.ids as fatal (its error callback must not
 * return): the callback jumps back to the lookup, and the name stays unknown.
 */
#include <errno.h>
#include <fcntl.h>
#include <pci/pci.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "array.h"
#include "base/parallel.h"
#include "host/host_internal.h"
#include "host/pci_ids.h"
#include "macro.h"
#include "strv.h"

/* Devices beyond this count are damage (a real host has a few thousand at most). */
#define PCI_MAX_FUNCTIONS 16384

/* A name looked up once: libpci's copy of pci.ids (2 MiB) is not kept for it. */
typedef struct PciName {
	int kind; /* PCI_LOOKUP_VENDOR or PCI_LOOKUP_DEVICE */
	uint16_t vendor, device;
	char *name; /* NULL: pci.ids has none */
} PciName;

struct PciNames {
	struct pci_access *access;
	/* Discoveries may run at once (a refresh asked for during a background one). */
	pthread_mutex_t lock;
	/* The names of the devices seen so far; pci.ids is read again only for a new one. */
	PciName *known;
	size_t n_known, allocated;
	bool list_loaded; /* libpci holds pci.ids now: freed once the lookups are done */
	PciIds ids; /* pci.ids as text, during one discovery's lookups */
	bool ids_unreadable; /* no plain pci.ids: libpci looks (a .gz, or no names) */
};

/* Where libpci's error callback returns to, and what it said (per thread). */
static __thread jmp_buf *libpci_escape;
static __thread char libpci_message[256];

_printf_(1, 2) __attribute__((noreturn)) static void libpci_error(char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	vsnprintf(libpci_message, sizeof(libpci_message), format, ap);
	va_end(ap);
	if (libpci_escape)
		longjmp(*libpci_escape, 1);
	abort(); /* outside a guarded call: cannot happen */
}

_printf_(1, 2) static void libpci_quiet(char *format, ...)
{
}

static struct pci_access *access_new(void)
{
	struct pci_access *access = pci_alloc();
	if (!access)
		return NULL;
	access->error = libpci_error;
	access->warning = libpci_quiet;
	access->debug = libpci_quiet;
	return access;
}

int pci_names_new(PciNames **ret)
{
	PciNames *names = calloc(1, sizeof(*names));
	if (!names)
		return -ENOMEM;
	names->access = access_new();
	if (!names->access) {
		free(names);
		return -ENOMEM;
	}
	/* Only the ID database is used; no bus access. */
	names->access->method = PCI_ACCESS_DUMP;
	pthread_mutex_init(&names->lock, NULL);
	*ret = names;
	return 0;
}

PciNames *pci_names_free(PciNames *names)
{
	if (!names)
		return NULL;
	pci_cleanup(names->access);
	pthread_mutex_destroy(&names->lock);
	for (size_t i = 0; i < names->n_known; i++)
		free(names->known[i].name);
	free(names->known);
	free(names);
	return NULL;
}

/* pci.ids' name for one ID, through libpci (which loads the whole file). */
static char *libpci_lookup(PciNames *names, int kind, unsigned vendor, unsigned device)
{
	char buf[256];
	jmp_buf escape;

	libpci_escape = &escape;
	if (setjmp(escape)) {
		libpci_escape = NULL;
		return NULL; /* an unreadable pci.ids: no names, no failure */
	}
	names->list_loaded = true;
	const char *name =
		pci_lookup_name(names->access, buf, sizeof(buf),
				kind | PCI_LOOKUP_NO_NUMBERS | PCI_LOOKUP_NO_HWDB, vendor, device);
	libpci_escape = NULL;
	return name ? strdup(name) : NULL;
}

/* The name from pci.ids read as text: false when there is no plain pci.ids to read. */
static bool text_lookup(PciNames *names, int kind, uint16_t vendor, uint16_t device,
			char **ret_name)
{
	if (!names->ids.text && !names->ids_unreadable) {
		const char *path = names->access->id_file_name;
		names->ids_unreadable = !path || pci_ids_read(path, &names->ids) < 0;
	}
	if (names->ids_unreadable)
		return false;
	*ret_name = pci_ids_name(&names->ids, vendor, kind == PCI_LOOKUP_DEVICE ? (int)device : -1);
	return true;
}

/* A copy of the name (NULL: none), from what is known, else from pci.ids. names->lock held. */
static char *lookup(PciNames *names, int kind, uint16_t vendor, uint16_t device)
{
	if (!names)
		return NULL;
	for (size_t i = 0; i < names->n_known; i++) {
		const PciName *k = &names->known[i];
		if (k->kind == kind && k->vendor == vendor && k->device == device)
			return k->name ? strdup(k->name) : NULL;
	}
	char *name;
	if (!text_lookup(names, kind, vendor, device, &name))
		name = libpci_lookup(names, kind, vendor, device);
	if (ARRAY_RESERVE(names->known, names->allocated, names->n_known + 1) >= 0) {
		char *kept = name ? strdup(name) : NULL;
		if (!name || kept)
			names->known[names->n_known++] = (PciName){
				.kind = kind, .vendor = vendor, .device = device, .name = kept
			};
	}
	return name;
}

/*
 * A 16-bit ID attribute read the way libpci reads it (strtol, base 16): what
 * is not a number becomes 0, so the output is the same as when libpci read
 * them. One open and one read, no fstat (two of the twenty system calls a
 * function costs): a directory fails the read (-EISDIR), and a FIFO, opened
 * without blocking, gives nothing, like an empty file (-EBADF).
 */
static int read_id(int dir, const char *name, uint16_t *ret)
{
	_cleanup_close_ int fd = openat(dir, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	char text[16];

	if (fd < 0)
		return negative_errno();
	ssize_t n = read(fd, text, sizeof(text) - 1);
	if (n < 0)
		return errno == EAGAIN ? -EBADF : negative_errno();
	if (n == 0)
		return -EBADF;
	text[n] = '\0';
	*ret = (uint16_t)strtol(text, NULL, 16);
	return 0;
}

/*
 * The IDs, read relative to the device's directory (libpci would open them
 * by absolute path, a path walk of a dozen components each, which was a
 * quarter of a discovery on a large host). -ENOMEM only.
 */
static int read_ids(int dir, PciFunction *f)
{
	static const char *const names[] = { "vendor", "device" };
	uint16_t ids[2] = { 0, 0 };

	for (size_t i = 0; i < ELEMENTSOF(names); i++) {
		int r = read_id(dir, names[i], &ids[i]);
		if (r == -ENOENT || r == -ELOOP || r == -EBADF || r == -EISDIR)
			return strv_appendf(&f->warnings,
					    "its \"%s\" attribute is missing or not a file, so its "
					    "IDs and class are unknown",
					    names[i]);
		if (r < 0)
			return strv_appendf(&f->warnings, "its \"%s\" attribute cannot be read: %s",
					    names[i], strerror(-r));
	}
	/* No device has vendor 0 or ffff. */
	if (ids[0] == 0 || ids[0] == 0xffff)
		return strv_appendf(&f->warnings, "its vendor ID is unreadable, so its IDs and "
						  "class are unknown");
	f->vendor_id = ids[0];
	f->device_id = ids[1];
	f->readable = true;
	return 0;
}

/* The IOMMU group and the driver: the last component of their links. */
static void read_links(int dir, PciFunction *f)
{
	_cleanup_free_ char *group = NULL;

	if (sysfs_read_link_name_at(dir, "iommu_group", &group) == 0) {
		char *end;
		long id = strtol(group, &end, 10);
		if (*end || end == group || id < 0 || id > INT32_MAX)
			(void)strv_appendf(&f->warnings,
					   "its IOMMU group \"%.32s\" is not a number", group);
		else
			f->iommu_group = (int)id;
	}
	(void)sysfs_read_link_name_at(dir, "driver", &f->driver);
}

/*
 * The NUMA node, read here rather than by libpci, which turns garbage into
 * node 0. -1 (and a missing file) means the platform does not say.
 */
static void read_numa_node(int dir, PciFunction *f)
{
	int64_t value;
	int r = sysfs_read_int_at(dir, "numa_node", &value);
	if (r == -ENOENT)
		return;
	if (r < 0 || value < -1 || value > 1023)
		(void)strv_append(&f->warnings, "its numa_node is unreadable");
	else
		f->numa_node = (int)value;
}

/* The full 24-bit class (libpci keeps only 16 bits). False when unreadable. */
static bool read_class(int dir, PciFunction *f)
{
	int64_t value;
	if (sysfs_read_int_at(dir, "class", &value) < 0 || value < 0 || value > 0xffffff) {
		(void)strv_append(&f->warnings, "its \"class\" attribute is unreadable, so its "
						"class is unknown");
		return false;
	}
	f->class_code = (uint32_t)value;
	return true;
}

typedef struct ScanState {
	const SysfsRoot *root;
	PciFunction *functions;
	size_t n;
	size_t allocated;
	char ***host_warnings;
} ScanState;

static int add_function(const char *name, void *userdata)
{
	ScanState *state = userdata;
	PciAddress address;

	if (pci_address_parse(name, &address) < 0) {
		(void)strv_appendf(
			state->host_warnings,
			"sys/bus/pci/devices holds \"%.64s\", which is not a PCI address", name);
		return 0;
	}
	if (ARRAY_RESERVE(state->functions, state->allocated, state->n + 1) < 0)
		return -ENOMEM;
	PciFunction *f = &state->functions[state->n++];
	*f = (PciFunction){
		.address = address,
		.iommu_group = -1,
		.numa_node = -1,
		.boot_vga = -1,
		.sriov_total_vfs = -1,
		.sriov_autoprobe = -1,
	};
	pci_address_format(&address, f->address_text);
	return 0;
}

static int compare_functions(const void *a, const void *b)
{
	return pci_address_compare(&((const PciFunction *)a)->address,
				   &((const PciFunction *)b)->address);
}

/* Reads one readable function's attributes and hands it to the reader. */
static int read_function(int devices, PciFunction *f, PciFunctionReader each, void *userdata)
{
	_cleanup_close_ int dir =
		openat(devices, f->address_text, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return strv_appendf(&f->warnings, "its sysfs directory cannot be opened: %s",
				    strerror(errno));
	int r = read_ids(dir, f);
	if (r < 0 || !f->readable)
		return r;
	if (!read_class(dir, f)) {
		f->readable = false;
		return 0;
	}
	read_links(dir, f);
	r = each(f, dir, userdata);
	/* A VF sits on its PF's node (the kernel places it on the PF's bus): see inherit_nodes().
	 */
	if (r >= 0 && !f->is_vf)
		read_numa_node(dir, f);
	return r;
}

static int compare_address_to_function(const void *key, const void *element)
{
	return pci_address_compare(key, &((const PciFunction *)element)->address);
}

/* Gives each VF its physical function's NUMA node, once every function is read. */
static void inherit_nodes(PciFunction *functions, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		PciFunction *f = &functions[i];
		if (!f->is_vf)
			continue;
		const PciFunction *pf = bsearch(&f->physfn, functions, n, sizeof(PciFunction),
						compare_address_to_function);
		if (pf)
			f->numa_node = pf->numa_node;
	}
}

/* The functions to read, shared out to threads (parallel.h). */
typedef struct ReadAll {
	const SysfsRoot *root;
	PciFunction *functions;
	PciFunctionReader each;
	void *userdata;
} ReadAll;

static int read_range(size_t begin, size_t end, void *userdata)
{
	ReadAll *all = userdata;
	int r = 0;

	/* Each device directory is opened relative to this one: a shorter path to resolve. */
	_cleanup_close_ int devices = sysfs_open_dir(all->root, "sys/bus/pci/devices");
	for (size_t i = begin; i < end && r >= 0; i++)
		r = read_function(devices, &all->functions[i], all->each, all->userdata);
	return r;
}

/*
 * Reading is almost all system calls, each function independent of the
 * others: on a host with thousands of VFs, one thread per CPU (up to four)
 * cuts a discovery by as much.
 */
static int read_all(const SysfsRoot *root, PciFunction *functions, size_t n, PciFunctionReader each,
		    void *userdata)
{
	ReadAll all = { root, functions, each, userdata };
	return parallel_ranges(n, 256, read_range, &all);
}

int pci_read_functions(const SysfsRoot *root, PciNames *names, PciFunctionReader each,
		       void *userdata, PciFunction **ret, size_t *ret_n, char ***host_warnings)
{
	ScanState state = { .root = root, .host_warnings = host_warnings };

	int r = sysfs_list_dir(root, "sys/bus/pci/devices", PCI_MAX_FUNCTIONS, add_function,
			       &state);
	if (r == -ENOENT)
		(void)strv_append(host_warnings, "There is no sys/bus/pci/devices: no PCI bus to "
						 "read.");
	else if (r == -ENOMEM) {
		pci_functions_free(state.functions, state.n);
		return r;
	} else if (r < 0)
		(void)strv_appendf(host_warnings, "Cannot list sys/bus/pci/devices: %s",
				   strerror(-r));
	if (state.n > 0) /* qsort's base must not be NULL, even for no elements */
		qsort(state.functions, state.n, sizeof(PciFunction), compare_functions);

	r = read_all(root, state.functions, state.n, each, userdata);
	inherit_nodes(state.functions, state.n);
	/* pci.ids lookups share one handle: after the threads, here, one discovery at a time. */
	if (names)
		pthread_mutex_lock(&names->lock);
	for (size_t i = 0; r >= 0 && i < state.n; i++) {
		PciFunction *f = &state.functions[i];
		if (!f->readable)
			continue;
		f->vendor_name = lookup(names, PCI_LOOKUP_VENDOR, f->vendor_id, 0);
		f->device_name = lookup(names, PCI_LOOKUP_DEVICE, f->vendor_id, f->device_id);
	}
	if (names && names->list_loaded) {
		pci_free_name_list(names->access);
		names->list_loaded = false;
	}
	if (names) {
		pci_ids_done(&names->ids);
		names->ids_unreadable = false;
	}
	if (names)
		pthread_mutex_unlock(&names->lock);
	if (r < 0) {
		pci_functions_free(state.functions, state.n);
		return r;
	}
	*ret = state.functions;
	*ret_n = state.n;
	return 0;
}
