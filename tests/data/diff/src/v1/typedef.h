/* SPDX-License-Identifier: GPL-2.0 */
/* typedef.h (v1) */
#ifndef DX_TYPEDEF_H
#define DX_TYPEDEF_H

#include "dx_export.h"

typedef unsigned int dx_u32;
typedef unsigned long long dx_u64;
typedef dx_u32 dx_id_t;

struct dx_entry {
	dx_id_t id;
	void *data;
};

struct dx_entry *dx_lookup(dx_id_t id);
int dx_insert(struct dx_entry *entry);
dx_u32 dx_hash(const void *data);

#endif
