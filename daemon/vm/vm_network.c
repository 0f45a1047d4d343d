/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_network.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/sockios.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error_message.h"
#include "macro.h"

int vm_tap_on_bridge(const char *bridge, char ret_name[IFNAMSIZ], char **ret_message)
{
	struct ifreq request = { 0 };

	if (strlen(bridge) >= IFNAMSIZ)
		return error_message(ret_message, -EINVAL,
				     "network: '%s' is longer than an interface name can be.",
				     bridge);
	if (if_nametoindex(bridge) == 0)
		return error_message(
			ret_message, -ENODEV,
			"network: there is no bridge %s on this host; make it (ip link "
			"add %s type bridge) or use 'network: user'.",
			bridge, bridge);

	_cleanup_close_ int tap = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (tap < 0)
		return error_message(ret_message, negative_errno(),
				     "network: cannot open /dev/net/tun (%s): is the tun module "
				     "available?",
				     strerror(errno));
	/* The kernel picks the number; virtio-net offloads need the vnet header. */
	strcpy(request.ifr_name, "lvtap%d");
	request.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(tap, TUNSETIFF, &request) < 0)
		return error_message(ret_message, negative_errno(),
				     "network: cannot make a tap device: %s.", strerror(errno));
	memcpy(ret_name, request.ifr_name, IFNAMSIZ);

	_cleanup_close_ int control = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (control < 0)
		return negative_errno();
	struct ifreq attach = { .ifr_ifindex = (int)if_nametoindex(ret_name) };
	memcpy(attach.ifr_name, bridge, strlen(bridge) + 1);
	if (attach.ifr_ifindex == 0 || ioctl(control, SIOCBRADDIF, &attach) < 0)
		return error_message(ret_message, negative_errno(),
				     "network: cannot attach %s to %s (%s): is %s a bridge?",
				     ret_name, bridge, strerror(errno), bridge);
	struct ifreq up = { 0 };
	memcpy(up.ifr_name, ret_name, IFNAMSIZ);
	if (ioctl(control, SIOCGIFFLAGS, &up) < 0)
		return negative_errno();
	up.ifr_flags |= IFF_UP;
	if (ioctl(control, SIOCSIFFLAGS, &up) < 0)
		return error_message(ret_message, negative_errno(),
				     "network: cannot bring %s up: %s.", ret_name, strerror(errno));
	return TAKE_FD(tap);
}
