/* SPDX-License-Identifier: GPL-2.0 */
/* proto.h (v1) */
#ifndef DX_PROTO_H
#define DX_PROTO_H

#include "dx_export.h"

int dx_proto_send(const void *buf, unsigned int len);
extern long dx_proto_limit;
unsigned int dx_proto_version(void);

#endif
