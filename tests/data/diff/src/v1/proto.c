// SPDX-License-Identifier: GPL-2.0
/* proto.c (v1) */
#include "proto.h"

long dx_proto_limit = 64;
EXPORT_SYMBOL(dx_proto_limit);

int dx_proto_send(const void *buf, unsigned int len)
{
	return buf && len <= dx_proto_limit;
}
EXPORT_SYMBOL(dx_proto_send);

unsigned int dx_proto_version(void)
{
	return 1;
}
EXPORT_SYMBOL(dx_proto_version);
