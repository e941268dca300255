// SPDX-License-Identifier: GPL-2.0
/* member.c (v1) */
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

void dx_legacy_poll(struct dx_device *dev)
{
	dev->stats->rx_packets++;
}
EXPORT_SYMBOL(dx_legacy_poll);
