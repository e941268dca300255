// SPDX-License-Identifier: GPL-2.0
#include "inc_dev.h"
#include "inc_export.h"

long inc_b_flags(const struct inc_dev *dev)
{
	return (long)dev->flags;
}
EXPORT_SYMBOL(inc_b_flags);

void inc_b_reset(int *counter)
{
	*counter = 0;
}
EXPORT_SYMBOL(inc_b_reset);
