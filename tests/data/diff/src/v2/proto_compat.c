// SPDX-License-Identifier: GPL-2.0
/* proto_compat.c (v2 only): dx_proto_version(), moved from proto.c */
#include "proto.h"

unsigned long dx_proto_version(void)
{
	return 2;
}
EXPORT_SYMBOL(dx_proto_version);
