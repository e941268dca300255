/* SPDX-License-Identifier: GPL-2.0 */
/* proto.h (v2): dx_proto_send() takes a size_t-like length and flags,
 * dx_proto_limit is unsigned int, dx_proto_version() moved to
 * proto_compat.c and returns unsigned long. */
#ifndef DX_PROTO_H
#define DX_PROTO_H

#include "dx_export.h"

int dx_proto_send(const void *buf, unsigned long len, int flags);
extern unsigned int dx_proto_limit;
unsigned long dx_proto_version(void);

#endif
