/* SPDX-License-Identifier: GPL-2.0 */
/* member.h (v2): struct dx_stats gains rx_dropped (in the middle);
 * dx_legacy_poll() is gone, dx_reset() is new. */
#ifndef DX_MEMBER_H
#define DX_MEMBER_H

#include "dx_export.h"

struct dx_stats {
	unsigned long rx_packets;
	unsigned long rx_dropped;
	unsigned long tx_packets;
};

struct dx_device {
	int id;
	const char *name;
	struct dx_stats *stats;
};

int dx_open(struct dx_device *dev);
struct dx_stats *dx_get_stats(struct dx_device *dev);
unsigned long dx_count(const char *name);
void dx_reset(struct dx_device *dev);

#endif
