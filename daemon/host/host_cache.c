/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/host_cache.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop_watch.h"
#include "base/worker.h"
#include "host/host_internal.h"
#include "macro.h"
#include "strv.h"
#include "time_util.h"

/*
 * A burst of uevents (31 VFs appearing, a driver rebind) arrives within a few
 * milliseconds: a rebuild waits this long after the first, to read them all
 * at once.
 */
#define HOST_CACHE_SETTLE_USEC 10000

struct HostCacheWait {
	HostModelCallback callback;
	void *userdata;
	uint64_t generation; /* called with a model of this generation or later */
	HostCacheWait *next;
};

/* A rebuild in its thread: what it reads with, and what it made. */
typedef struct HostBuild {
	HostCache *cache;
	HostOptions options; /* a copy: a reload may replace the cache's meanwhile */
	uint64_t generation;
	bool after_change; /* for the log line */
	WorkerJob *job; /* the reading, on a worker thread; NULL once it has returned */
	HostModel *model;
	int result;
	uint64_t usec;
} HostBuild;

struct HostCache {
	sd_event *event;
	SysfsRoot root;
	bool live; /* the root is the running system's: uevents describe it */
	PciNames *names; /* pci.ids, loaded once; lookups lock it */
	HostModel *model;
	HostOptions options; /* from the configuration */
	/*
	 * Every change (uevent, the daemon's own write, a refresh asked for)
	 * makes a new generation; a model is of the generation its reading began
	 * in, and is fresh when that is the latest.
	 */
	uint64_t generation;
	uint64_t model_generation;
	bool changed_by_device; /* a uevent since the model's generation: for the log */
	HostCacheWait *waits;
	HostBuild *build; /* the rebuild running, NULL when none */
	WorkerJob *freeing; /* a model replaced, being freed off the loop */
	sd_event_source *settle_source; /* the timer before a rebuild after uevents */
	sd_event_source *answer_source; /* calls the satisfied waits back (on_answer()) */
	int uevent_fd;
	sd_event_source *uevent_source;
};

static void log_built(const HostModel *model, uint64_t usec, bool after_change)
{
	log_debug("Host model rebuilt%s: %zu PCI functions in %.1f ms",
		  after_change ? " after a device change" : "", model->n_functions,
		  (double)usec / 1000.0);
}

/* Takes `model` of `generation` as the current one, unless a newer one is there already. */
static int free_work(void *data)
{
	host_model_free(data);
	return 0;
}

static void on_freed(int result, void *userdata)
{
	HostCache *cache = userdata;
	cache->freeing = NULL;
}

/*
 * A model no longer current is freed on a worker: tens of thousands of
 * blocks on a host with many VFs and mdev types, 3-4 ms of the loop's time,
 * three times that under load. One at a time; while one is, on the loop.
 */
static void model_dispose(HostCache *cache, HostModel *model)
{
	if (!model)
		return;
	if (!cache->freeing && worker_start(cache->event, "host model, freed", free_work, model,
					    NULL, on_freed, cache, &cache->freeing) >= 0)
		return;
	host_model_free(model);
}

static void publish(HostCache *cache, HostModel *model, uint64_t generation)
{
	if (cache->model && generation < cache->model_generation) {
		model_dispose(cache, model); /* a synchronous refresh overtook it */
		return;
	}
	model_dispose(cache, cache->model);
	cache->model = model;
	cache->model_generation = generation;
}

/* Calls back every wait, with an error: the cache cannot make their model. */
static void fail_waits(HostCache *cache, int result)
{
	while (cache->waits) {
		HostCacheWait *wait = cache->waits;
		cache->waits = wait->next;
		wait->callback(NULL, result, wait->userdata);
		free(wait);
	}
}

/*
 * Calls back one wait the current model satisfies, and comes back for the
 * next in a dispatch of its own: each answer may be a large reply to build
 * (ListGPUs of a host with thousands of VFs), and the loop serves others in
 * between.
 */
static int on_answer(sd_event_source *source, void *userdata)
{
	HostCache *cache = userdata;
	loop_watch_enter(source);
	for (HostCacheWait **link = &cache->waits; *link; link = &(*link)->next) {
		HostCacheWait *wait = *link;
		if (wait->generation > cache->model_generation)
			continue;
		*link = wait->next;
		(void)sd_event_source_set_enabled(source, SD_EVENT_ONESHOT);
		wait->callback(cache->model, 0, wait->userdata);
		free(wait);
		return 0;
	}
	return 0;
}

/* The waits the current model satisfies are called back, one per dispatch. */
static void answer_waits(HostCache *cache, int result)
{
	if (result < 0)
		fail_waits(cache, result);
	else if (cache->waits)
		(void)sd_event_source_set_enabled(cache->answer_source, SD_EVENT_ONESHOT);
}

static bool is_fresh(const HostCache *cache)
{
	return cache->model && cache->model_generation == cache->generation;
}

/* ---- rebuilding in a thread ---- */

/*
 * A reading yields to the loop: on a host of thousands of functions it keeps
 * every CPU busy for tens of milliseconds (its threads inherit this), and at
 * an equal priority a call that came meanwhile, or the client making it,
 * waited a scheduler slice for a CPU (3 ms and more on two cores).
 */
#define BUILD_NICE 5

static int build_work(void *userdata)
{
	HostBuild *build = userdata;
	uint64_t start = now_usec(CLOCK_MONOTONIC);

	/* Linux's nice value is the thread's own (setpriority(2), NOTES). */
	(void)setpriority(PRIO_PROCESS, (id_t)gettid(), BUILD_NICE);

	build->result = host_discover(&build->cache->root, build->cache->names, &build->options,
				      &build->model);
	build->usec = now_usec(CLOCK_MONOTONIC) - start;
	return build->result;
}

static HostBuild *build_free(HostBuild *build)
{
	if (!build)
		return NULL;
	host_model_free(build->model);
	strv_free(build->options.extra_gpus);
	free(build);
	return NULL;
}

static void on_built(int result, void *userdata);

/* Starts a rebuild of the current generation, unless one runs (it is followed by another). */
static int build_start(HostCache *cache)
{
	if (cache->build || is_fresh(cache))
		return 0;
	cache->settle_source = sd_event_source_disable_unref(cache->settle_source);
	HostBuild *build = calloc(1, sizeof(*build));
	if (!build)
		return -ENOMEM;
	*build = (HostBuild){ .cache = cache,
			      .generation = cache->generation,
			      .after_change = cache->changed_by_device };
	for (char **e = cache->options.extra_gpus; e && *e; e++)
		if (strv_append(&build->options.extra_gpus, *e) < 0) {
			build_free(build);
			return -ENOMEM;
		}
	/*
	 * A worker, not a thread joined on the loop: at nice 5 on a busy machine
	 * the thread's own exit waited tens of milliseconds for a CPU, and the
	 * loop with it. Its end is told once its function has returned.
	 */
	int r = worker_start(cache->event, "host model, built", build_work, build, NULL, on_built,
			     cache, &build->job);
	if (r < 0) {
		build_free(build);
		return r;
	}
	cache->changed_by_device = false;
	cache->build = build;
	return 0;
}

/* What the rebuild did not do, a later call or change does: logged, and the waits told. */
static void build_start_or_fail(HostCache *cache)
{
	int r = build_start(cache);
	if (r < 0) {
		log_error_errno(r, "Cannot rebuild the host model");
		answer_waits(cache, r);
	}
}

/* Logs what the host has, once, when the first model is there. */
static void log_host(const HostModel *model)
{
	size_t gpus = 0;
	for (size_t i = 0; i < model->n_functions; i++)
		gpus += pci_function_is_gpu(&model->functions[i]) && !model->functions[i].is_vf;
	log_info("Host: %zu PCI functions, %zu GPU%s, %zu other mdev parent%s, %zu IOMMU groups, "
		 "%zu NUMA node%s",
		 model->n_functions, gpus, gpus == 1 ? "" : "s", model->n_mdev_parents,
		 model->n_mdev_parents == 1 ? "" : "s", model->n_groups, model->n_nodes,
		 model->n_nodes == 1 ? "" : "s");
}

/* The rebuild's thread is done (or is waited for): its model published, the waits told. */
static void build_finish(HostCache *cache)
{
	HostBuild *build = TAKE_PTR(cache->build);
	bool first = !cache->model;

	if (build->result < 0)
		log_error_errno(build->result, "Cannot rebuild the host model");
	else {
		log_built(build->model, build->usec, build->after_change);
		publish(cache, TAKE_PTR(build->model), build->generation);
		if (first)
			log_host(cache->model);
	}
	int result = build->result;
	build_free(build);
	answer_waits(cache, result);
	/* Changes during the rebuild: one more. */
	if (!is_fresh(cache))
		build_start_or_fail(cache);
}

static void on_built(int result, void *userdata)
{
	HostCache *cache = userdata;
	cache->build->job = NULL; /* done: the worker is gone */
	build_finish(cache);
}

/* Waits, blocking, for the reading under way, then takes it (as on_built()). */
static void build_wait(HostCache *cache)
{
	cache->build->job = worker_finish(cache->build->job);
	build_finish(cache);
}

static int on_settled(sd_event_source *source, uint64_t usec, void *userdata)
{
	HostCache *cache = userdata;
	loop_watch_enter(source);
	cache->settle_source = sd_event_source_disable_unref(cache->settle_source);
	build_start_or_fail(cache);
	return 0;
}

/* A new generation; its rebuild starts now, or after `settle_usec` (more changes may come). */
static void changed(HostCache *cache, uint64_t settle_usec)
{
	cache->generation++;
	if (cache->build)
		return; /* it is followed by another */
	if (settle_usec == 0) {
		build_start_or_fail(cache);
		return;
	}
	if (cache->settle_source)
		return;
	int r = sd_event_add_time_relative(cache->event, &cache->settle_source, CLOCK_MONOTONIC,
					   settle_usec, 0, on_settled, cache);
	if (r < 0)
		build_start_or_fail(cache);
	else
		(void)sd_event_source_set_description(cache->settle_source, "host model, settling");
}

void host_cache_mark_stale(HostCache *cache)
{
	changed(cache, 0);
}

int host_cache_refresh(HostCache *cache, HostModelCallback callback, void *userdata,
		       HostCacheWait **ret)
{
	HostCacheWait *wait = malloc(sizeof(*wait));
	if (!wait)
		return -ENOMEM;
	cache->generation++;
	*wait = (HostCacheWait){ callback, userdata, cache->generation, cache->waits };
	int r = cache->build ? 0 : build_start(cache);
	if (r < 0) {
		free(wait);
		return r;
	}
	cache->waits = wait;
	if (ret)
		*ret = wait;
	return 0;
}

bool host_cache_ready(const HostCache *cache)
{
	return cache->model != NULL;
}

int host_cache_first_model(HostCache *cache, HostModelCallback callback, void *userdata,
			   HostCacheWait **ret)
{
	if (cache->model || !cache->build)
		return host_cache_refresh(cache, callback, userdata, ret);
	HostCacheWait *wait = malloc(sizeof(*wait));
	if (!wait)
		return -ENOMEM;
	*wait = (HostCacheWait){ callback, userdata, cache->build->generation, cache->waits };
	cache->waits = wait;
	if (ret)
		*ret = wait;
	return 0;
}

HostCacheWait *host_cache_wait_cancel(HostCache *cache, HostCacheWait *wait)
{
	for (HostCacheWait **link = &cache->waits; wait && *link; link = &(*link)->next)
		if (*link == wait) {
			*link = wait->next;
			free(wait);
			break;
		}
	return NULL;
}

int host_cache_model(HostCache *cache, bool refresh, const HostModel **ret)
{
	/* Before the first model is there (at start): wait for the reading under way. */
	if (!cache->model && cache->build && !refresh)
		build_wait(cache);
	if (refresh || !cache->model) {
		HostModel *model = NULL;
		uint64_t generation = ++cache->generation;
		uint64_t start = now_usec(CLOCK_MONOTONIC);
		int r = host_discover(&cache->root, cache->names, &cache->options, &model);
		if (r < 0)
			return r;
		log_built(model, now_usec(CLOCK_MONOTONIC) - start, cache->changed_by_device);
		cache->changed_by_device = false;
		publish(cache, model, generation);
		answer_waits(cache, 0);
	}
	*ret = cache->model;
	return 0;
}

static void nodes_free(NumaNode *nodes, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(nodes[i].cpus);
		free(nodes[i].hugepages);
	}
	free(nodes);
}

/* A reading of the memory figures, on a worker: read aside, then swapped into the model. */
typedef struct MemoryRead {
	HostCache *cache;
	HostModel scratch; /* its nodes */
	HugepagePool *pools;
	size_t n_pools;
	HostModelCallback callback;
	void *userdata;
} MemoryRead;

static int memory_read_work(void *data)
{
	MemoryRead *read = data;
	int r = numa_read_nodes(&read->cache->root, &read->scratch);
	if (r >= 0)
		r = hugepages_read_pools(&read->cache->root, "sys/kernel/mm/hugepages",
					 &read->pools, &read->n_pools);
	/* The readers add warnings the model has already. */
	read->scratch.warnings = strv_free(read->scratch.warnings);
	return r;
}

static void memory_read_free(MemoryRead *read)
{
	nodes_free(read->scratch.nodes, read->scratch.n_nodes);
	free(read->pools);
	free(read);
}

/* Given up on: freed by the worker, or the loop, whichever is last. */
static void memory_read_abandoned(void *data)
{
	memory_read_free(data);
}

static void on_memory_read(int result, void *userdata)
{
	MemoryRead *read = userdata;
	HostModel *model = read->cache->model;
	HostModel alone = { 0 }; /* no model yet (the daemon is starting): the figures alone */

	if (result >= 0) {
		if (!model)
			model = &alone;
		nodes_free(model->nodes, model->n_nodes);
		model->nodes = TAKE_PTR(read->scratch.nodes);
		model->n_nodes = read->scratch.n_nodes;
		read->scratch.n_nodes = 0;
		free(model->facts.hugepages);
		model->facts.hugepages = TAKE_PTR(read->pools);
		model->facts.n_hugepages = read->n_pools;
	}
	HostModelCallback callback = read->callback;
	void *callback_userdata = read->userdata;
	memory_read_free(read);
	callback(result >= 0 ? model : NULL, result, callback_userdata);
	nodes_free(alone.nodes, alone.n_nodes);
	free(alone.facts.hugepages);
}

int host_cache_read_memory(HostCache *cache, HostModelCallback callback, void *userdata,
			   WorkerJob **ret)
{
	MemoryRead *read = calloc(1, sizeof(*read));
	if (!read)
		return -ENOMEM;
	*read = (MemoryRead){ .cache = cache, .callback = callback, .userdata = userdata };
	return worker_start_returning(cache->event, "host memory, read", memory_read_work, read,
				      memory_read_abandoned, on_memory_read, ret);
}

/* ---- kernel uevents ---- */

/* True for a uevent ("ACTION@DEVPATH\0KEY=VALUE\0...") about a device we model. */
static bool uevent_is_relevant(const char *buffer, size_t size)
{
	static const char *const subsystems[] = { "SUBSYSTEM=pci", "SUBSYSTEM=mdev",
						  "SUBSYSTEM=vfio", "SUBSYSTEM=iommu_group" };
	for (size_t offset = 0; offset < size;
	     offset += strnlen(buffer + offset, size - offset) + 1)
		for (size_t i = 0; i < ELEMENTSOF(subsystems); i++)
			if (strncmp(buffer + offset, subsystems[i], size - offset) == 0)
				return true;
	return false;
}

static int on_uevent(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	HostCache *cache = userdata;
	char buffer[8192];
	bool relevant = false;
	loop_watch_enter(source);

	for (;;) {
		struct sockaddr_nl sender;
		struct iovec iov = { buffer, sizeof(buffer) };
		struct msghdr message = { .msg_name = &sender,
					  .msg_namelen = sizeof(sender),
					  .msg_iov = &iov,
					  .msg_iovlen = 1 };
		ssize_t n = recvmsg(fd, &message, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == ENOBUFS) {
				relevant = true; /* events were lost: assume the worst */
				continue;
			}
			break;
		}
		/* Only the kernel (port 0) speaks for devices. */
		if (sender.nl_pid != 0 || (message.msg_flags & MSG_TRUNC))
			continue;
		relevant |= uevent_is_relevant(buffer, (size_t)n);
	}
	if (relevant) {
		log_debug("A device changed; the host model will be rebuilt");
		cache->changed_by_device = true;
		changed(cache, HOST_CACHE_SETTLE_USEC);
	}
	return 0;
}

static int watch_uevents(HostCache *cache)
{
	struct sockaddr_nl address = { .nl_family = AF_NETLINK, .nl_groups = 1 /* kernel */ };

	cache->uevent_fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK,
				  NETLINK_KOBJECT_UEVENT);
	if (cache->uevent_fd < 0)
		return negative_errno();
	if (bind(cache->uevent_fd, (struct sockaddr *)&address, sizeof(address)) < 0)
		return negative_errno();
	int r = sd_event_add_io(cache->event, &cache->uevent_source, cache->uevent_fd, EPOLLIN,
				on_uevent, cache);
	if (r >= 0)
		(void)sd_event_source_set_description(cache->uevent_source, "kernel uevents");
	return r;
}

/* ---- life ---- */

int host_cache_set_extra_gpus(HostCache *cache, char *const *extra_gpus)
{
	char **copy = NULL;
	for (char *const *e = extra_gpus; e && *e; e++)
		if (strv_append(&copy, *e) < 0) {
			strv_free(copy);
			return -ENOMEM;
		}
	strv_free(cache->options.extra_gpus);
	cache->options.extra_gpus = copy;
	if (cache->model)
		changed(cache, 0); /* read anew with them */
	return 0;
}

int host_cache_new(sd_event *event, const char *sysfs_root, char *const *extra_gpus,
		   HostCache **ret)
{
	HostCache *cache = calloc(1, sizeof(*cache));
	if (!cache)
		return -ENOMEM;
	cache->event = sd_event_ref(event);
	cache->uevent_fd = -1;

	int r = sd_event_add_defer(event, &cache->answer_source, on_answer, cache);
	if (r >= 0)
		r = sd_event_source_set_enabled(cache->answer_source, SD_EVENT_OFF);
	if (r >= 0) {
		(void)sd_event_source_set_description(cache->answer_source,
						      "host model, answering a waiting call");
	}
	if (r >= 0)
		r = sysfs_root_init(&cache->root, sysfs_root);
	if (r >= 0)
		r = pci_names_new(&cache->names);
	if (r >= 0)
		r = host_cache_set_extra_gpus(cache, extra_gpus);
	if (r < 0) {
		host_cache_free(cache);
		return r;
	}
	cache->live = cache->root.path[0] == '\0';
	if (cache->live) {
		r = watch_uevents(cache);
		if (r < 0)
			log_warning_errno(r, "Cannot watch kernel uevents; the host model is read "
					     "anew only when a caller asks for it");
	}

	cache->generation = 1;
	*ret = cache;
	return 0;
}

int host_cache_start(HostCache *cache)
{
	return cache->model || cache->build ? 0 : build_start(cache);
}

HostCache *host_cache_free(HostCache *cache)
{
	if (!cache)
		return NULL;
	if (cache->build) {
		/* Exiting: the rebuild under way is waited for, then dropped. */
		cache->build->job = worker_finish(cache->build->job);
		cache->build = build_free(cache->build);
	}
	fail_waits(cache, -ECANCELED);
	worker_finish(cache->freeing);
	sd_event_source_disable_unref(cache->answer_source);
	sd_event_source_disable_unref(cache->settle_source);
	sd_event_source_disable_unref(cache->uevent_source);
	safe_close(cache->uevent_fd);
	host_model_free(cache->model);
	strv_free(cache->options.extra_gpus);
	pci_names_free(cache->names);
	sysfs_root_done(&cache->root);
	sd_event_unref(cache->event);
	free(cache);
	return NULL;
}

const SysfsRoot *host_cache_root(const HostCache *cache)
{
	return &cache->root;
}
