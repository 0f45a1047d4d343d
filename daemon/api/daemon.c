/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "api/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-event.h>

#include "api/host_api.h"
#include "api/manager_api.h"
#include "api/partitions_api.h"
#include "api/server.h"
#include "api/vm_logs_api.h"
#include "api/vms_api.h"
#include "base/config.h"
#include "base/log.h"
#include "base/loop_watch.h"
#include "base/worker.h"
#include "build-config.h"
#include "fs_util.h"
#include "host/host_cache.h"
#include "partitions/reconcile.h"

typedef struct Daemon {
	const DaemonOptions *options;
	DaemonConfig config;
	sd_event *event;
	Server *server;
	Authz authz;
	ManagerApi manager_api;
	HostCache *host;
	HostApi host_api;
	PartitionEngine *partitions;
	PartitionsApi partitions_api;
	VmManager *vms;
	VmsApi vms_api;
	sd_event_source *status_update;
} Daemon;

/* File, then the command line: the same order at start and at every reload. */
static int load_config(const DaemonOptions *options, DaemonConfig *config, char **ret_message)
{
	int r = config_load_file(config, options->config_path, ret_message);
	if (r < 0)
		return r;
	for (size_t i = 0; i < options->n_overrides; i++) {
		r = config_set(config, options->overrides[i].key, options->overrides[i].value,
			       ret_message);
		if (r < 0)
			return r;
	}
	return 0;
}

static ServerLimits limits_of(const DaemonConfig *config)
{
	return (ServerLimits){
		.max_message_size = config->max_message_size,
		.client_timeout_usec = config->client_timeout_usec,
		.max_connections = config->max_connections,
		.max_connections_per_user = config->max_connections_per_user,
		.idle_timeout_usec = config->idle_timeout_usec,
		.max_unread_output = config->max_unread_output,
	};
}

static int on_status_update(sd_event_source *source, void *userdata)
{
	Daemon *daemon = userdata;
	unsigned n = server_n_connections(daemon->server);

	loop_watch_enter(source);
	(void)sd_notifyf(false, "STATUS=Serving %u client connection%s; no VMs running", n,
			 n == 1 ? "" : "s");
	return 0;
}

/* Coalesces a burst of connection changes into one status line per loop iteration. */
static void on_server_change(Server *server, void *userdata)
{
	Daemon *daemon = userdata;
	(void)sd_event_source_set_enabled(daemon->status_update, SD_EVENT_ONESHOT);
}

/* Settings that only take effect at the next start. */
static void warn_restart_needed(const DaemonConfig *old, const DaemonConfig *new)
{
	static const struct {
		const char *key;
		size_t offset;
	} fixed[] = {
		{ "socket", offsetof(DaemonConfig, socket_path) },
		{ "runtime-dir", offsetof(DaemonConfig, runtime_dir) },
		{ "state-dir", offsetof(DaemonConfig, state_dir) },
		{ "sysfs-root", offsetof(DaemonConfig, sysfs_root) },
	};
	for (size_t i = 0; i < ELEMENTSOF(fixed); i++) {
		const char *a = *(char *const *)((const char *)old + fixed[i].offset);
		const char *b = *(char *const *)((const char *)new + fixed[i].offset);
		if (strcmp(a, b) != 0)
			log_warning("%s changed to %s; it takes effect when libvfiod restarts",
				    fixed[i].key, b);
	}
}

static int on_sighup(sd_event_source *source, const struct signalfd_siginfo *si, void *userdata)
{
	Daemon *daemon = userdata;
	_cleanup_free_ char *error = NULL;
	DaemonConfig fresh = { 0 };

	loop_watch_enter(source);
	(void)sd_notify(false, "RELOADING=1\nSTATUS=Reloading configuration");
	int r = config_init(&fresh);
	if (r >= 0)
		r = load_config(daemon->options, &fresh, &error);
	if (r < 0) {
		log_error("Reload failed, keeping the running configuration: %s",
			  error ? error : strerror(-r));
	} else {
		warn_restart_needed(&daemon->config, &fresh);
		log_set_max_level(fresh.log_level);
		ServerLimits limits = limits_of(&fresh);
		server_set_limits(daemon->server, &limits);
		partition_engine_set_write_timeout(daemon->partitions,
						   fresh.sysfs_write_timeout_usec);
		partition_engine_set_keep_vfs(daemon->partitions, fresh.keep_vfs_on_vfio);
		r = host_cache_set_extra_gpus(daemon->host, fresh.extra_gpus);
		if (r >= 0)
			r = qemu_probe_set_binary(daemon->manager_api.qemu, fresh.qemu_binary);
		if (r >= 0) /* the binary may have changed: known again before anyone asks */
			qemu_probe_start(daemon->manager_api.qemu);
		if (r >= 0)
			r = config_copy(&daemon->config, &fresh);
		if (r < 0)
			log_error_errno(r, "Reload incomplete");
		else
			log_info("Configuration reloaded from %s", daemon->options->config_path);
	}
	config_done(&fresh);
	(void)sd_notify(false, "READY=1");
	on_status_update(NULL, daemon);
	return 0;
}

static int on_exit_signal(sd_event_source *source, const struct signalfd_siginfo *si,
			  void *userdata)
{
	Daemon *daemon = userdata;
	loop_watch_enter(source);
	log_info("Received %s, exiting", strsignal((int)si->ssi_signo));
	(void)sd_notify(false, "STOPPING=1\nSTATUS=Shutting down");
	return sd_event_exit(daemon->event, 0);
}

/* Adopts sockets passed by systemd, or binds the configured path itself. */
static int listen_on_sockets(Daemon *daemon)
{
	int n = sd_listen_fds(true);
	if (n < 0)
		return log_error_errno(n, "Cannot read the sockets passed by systemd");

	for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n; fd++) {
		if (sd_is_socket(fd, AF_UNIX, SOCK_STREAM, 1) <= 0)
			return log_error_errno(EINVAL,
					       "File descriptor %d passed by systemd is not a "
					       "listening Unix stream socket",
					       fd);
		int r = server_listen_fd(daemon->server, fd);
		if (r < 0)
			return log_error_errno(r, "Cannot listen on socket %d", fd);
	}
	if (n > 0) {
		log_info("Listening on %d socket%s passed by systemd", n, n == 1 ? "" : "s");
		return 0;
	}

	int r = server_listen_path(daemon->server, daemon->config.socket_path);
	if (r == -EADDRINUSE)
		return log_error_errno(r,
				       "Another daemon already answers on %s; stop it first "
				       "(systemctl stop libvfiod.socket libvfiod) or use --socket",
				       daemon->config.socket_path);
	if (r < 0)
		return log_error_errno(r, "Cannot listen on %s", daemon->config.socket_path);
	log_info("Listening on %s", daemon->config.socket_path);
	return 0;
}

static int setup_signals(Daemon *daemon)
{
	sigset_t mask;

	/* sd-event needs them blocked; SIGCHLD too, for the QEMU children. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	if (sigprocmask(SIG_BLOCK, &mask, NULL) < 0)
		return negative_errno();

	static const struct {
		int signo;
		sd_event_signal_handler_t handler;
		const char *description;
	} handlers[] = {
		{ SIGTERM, on_exit_signal, "SIGTERM" },
		{ SIGINT, on_exit_signal, "SIGINT" },
		{ SIGHUP, on_sighup, "SIGHUP (reload)" },
	};
	for (size_t i = 0; i < ELEMENTSOF(handlers); i++) {
		sd_event_source *source;
		int r = sd_event_add_signal(daemon->event, &source, handlers[i].signo,
					    handlers[i].handler, daemon);
		if (r < 0)
			return r;
		/* Floating: the loop owns it, and frees it with itself. */
		(void)sd_event_source_set_description(source, handlers[i].description);
		r = sd_event_source_set_floating(source, true);
		sd_event_source_unref(source);
		if (r < 0)
			return r;
	}
	return 0;
}

static void daemon_done(Daemon *daemon)
{
	/* First: VM calls still waiting are answered while their connections exist. */
	daemon->authz.vms = NULL;
	daemon->host_api.vms = NULL;
	vm_logs_api_done(&daemon->vms_api);
	daemon->vms = vm_manager_free(daemon->vms);
	/* Calls waiting for polkit are let go while their connections exist. */
	authz_done(&daemon->authz);
	daemon->server = server_free(daemon->server);
	/* The probe's pending callbacks (Check) still use the host service. */
	daemon->manager_api.qemu = qemu_probe_free(daemon->manager_api.qemu);
	daemon->partitions = partition_engine_free(daemon->partitions);
	daemon->host = host_cache_free(daemon->host);
	daemon->status_update = sd_event_source_disable_unref(daemon->status_update);
	daemon->event = sd_event_unref(daemon->event);
	config_done(&daemon->config);
}

/* Slots of the descriptor table made at start: 32 KiB of the kernel's memory at most. */
#define FD_TABLE_SLOTS_MAX 4096
/* Threads made at the start for jobs off the loop (base/worker.h). */
#define WORKER_THREADS_AT_START 3

/*
 * The table of file descriptors grown once, at start, before any thread:
 * growing it while threads share it waits for an RCU grace period
 * (expand_fdtable()), 10-20 ms on the loop when a burst of clients connects.
 * As many slots as the soft RLIMIT_NOFILE allows, up to FD_TABLE_SLOTS_MAX.
 */
static void fd_table_reserve(void)
{
	struct rlimit limit;

	if (getrlimit(RLIMIT_NOFILE, &limit) < 0)
		return;
	int last = (int)MIN(limit.rlim_cur, (rlim_t)FD_TABLE_SLOTS_MAX) - 1;
	if (last < 3 || fcntl(last, F_GETFD) >= 0)
		return; /* in use already (inherited): the table is that large */
	int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && last > fd && dup3(fd, last, O_CLOEXEC) >= 0)
		close(last);
	safe_close(fd);
}

static int daemon_setup(Daemon *daemon)
{
	_cleanup_free_ char *error = NULL;

	fd_table_reserve();
	/* The first jobs (the host model, the QEMU probe's answer, a first call's record)
	 * find threads waiting. */
	int r = worker_pool_prepare(WORKER_THREADS_AT_START);
	if (r < 0)
		return log_error_errno(r, "Cannot make worker threads");
	r = loop_watch_setup();
	if (r < 0)
		return log_error_errno(r, "$%s must be a number of milliseconds, not '%s'",
				       LOOP_BUDGET_ENV, getenv(LOOP_BUDGET_ENV));
	r = config_init(&daemon->config);
	if (r < 0)
		return log_error_errno(r, "Cannot set up the configuration");
	r = load_config(daemon->options, &daemon->config, &error);
	if (r < 0)
		return log_error_errno(r, "%s", error ? error : strerror(-r));
	log_set_max_level(daemon->config.log_level);

	r = mkdir_p(daemon->config.runtime_dir, 0755);
	if (r < 0)
		return log_error_errno(r, "Cannot create the runtime directory %s",
				       daemon->config.runtime_dir);
	/*
	 * As the unit's StateDirectoryMode= makes it: QEMU's user walks through it to
	 * its VM's directory. Made here, before the QEMU probe keeps its answer in it
	 * (a record's directory would be made 0700, its parents too).
	 */
	r = mkdir_p(daemon->config.state_dir, 0711);
	if (r < 0)
		return log_error_errno(r, "Cannot create the state directory %s",
				       daemon->config.state_dir);

	r = sd_event_default(&daemon->event);
	if (r < 0)
		return log_error_errno(r, "Cannot create the event loop");
	r = setup_signals(daemon);
	if (r < 0)
		return log_error_errno(r, "Cannot set up signal handling");
	/* Sends WATCHDOG=1 at half of WatchdogSec= while the loop turns. */
	r = sd_event_set_watchdog(daemon->event, true);
	if (r < 0)
		return log_error_errno(r, "Cannot set up the watchdog");
	r = sd_event_add_defer(daemon->event, &daemon->status_update, on_status_update, daemon);
	if (r >= 0)
		(void)sd_event_source_set_description(daemon->status_update, "status update");
	if (r >= 0)
		r = sd_event_source_set_enabled(daemon->status_update, SD_EVENT_OFF);
	if (r < 0)
		return log_error_errno(r, "Cannot set up status updates");

	_cleanup_free_ char *probe_dir = NULL;
	/* Kept across reboots: the first start after one need not run QEMU either. */
	if (asprintf(&probe_dir, "%s/qemu-probe", daemon->config.state_dir) < 0)
		return log_error_errno(-ENOMEM, "Cannot set up the QEMU probe");
	r = qemu_probe_new(daemon->event, daemon->config.qemu_binary, probe_dir,
			   &daemon->manager_api.qemu);
	if (r < 0)
		return log_error_errno(r, "Cannot set up the QEMU probe");
	/* First thing: `qemu --version` runs while the rest is set up, not when a client asks. */
	qemu_probe_start(daemon->manager_api.qemu);

	ServerInfo info = {
		.vendor = "libvfio",
		.product = "libvfiod",
		.version = PROJECT_VERSION,
		.url = PROJECT_URL,
	};
	ServerLimits limits = limits_of(&daemon->config);
	r = server_new(daemon->event, &info, &limits, &daemon->server);
	if (r < 0)
		return log_error_errno(r, "Cannot create the Varlink server");
	server_set_change_callback(daemon->server, on_server_change, daemon);
	r = authz_init(&daemon->authz, daemon->event, &daemon->config);
	if (r < 0)
		return log_error_errno(r, "Cannot set up authorization");
	daemon->manager_api.authz = &daemon->authz;
	r = manager_api_register(&daemon->manager_api, daemon->server);
	if (r < 0)
		return log_error_errno(r, "Cannot register io.libvfio.Manager");

	r = host_cache_new(daemon->event, daemon->config.sysfs_root, daemon->config.extra_gpus,
			   &daemon->host);
	if (r < 0)
		return log_error_errno(r, "Cannot read the host below %s",
				       daemon->config.sysfs_root);
	daemon->host_api = (HostApi){ .cache = daemon->host,
				      .qemu = daemon->manager_api.qemu,
				      .authz = &daemon->authz };
	r = host_api_register(&daemon->host_api, daemon->server);
	if (r < 0)
		return log_error_errno(r, "Cannot register io.libvfio.Host");

	/* Before any client: what a previous daemon left half-done is undone first. */
	r = partition_engine_new(daemon->event, daemon->host, daemon->config.runtime_dir,
				 &daemon->partitions);
	if (r >= 0) {
		partition_engine_set_write_timeout(daemon->partitions,
						   daemon->config.sysfs_write_timeout_usec);
		partition_engine_set_keep_vfs(daemon->partitions, daemon->config.keep_vfs_on_vfio);
		r = partition_engine_reconcile(daemon->partitions);
	}
	if (r < 0)
		return log_error_errno(r, "Cannot set up the partition engine");
	daemon->partitions_api = (PartitionsApi){ .engine = daemon->partitions,
						  .host = daemon->host,
						  .authz = &daemon->authz };
	r = partitions_api_register(&daemon->partitions_api, daemon->server);
	if (r < 0)
		return log_error_errno(r, "Cannot register io.libvfio.Partitions");

	/* VMs whose QEMU outlived the previous daemon are taken back before any call. */
	r = vm_manager_new(daemon->event, daemon->partitions, daemon->host, &daemon->config,
			   &daemon->vms);
	if (r >= 0) {
		daemon->host_api.vms = daemon->vms;
		r = vm_manager_adopt(daemon->vms);
	}
	if (r < 0)
		return log_error_errno(r, "Cannot set up the VMs");
	daemon->authz.vms = daemon->vms;
	daemon->vms_api =
		(VmsApi){ .event = daemon->event, .manager = daemon->vms, .authz = &daemon->authz };
	r = vms_api_register(&daemon->vms_api, daemon->server);
	if (r < 0)
		return log_error_errno(r, "Cannot register io.libvfio.VMs");

	/*
	 * The host's first reading goes on in its thread: calls that need it wait for
	 * it off the loop (host_cache_first_model()), the others are answered now.
	 */
	r = host_cache_start(daemon->host);
	if (r < 0)
		return log_error_errno(r, "Cannot start reading the host");
	return listen_on_sockets(daemon);
}

int daemon_run(const DaemonOptions *options)
{
	Daemon daemon = { .options = options };

	int r = daemon_setup(&daemon);
	if (r >= 0) {
		(void)sd_notify(false, "READY=1");
		on_status_update(NULL, &daemon);
		log_info("libvfiod %s ready", PROJECT_VERSION);
		r = loop_watch_run(daemon.event);
		if (r < 0)
			log_error_errno(r, "Event loop failed");
	} else
		(void)sd_notifyf(false, "STATUS=Failed to start: %s\nERRNO=%d", strerror(-r), -r);
	daemon_done(&daemon);
	return r;
}
