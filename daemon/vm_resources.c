/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm_resources.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "error_message.h"
#include "fs_util.h"
#include "macro.h"
#include "strv.h"

int qemu_user_lookup(const char *name, QemuUser *ret, char **ret_message)
{
	errno = 0;
	struct passwd *pw = getpwnam(name);
	if (!pw)
		return error_message(
			ret_message, errno ? -errno : -ENOENT,
			"The user '%s' that QEMU runs as does not exist; create it "
			"(systemd-sysusers, or: useradd --system --no-create-home %s) or set "
			"vms.qemu-user in libvfiod.yaml.",
			name, name);
	*ret = (QemuUser){ .uid = pw->pw_uid, .gid = pw->pw_gid, .is_root = pw->pw_uid == 0 };
	return 0;
}

int vm_private_dir(const char *path, const QemuUser *user, char **ret_message)
{
	char parent[4096];

	/* The parent (RUNTIME/vms, STATE/vms) is traversable but not listable. */
	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return error_message(ret_message, -EINVAL, "%s is not below a directory.", path);
	*slash = '\0';
	int r = mkdir_p(parent, 0711);
	if (r >= 0 && chmod(parent, 0711) < 0)
		r = negative_errno();
	if (r >= 0 && mkdir(path, 0700) < 0 && errno != EEXIST)
		r = negative_errno();
	if (r < 0)
		return error_message(ret_message, r, "Cannot prepare the directory %s: %s.", path,
				     strerror(-r));
	/*
	 * It may sit in a directory QEMU's user can write (the TPM's, in the VM's
	 * state directory): opened without following a link, checked, and given
	 * through the descriptor, so a link planted there hands over nothing.
	 */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return error_message(ret_message, -ELOOP,
				     "%s is a link or not a directory; libvfiod follows no link it "
				     "did not make. Remove it, and it is made anew.",
				     path);
	if (fd < 0 || fstat(fd, &st) < 0 || fchown(fd, user->uid, user->gid) < 0 ||
	    fchmod(fd, 0700) < 0)
		return error_message(ret_message, negative_errno(),
				     "Cannot prepare the directory %s: %s.", path, strerror(errno));
	return 0;
}

void vm_private_dir_remove(const char *path)
{
	DIR *dir = opendir(path);
	if (!dir)
		return;
	for (struct dirent *e; (e = readdir(dir));)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			(void)unlinkat(dirfd(dir), e->d_name, 0);
	closedir(dir);
	(void)rmdir(path);
}

/* Code builds and the variables template that goes with each, in order of preference. */
static const struct {
	const char *code, *vars;
	bool secure;
} ovmf_builds[] = {
	{ "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd", false },
	{ "/usr/share/OVMF/OVMF_CODE.fd", "/usr/share/OVMF/OVMF_VARS.fd", false },
	{ "/usr/share/edk2/ovmf/OVMF_CODE.fd", "/usr/share/edk2/ovmf/OVMF_VARS.fd", false },
	{ "/usr/share/edk2/x64/OVMF_CODE.fd", "/usr/share/edk2/x64/OVMF_VARS.fd", false },
	/* Secure boot: SMM builds, with Microsoft's keys enrolled (what Windows boots with) */
	{ "/usr/share/OVMF/OVMF_CODE_4M.secboot.fd", "/usr/share/OVMF/OVMF_VARS_4M.ms.fd", true },
	{ "/usr/share/OVMF/OVMF_CODE.secboot.fd", "/usr/share/OVMF/OVMF_VARS.ms.fd", true },
	{ "/usr/share/edk2/ovmf/OVMF_CODE.secboot.fd", "/usr/share/edk2/ovmf/OVMF_VARS.secboot.fd",
	  true },
};

int ovmf_choose(const HostFacts *facts, bool secure_boot, const char **ret_code,
		char **ret_vars_template, char **ret_message)
{
	for (size_t i = 0; i < ELEMENTSOF(ovmf_builds); i++) {
		if (ovmf_builds[i].secure != secure_boot ||
		    !strv_contains(facts->ovmf_files, ovmf_builds[i].code) ||
		    access(ovmf_builds[i].vars, R_OK) < 0)
			continue;
		char *vars = strdup(ovmf_builds[i].vars);
		if (!vars)
			return -ENOMEM;
		*ret_code = ovmf_builds[i].code;
		*ret_vars_template = vars;
		return 0;
	}
	return error_message(
		ret_message, -ENOENT,
		"No %sUEFI firmware (OVMF) with its variables template was found; install "
		"it (apt install ovmf) or use 'firmware: bios'.",
		secure_boot ? "secure-boot " : "");
}

static int copy_file(const char *from, const char *to, uid_t uid, gid_t gid)
{
	char buffer[65536];
	_cleanup_close_ int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return negative_errno();
	_cleanup_close_ int out =
		open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		return negative_errno();
	for (;;) {
		ssize_t n = read(in, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n < 0 || fchown(out, uid, gid) < 0 || fsync(out) < 0) {
				int r = negative_errno();
				(void)unlink(to);
				return r;
			}
			return 0;
		}
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buffer + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				int r = negative_errno();
				(void)unlink(to);
				return r;
			}
			done += w;
		}
	}
}

int ovmf_vars_copy(const char *template, const char *path, const QemuUser *user, char **ret_message)
{
	/*
	 * Kept across starts (boot entries, secure-boot keys); only its owner is
	 * ours. It sits in the VM's state directory, which QEMU's user can write:
	 * opened without following a link, a regular file with one name only (no
	 * hard link to another file either), and given through the descriptor.
	 */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd >= 0 || errno != ENOENT) {
		if (fd < 0 && errno == ELOOP)
			return error_message(ret_message, -ELOOP,
					     "%s is a link; libvfiod follows no link it did not "
					     "make. Remove it, and a fresh copy of the UEFI "
					     "variables is made.",
					     path);
		if (fd < 0 || fstat(fd, &st) < 0)
			return error_message(ret_message, negative_errno(), "Cannot open %s: %s.",
					     path, strerror(errno));
		if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
			return error_message(ret_message, -EPERM,
					     "%s is not a regular file of its own (a device, or a "
					     "hard link); remove it, and a fresh copy is made.",
					     path);
		if (fchown(fd, user->uid, user->gid) < 0)
			return error_message(ret_message, negative_errno(),
					     "Cannot give %s to QEMU's user: %s.", path,
					     strerror(errno));
		return 0;
	}
	int r = copy_file(template, path, user->uid, user->gid);
	if (r < 0)
		return error_message(ret_message, r, "Cannot copy the UEFI variables %s to %s: %s.",
				     template, path, strerror(-r));
	return 0;
}

int vfio_group_node(const SysfsRoot *root, const PciAddress *device, const char *mdev_uuid,
		    char **ret_path, char **ret_message)
{
	char relative[256], address[PCI_ADDRESS_TEXT_SIZE], node[4096];
	_cleanup_free_ char *group = NULL;

	if (device)
		pci_address_format(device, address);
	else
		snprintf(address, sizeof(address), "?");
	if (mdev_uuid)
		snprintf(relative, sizeof(relative), "sys/bus/mdev/devices/%s/iommu_group",
			 mdev_uuid);
	else
		snprintf(relative, sizeof(relative), "sys/bus/pci/devices/%s/iommu_group", address);
	int r = sysfs_read_link_name(root, relative, &group);
	if (r < 0)
		return error_message(
			ret_message, r == -ENOMEM ? r : -ENOENT,
			"%s has no IOMMU group (%s): is the IOMMU on? 'vfioctl check' says.",
			mdev_uuid ? mdev_uuid : address, strerror(-r));
	if (strspn(group, "0123456789") != strlen(group))
		return error_message(ret_message, -EINVAL, "%s: odd IOMMU group '%s'.", address,
				     group);
	snprintf(relative, sizeof(relative), "dev/vfio/%s", group);
	r = sysfs_path(root, relative, node, sizeof(node));
	if (r < 0)
		return r;
	if (access(node, F_OK) < 0)
		return error_message(ret_message, -ENOENT,
				     "%s is missing: the VFIO group of %s has no node (is vfio-pci "
				     "loaded? modprobe vfio-pci).",
				     node, mdev_uuid ? mdev_uuid : address);
	char *copy = strdup(node);
	if (!copy)
		return -ENOMEM;
	*ret_path = copy;
	return 0;
}

int path_inspect(const char *path, const QemuUser *user, VmLent *ret, bool *ret_already,
		 char **ret_message)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return error_message(ret_message, negative_errno(),
				     "%s cannot be used: %s; check the VM's definition.", path,
				     strerror(errno));
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode) && !S_ISCHR(st.st_mode))
		return error_message(ret_message, -EINVAL,
				     "%s is not a file or a device; check the VM's definition.",
				     path);
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	*ret = (VmLent){
		.path = copy, .uid = st.st_uid, .gid = st.st_gid, .mode = st.st_mode & 07777
	};
	/* Already QEMU's (another VM has it, or it was made for QEMU): not ours to give back. */
	*ret_already = st.st_uid == user->uid;
	return 0;
}

int path_lend(const VmLent *lent, const QemuUser *user, mode_t needed, char **ret_message)
{
	if (chown(lent->path, user->uid, user->gid) < 0 ||
	    chmod(lent->path, (lent->mode & ~(mode_t)S_IRWXU) | needed) < 0)
		return error_message(ret_message, negative_errno(),
				     "Cannot give %s to QEMU's user: %s.", lent->path,
				     strerror(errno));
	return 0;
}

void path_return(const VmLent *lent)
{
	(void)chown(lent->path, lent->uid, lent->gid);
	(void)chmod(lent->path, lent->mode);
}

int qemu_output_fd(const char *identifier, const char *log_path, const QemuUser *user,
		   bool *ret_is_file)
{
	int fd = sd_journal_stream_fd(identifier, LOG_INFO, false);
	if (fd >= 0) {
		*ret_is_file = false;
		return fd;
	}
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return negative_errno();
	if (fchown(fd, user->uid, user->gid) < 0) {
		int r = negative_errno();
		close(fd);
		return r;
	}
	*ret_is_file = true;
	return fd;
}

void log_file_last_line(const char *path, off_t since, char *buf, size_t size)
{
	char tail[1024];

	buf[0] = '\0';
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t start = end > (off_t)sizeof(tail) - 1 ? end - (off_t)sizeof(tail) + 1 : 0;
	if (start < since) /* what earlier starts wrote is not this one's story */
		start = since;
	if (start >= end)
		return;
	ssize_t n = pread(fd, tail, sizeof(tail) - 1, start);
	if (n <= 0)
		return;
	while (n > 0 && (tail[n - 1] == '\n' || tail[n - 1] == '\r'))
		n--;
	tail[n] = '\0';
	char *line = strrchr(tail, '\n');
	line = line ? line + 1 : tail;
	/* Control characters of whatever QEMU printed stay out of replies. */
	size_t i = 0;
	for (; line[i] && i + 1 < size; i++)
		buf[i] = (unsigned char)line[i] < 0x20 ? '?' : line[i];
	buf[i] = '\0';
}

int looking_glass_prepare(const char *path, bool kvmfr, const QemuUser *user, const char *owner,
			  char **ret_message)
{
	gid_t group = user->gid;

	if (owner) { /* the owner runs the Looking Glass client: the file is shared with them */
		errno = 0;
		struct passwd *pw = getpwnam(owner);
		if (!pw)
			return error_message(ret_message, -ENOENT,
					     "owner: there is no user '%s' to share Looking Glass "
					     "with.",
					     owner);
		group = pw->pw_gid;
	}
	if (kvmfr) {
		if (chown(path, user->uid, group) < 0 || chmod(path, 0660) < 0)
			return error_message(ret_message, negative_errno(),
					     "looking-glass: cannot give %s to QEMU: %s.", path,
					     strerror(errno));
		return 0;
	}
	/*
	 * /dev/shm is writable by everyone: a file left there by someone else
	 * could be theirs to read. It is made anew, exclusively.
	 */
	if (unlink(path) < 0 && errno != ENOENT)
		return error_message(ret_message, negative_errno(),
				     "looking-glass: cannot replace %s: %s.", path,
				     strerror(errno));
	_cleanup_close_ int fd =
		open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || fchown(fd, user->uid, group) < 0 || fchmod(fd, 0660) < 0)
		return error_message(ret_message, negative_errno(),
				     "looking-glass: cannot create %s: %s.", path, strerror(errno));
	return 0;
}

int unix_listen_at(const char *path, uid_t uid, gid_t gid)
{
	struct sockaddr_un address = { .sun_family = AF_UNIX };

	if (strlen(path) >= sizeof(address.sun_path))
		return -ENAMETOOLONG;
	strcpy(address.sun_path, path);
	_cleanup_close_ int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return negative_errno();
	(void)unlink(path); /* one left by an earlier start */
	if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0 ||
	    chown(path, uid, gid) < 0 || chmod(path, 0600) < 0 || listen(fd, 4) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}
