/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_resources.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "error_message.h"
#include "fs_util.h"
#include "macro.h"
#include "safe_open.h"
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

/* The parent (RUNTIME/vms, STATE/vms, a VM's own): traversable, not listable. */
static int parent_dir(const char *path, char **ret_message)
{
	char parent[4096];

	snprintf(parent, sizeof(parent), "%s", path);
	char *slash = strrchr(parent, '/');
	if (!slash || slash == parent)
		return error_message(ret_message, -EINVAL, "%s is not below a directory.", path);
	*slash = '\0';
	int r = mkdir_p_mode(parent, 0711);
	if (r < 0)
		return error_message(ret_message, r, "Cannot prepare the directory %s: %s.", parent,
				     strerror(-r));
	return 0;
}

int vm_dir(const char *path, uid_t uid, gid_t gid, mode_t mode, char **ret_message)
{
	int r = parent_dir(path, ret_message);
	if (r < 0)
		return r;
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return error_message(ret_message, negative_errno(),
				     "Cannot prepare the directory %s: %s.", path, strerror(errno));
	/*
	 * One left by an older daemon may be QEMU's user's, and it may have put a
	 * link there: opened without following one, checked, and changed through
	 * the descriptor, so a planted link hands over nothing.
	 */
	_cleanup_close_ int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && (errno == ELOOP || errno == ENOTDIR))
		return error_message(ret_message, -ELOOP,
				     "%s is a link or not a directory; libvfiod follows no link it "
				     "did not make. Remove it, and it is made anew.",
				     path);
	if (fd < 0 || fd_chown_chmod(fd, uid, gid, mode) < 0)
		return error_message(ret_message, negative_errno(),
				     "Cannot prepare the directory %s: %s.", path, strerror(errno));
	return 0;
}

/* Removes the entries of the directory `fd` (closed), one level of subdirectories included. */
static void remove_entries(int fd, bool descend)
{
	DIR *dir = fdopendir(fd);
	if (!dir) {
		close(fd);
		return;
	}
	for (struct dirent *e; (e = readdir(dir));) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd(dir), e->d_name, 0) >= 0 || errno != EISDIR || !descend)
			continue;
		/* QEMU's own directory: emptied (no link followed), then removed */
		int sub = openat(dirfd(dir), e->d_name,
				 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0)
			remove_entries(sub, false);
		(void)unlinkat(dirfd(dir), e->d_name, AT_REMOVEDIR);
	}
	closedir(dir);
}

void vm_dir_remove(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	remove_entries(fd, true);
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

/* Copies what `in` holds to the new file `to` (root's, 0600); its descriptor, read-write. */
static int copy_to_new_file(int in, const char *to)
{
	char buffer[65536];
	_cleanup_close_ int out =
		open(to, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0)
		return negative_errno();
	for (;;) {
		ssize_t n = read(in, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 && fsync(out) >= 0)
			return TAKE_FD(out);
		int r = n < 0 ? negative_errno() : write_all(out, buffer, (size_t)n);
		if (r >= 0 && n > 0)
			continue;
		r = r < 0 ? r : negative_errno();
		(void)unlink(to);
		return r;
	}
}

int ovmf_vars_open(const char *template, const char *path, char **ret_message)
{
	/*
	 * Kept across starts (boot entries, secure-boot keys). Root's: QEMU gets
	 * the open descriptor. One an older daemon gave QEMU's user is taken back:
	 * opened without following a link, a regular file with one name only (no
	 * hard link to another file either), and changed through the descriptor.
	 */
	int fd = open(path, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat st;
	if (fd < 0 && errno == ENOENT) {
		struct stat template_st;
		_cleanup_free_ char *problem = NULL;
		_cleanup_close_ int in = safe_open(template, O_RDONLY, &template_st, &problem);
		fd = in < 0 ? in : copy_to_new_file(in, path);
		if (fd < 0)
			return error_message(ret_message, fd,
					     "Cannot copy the UEFI variables %s to %s: %s.",
					     template, path, problem ? problem : strerror(-fd));
		return fd;
	}
	if (fd < 0 && errno == ELOOP)
		return error_message(ret_message, -ELOOP,
				     "%s is a link; libvfiod follows no link it did not make. "
				     "Remove it, and a fresh copy of the UEFI variables is made.",
				     path);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int r = error_message(ret_message, negative_errno(), "Cannot open %s: %s.", path,
				      strerror(errno));
		if (fd >= 0)
			close(fd);
		return r;
	}
	if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		close(fd);
		return error_message(ret_message, -EPERM,
				     "%s is not a regular file of its own (a device, or a hard "
				     "link); remove it, and a fresh copy is made.",
				     path);
	}
	if (fd_chown_chmod(fd, 0, 0, 0600) < 0) {
		int r = error_message(ret_message, negative_errno(), "Cannot take back %s: %s.",
				      path, strerror(errno));
		close(fd);
		return r;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
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

int device_node_open(const char *path, VmLent *ret, char **ret_message)
{
	_cleanup_free_ char *problem = NULL;
	struct stat st;

	int fd = safe_open(path, O_PATH, &st, &problem);
	if (fd < 0)
		return error_message(ret_message, fd, "%s", problem);
	if (!S_ISCHR(st.st_mode)) {
		close(fd);
		return error_message(ret_message, -EINVAL, "%s is not a device node.", path);
	}
	char *copy = strdup(path);
	if (!copy) {
		close(fd);
		return -ENOMEM;
	}
	*ret = (VmLent){ .path = copy,
			 .uid = st.st_uid,
			 .gid = st.st_gid,
			 .mode = st.st_mode & 07777,
			 .device = st.st_rdev,
			 .fd = fd };
	return 0;
}

int vm_lent_give(const VmLent *lent, uid_t uid, gid_t gid, mode_t mode, char **ret_message)
{
	int r = fd_chown_chmod(lent->fd, uid, gid, mode);
	if (r < 0)
		return error_message(ret_message, r, "Cannot give %s to QEMU's user: %s.",
				     lent->path, strerror(-r));
	return 0;
}

void vm_lent_return(const VmLent *lent)
{
	_cleanup_free_ char *problem = NULL;
	_cleanup_close_ int reopened = -1;
	struct stat st;
	int fd = lent->fd;

	if (fd < 0) {
		/*
		 * From a record (the daemon restarted): found again without following
		 * a link someone else could have planted, and only the device it was.
		 */
		reopened = fd = safe_open(lent->path, O_PATH, &st, &problem);
		if (fd < 0 ||
		    (lent->device != 0 && (!S_ISCHR(st.st_mode) || st.st_rdev != lent->device)))
			return;
	}
	(void)fd_chown_chmod(fd, lent->uid, lent->gid, lent->mode);
}

int vm_file_open(const char *path, bool writable, bool *ret_block_device, char **ret_message)
{
	_cleanup_free_ char *problem = NULL;
	struct stat st;

	int fd = safe_open(path, writable ? O_RDWR : O_RDONLY, &st, &problem);
	if (fd < 0)
		return error_message(ret_message, fd, "%s Check the VM's definition.", problem);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode)) {
		close(fd);
		return error_message(ret_message, -EINVAL,
				     "%s is neither a file nor a block device; check the VM's "
				     "definition.",
				     path);
	}
	*ret_block_device = S_ISBLK(st.st_mode);
	return fd;
}

int rom_copy(const char *path, char **ret_message)
{
	_cleanup_free_ char *problem = NULL;
	struct stat st;
	char buffer[65536];

	_cleanup_close_ int in = safe_open(path, O_RDONLY, &st, &problem);
	if (in < 0)
		return error_message(ret_message, in, "rom: %s", problem);
	if (!S_ISREG(st.st_mode) || st.st_size > ROM_MAX_SIZE)
		return error_message(ret_message, -EINVAL,
				     "rom: %s is not a file of at most %d MiB; a PCI ROM is "
				     "smaller.",
				     path, ROM_MAX_SIZE >> 20);
	_cleanup_close_ int fd = memfd_create("rom", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (fd < 0)
		return negative_errno();
	for (off_t done = 0;;) {
		ssize_t n = read(in, buffer, sizeof(buffer));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return error_message(ret_message, negative_errno(),
					     "rom: cannot read %s: %s.", path, strerror(errno));
		if (n == 0)
			break;
		done += n;
		int r = done > ROM_MAX_SIZE ? -EFBIG : write_all(fd, buffer, (size_t)n);
		if (r < 0)
			return error_message(ret_message, r, "rom: cannot copy %s: %s.", path,
					     strerror(-r));
	}
	/* What QEMU reads is what was read here, whatever happens to the file later. */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}

int qemu_output_fd(const char *identifier, const char *log_path, bool *ret_is_file)
{
	int fd = sd_journal_stream_fd(identifier, LOG_INFO, false);
	if (fd >= 0) {
		*ret_is_file = false;
		return fd;
	}
	/* Root's, in the VM's state directory: QEMU writes to the descriptor it inherits. */
	fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK,
		  0600);
	struct stat st;
	if (fd < 0)
		return negative_errno();
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1 ||
	    fd_chown_chmod(fd, 0, 0, 0600) < 0) {
		close(fd);
		return -EPERM;
	}
	(void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
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

int looking_glass_group(const QemuUser *user, const char *owner, gid_t *ret, char **ret_message)
{
	if (!owner) {
		*ret = user->gid;
		return 0;
	}
	/* The owner runs the Looking Glass client: the memory is shared with them. */
	errno = 0;
	struct passwd *pw = getpwnam(owner);
	if (!pw)
		return error_message(ret_message, -ENOENT,
				     "owner: there is no user '%s' to share Looking Glass with.",
				     owner);
	*ret = pw->pw_gid;
	return 0;
}

int looking_glass_file(const char *path, uid_t uid, gid_t gid, char **ret_message)
{
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
	if (fd < 0 || fd_chown_chmod(fd, uid, gid, 0660) < 0)
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
	if (bind(fd, (struct sockaddr *)&address, sizeof(address)) < 0)
		return negative_errno();
	int r = bound_socket_chown_chmod(path, uid, gid, 0600);
	if (r < 0)
		return r;
	if (listen(fd, 4) < 0)
		return negative_errno();
	return TAKE_FD(fd);
}
