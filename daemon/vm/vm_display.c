/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * The owner's VNC socket of a running VM (vm_display.h).
 */
#include "vm/vm_display.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/log.h"
#include "base/loop_watch.h"
#include "json_util.h"
#include "macro.h"
#include "vm/vm_console.h"
#include "vm/vm_looking_glass.h"
#include "vm/vm_qemu_user.h"
#include "vm/vm_socket.h"

/* Connections accepted in one turn of the loop; more wait for the next. */
#define ACCEPTS_PER_TURN 8

void vm_display_path(const Vm *vm, char *buf, size_t size)
{
	(void)snprintf(buf, size, "%s/%s/vnc.sock", vm->manager->records_dir, vm->name);
}

static void on_reply(Qmp *qmp, json_object *result, const char *error_class,
		     const char *description, void *userdata)
{
	Vm *vm = userdata;
	(void)qmp;
	if (!result && strcmp(error_class, "Disconnected") != 0)
		vm_log(vm, LOG_WARNING, 0, "VM %s: QEMU refused a display connection: %s", vm->name,
		       description);
}

/* Hands one accepted connection to QEMU's VNC server. */
static void hand_over(Vm *vm, int client)
{
	char name[32];
	(void)snprintf(name, sizeof(name), "display-%u", ++vm->display_connections);
	json_object *getfd = json_object_new_object();
	json_object *add = json_object_new_object();
	if (!getfd || !add || json_add_string(getfd, "fdname", name) < 0 ||
	    json_add_string(add, "fdname", name) < 0 ||
	    json_add_string(add, "protocol", "vnc") < 0 ||
	    json_object_object_add(add, "skipauth", json_object_new_boolean(1)) < 0) {
		json_object_put(getfd);
		json_object_put(add);
		close(client);
		return;
	}
	/* In order on one connection: add_client finds the descriptor getfd named. */
	if (qmp_execute_with_fd(vm->qmp, "getfd", getfd, client, on_reply, vm) < 0) {
		json_object_put(add);
		return;
	}
	(void)qmp_execute(vm->qmp, "add_client", add, on_reply, vm);
}

static int on_connection(sd_event_source *source, int fd, uint32_t revents, void *userdata)
{
	loop_watch_enter(source);
	Vm *vm = userdata;
	(void)revents;
	for (int i = 0; i < ACCEPTS_PER_TURN; i++) {
		int client = accept4(fd, NULL, NULL, SOCK_CLOEXEC);
		if (client < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno != EAGAIN)
				vm_log(vm, LOG_WARNING, errno,
				       "VM %s: cannot accept on its display", vm->name);
			break;
		}
		if (!vm->qmp) {
			close(client); /* QEMU is going away */
			continue;
		}
		hand_over(vm, client);
	}
	return 0;
}

/*
 * Where its Looking Glass memory is, when it has some: the kvmfr device lent
 * to QEMU's user (in its runtime record, so an adopted VM's too), else the
 * /dev/shm file its start made (removed when it ends).
 */
static void find_looking_glass(Vm *vm)
{
	char shm[4200];
	struct stat st;
	const char *found = NULL;

	for (size_t i = 0; i < vm->n_lent && !found; i++) {
		const char *base = strrchr(vm->lent[i].path, '/');
		if (base && strncmp(base, "/kvmfr", 6) == 0)
			found = vm->lent[i].path;
	}
	looking_glass_shm_path(vm->name, shm, sizeof(shm));
	if (!found && lstat(shm, &st) >= 0 && S_ISREG(st.st_mode))
		found = shm;
	free(vm->looking_glass_path);
	vm->looking_glass_path = found ? strdup(found) : NULL;
}

void vm_display_open(Vm *vm)
{
	char path[4200];
	uid_t uid = 0;
	gid_t gid = 0;

	vm_console_open(vm);
	find_looking_glass(vm);
	if (vm->display_source)
		return;
	vm_display_path(vm, path, sizeof(path));
	if (vm->owner && vm->owner[0] && user_ids_lookup(vm->owner, &uid, &gid) < 0) {
		vm_log(vm, LOG_WARNING, 0,
		       "VM %s: its owner '%s' is no user; its display is root's alone", vm->name,
		       vm->owner);
		uid = gid = 0;
	}
	_cleanup_close_ int fd = unix_listen_at(path, uid, gid);
	int r = fd;
	if (r >= 0 && fcntl(fd, F_SETFL, O_NONBLOCK) < 0)
		r = negative_errno();
	if (r >= 0)
		r = sd_event_add_io(vm->manager->event, &vm->display_source, fd, EPOLLIN,
				    on_connection, vm);
	if (r >= 0)
		r = sd_event_source_set_io_fd_own(vm->display_source, true);
	if (r >= 0)
		(void)sd_event_source_set_description(vm->display_source, "display socket");
	if (r < 0) {
		vm_log(vm, LOG_WARNING, r, "VM %s: no display socket at %s", vm->name, path);
		vm->display_source = sd_event_source_disable_unref(vm->display_source);
		(void)unlink(path);
		return;
	}
	TAKE_FD(fd); /* the source's now */
	free(vm->display_path);
	vm->display_path = strdup(path); /* NULL: status does not show it; it works all the same */
	vm_log(vm, LOG_DEBUG, 0, "VM %s: its display (VNC) is %s", vm->name, path);
}

void vm_display_close(Vm *vm)
{
	vm_console_close(vm);
	vm->looking_glass_path = mfree(vm->looking_glass_path);
	if (!vm->display_source)
		return;
	char path[4200];
	vm_display_path(vm, path, sizeof(path));
	vm->display_source = sd_event_source_disable_unref(vm->display_source);
	vm->display_path = mfree(vm->display_path);
	(void)unlink(path); /* in the daemon's own directory */
}
