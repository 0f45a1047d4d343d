/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/bus.h"

#include <errno.h>
#include <stdbool.h>

#include "base/loop_watch.h"
#include "macro.h"

#define SYSTEMD_PRIVATE_ADDRESS "unix:path=/run/systemd/private"

static int bus_open(BusKind kind, sd_bus **ret)
{
	if (kind == BUS_SYSTEM)
		return sd_bus_open_system(ret);

	sd_bus *bus = NULL;
	int r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_address(bus, SYSTEMD_PRIVATE_ADDRESS);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	*ret = bus;
	return 0;
}

/* Each message names the loop's dispatch it came in (base/loop_watch.h): sd-bus's sources are its
 * own. */
static int name_dispatch(sd_bus_message *message, void *userdata, sd_bus_error *error)
{
	const char *member = sd_bus_message_get_member(message);
	const char *interface = sd_bus_message_get_interface(message);

	loop_watch_name(userdata);
	if (member)
		loop_watch_detail("%s%s%s", interface ? interface : "", interface ? "." : "",
				  member);
	else
		loop_watch_detail("a reply");
	return 0; /* on to its handler */
}

int bus_connection_get(BusConnection *connection, sd_bus **ret)
{
	if (connection->bus && sd_bus_is_open(connection->bus) > 0) {
		*ret = connection->bus;
		return 0;
	}
	bus_connection_close(connection);

	sd_bus *bus = NULL;
	int r = bus_open(connection->kind, &bus);
	if (r >= 0)
		r = sd_bus_add_filter(bus, NULL, name_dispatch,
				      (void *)(connection->kind == BUS_SYSTEM ? "the system bus"
									      : "systemd's bus"));
	if (r >= 0)
		r = sd_bus_attach_event(bus, connection->event, SD_EVENT_PRIORITY_NORMAL);
	if (r < 0) {
		sd_bus_flush_close_unref(bus);
		return r;
	}
	connection->bus = *ret = bus;
	return 0;
}

void bus_connection_close(BusConnection *connection)
{
	connection->bus = sd_bus_flush_close_unref(connection->bus);
}

bool bus_error_is_absent(const sd_bus_error *error)
{
	return sd_bus_error_has_names(error, SD_BUS_ERROR_SERVICE_UNKNOWN,
				      SD_BUS_ERROR_NAME_HAS_NO_OWNER, SD_BUS_ERROR_NO_REPLY,
				      SD_BUS_ERROR_DISCONNECTED, SD_BUS_ERROR_UNKNOWN_OBJECT,
				      SD_BUS_ERROR_UNKNOWN_METHOD);
}
