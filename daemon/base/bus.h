/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * A D-Bus connection the daemon keeps for asynchronous calls: opened when
 * first needed, attached to the event loop, and opened again after it broke.
 * Two kinds: the system bus (polkit, machined; DBUS_SYSTEM_BUS_ADDRESS
 * chooses another, as the tests do) and systemd's own private socket
 * (/run/systemd/private, root only), which needs no dbus-daemon and on which
 * systemd sends its signals (JobRemoved) without a Subscribe() call.
 */
#pragma once

#include <stdbool.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

typedef enum BusKind {
	BUS_SYSTEM,
	BUS_SYSTEMD_PRIVATE,
} BusKind;

typedef struct BusConnection {
	sd_event *event; /* not owned */
	BusKind kind;
	sd_bus *bus; /* NULL until asked, and after it broke */
} BusConnection;

/*
 * The connection, opened now when there is none or it broke. < 0 when it
 * cannot be opened: -ENOENT or -ECONNREFUSED mean nobody listens there (no
 * dbus-daemon, no systemd as PID 1). The bus stays the connection's.
 */
int bus_connection_get(BusConnection *connection, sd_bus **ret);

/* Closes it (pending calls end). The next bus_connection_get() opens it again. */
void bus_connection_close(BusConnection *connection);

/*
 * Whether `error` (an error reply's) means there is nobody to ask: the
 * service, or the bus, is not there or did not answer.
 */
bool bus_error_is_absent(const sd_bus_error *error);
