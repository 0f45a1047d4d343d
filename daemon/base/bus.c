/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/bus.h"

#include <errno.h>
#include <stdbool.h>

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
