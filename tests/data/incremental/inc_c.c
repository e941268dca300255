// SPDX-License-Identifier: GPL-2.0
#include "inc_other.h"
#include "inc_export.h"

int inc_c_count(const struct inc_other *o)
{
	return (int)o->count;
}
EXPORT_SYMBOL(inc_c_count);
