/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Interface descriptions (Varlink IDL text) compiled into the binaries from
 * the .varlink files by embed-interfaces.py, so the daemon serves exactly the
 * text kept in the source tree.
 */
#pragma once

typedef struct VarlinkIdl {
	const char *name; /* "io.libvfio.Manager" */
	const char *description; /* the whole .varlink file */
} VarlinkIdl;

/* The interfaces of libvfio, ending with an entry whose name is NULL. */
extern const VarlinkIdl libvfio_interfaces[];

/* The entry for `name` in `table`, or NULL. */
const VarlinkIdl *varlink_idl_find(const VarlinkIdl *table, const char *name);
