/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "varlink_idl.h"

#include <string.h>

const VarlinkIdl *varlink_idl_find(const VarlinkIdl *table, const char *name)
{
	for (const VarlinkIdl *idl = table; idl->name; idl++)
		if (strcmp(idl->name, name) == 0)
			return idl;
	return NULL;
}
