// SPDX-License-Identifier: GPL-2.0
/* proto.c (v2) */
#include "proto.h"

unsigned int dx_proto_limit = 64;
EXPORT_SYMBOL(dx_proto_limit);

int dx_proto_send(const void *buf, unsigned long len, int flags)
{
	return buf && len <= dx_proto_limit && !flags;
}
EXPORT_SYMBOL(dx_proto_send);
