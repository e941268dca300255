// SPDX-License-Identifier: GPL-2.0
/* typedef.c (v1) */
#include "typedef.h"

static struct dx_entry dx_table[4];

struct dx_entry *dx_lookup(dx_id_t id)
{
	return &dx_table[id & 3];
}
EXPORT_SYMBOL(dx_lookup);

int dx_insert(struct dx_entry *entry)
{
	dx_table[entry->id & 3] = *entry;
	return 0;
}
EXPORT_SYMBOL(dx_insert);

dx_u32 dx_hash(const void *data)
{
	return (dx_u32)(unsigned long)data * 2654435761u;
}
EXPORT_SYMBOL(dx_hash);
