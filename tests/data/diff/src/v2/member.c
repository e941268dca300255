// SPDX-License-Identifier: GPL-2.0
/* member.c (v2) */
#include "member.h"

int dx_open(struct dx_device *dev)
{
	return dev->id;
}
EXPORT_SYMBOL_GPL(dx_open);

struct dx_stats *dx_get_stats(struct dx_device *dev)
{
	return dev->stats;
}
EXPORT_SYMBOL_GPL(dx_get_stats);

unsigned long dx_count(const char *name)
{
	return name[0];
}
EXPORT_SYMBOL(dx_count);

void dx_reset(struct dx_device *dev)
{
	dev->stats->rx_dropped = 0;
}
EXPORT_SYMBOL(dx_reset);
