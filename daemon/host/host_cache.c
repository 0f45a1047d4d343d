/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "host/host_cache.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "base/log.h"
#include "macro.h"
#include "strv.h"
#include "time_util.h"

struct HostCache {
	sd_event *event;
	SysfsRoot root;
	bool live; /* the root is the running system's: uevents describe it */
	PciNames *names; /* pci.ids, loaded once */
	HostModel *model;
	HostOptions options; /* from the configuration */
	bool stale;
	int uevent_fd;
	sd_event_source *uevent_source;
};

/* ---- keeping the model fresh ---- */

int host_cache_model(HostCache *cache, bool refresh, const HostModel **ret)
{
	if (refresh || cache->stale || !cache->live || !cache->model) {
		HostModel *model = NULL;
		uint64_t start = now_usec(CLOCK_MONOTONIC);
		int r = host_discover(&cache->root, cache->names, &cache->options, &model);
		if (r < 0)
			return r;
		log_debug("Host model rebuilt%s: %zu PCI functions in %.1f ms",
			  cache->stale ? " after a device change" : "", model->n_functions,
			  (double)(now_usec(CLOCK_MONOTONIC) - start) / 1000.0);
		host_model_free(cache->model);
		cache->model = model;
		cache->stale = false;
	}
	*ret = cache->model;
	return 0;
}

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
				cache->stale = true; /* events were lost: assume the worst */
				continue;
			}
			return 0;
		}
		/* Only the kernel (port 0) speaks for devices. */
		if (sender.nl_pid != 0 || (message.msg_flags & MSG_TRUNC))
			continue;
		if (uevent_is_relevant(buffer, (size_t)n) && !cache->stale) {
			log_debug("A device changed; the host model will be rebuilt");
			cache->stale = true;
		}
	}
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
	return sd_event_add_io(cache->event, &cache->uevent_source, cache->uevent_fd, EPOLLIN,
			       on_uevent, cache);
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
	cache->stale = cache->model != NULL; /* read anew with them */
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

	int r = sysfs_root_init(&cache->root, sysfs_root);
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
		if (r < 0) {
			log_warning_errno(r,
					  "Cannot watch kernel uevents; the host model is rebuilt "
					  "on every request instead");
			cache->live = false;
		}
	}

	const HostModel *model;
	r = host_cache_model(cache, true, &model);
	if (r < 0) {
		host_cache_free(cache);
		return r;
	}
	size_t gpus = 0;
	for (size_t i = 0; i < model->n_functions; i++)
		gpus += pci_function_is_gpu(&model->functions[i]) && !model->functions[i].is_vf;
	log_info("Host: %zu PCI functions, %zu GPU%s, %zu other mdev parent%s, %zu IOMMU groups, "
		 "%zu NUMA node%s",
		 model->n_functions, gpus, gpus == 1 ? "" : "s", model->n_mdev_parents,
		 model->n_mdev_parents == 1 ? "" : "s", model->n_groups, model->n_nodes,
		 model->n_nodes == 1 ? "" : "s");
	*ret = cache;
	return 0;
}

HostCache *host_cache_free(HostCache *cache)
{
	if (!cache)
		return NULL;
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
