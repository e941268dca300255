// SPDX-License-Identifier: GPL-2.0
/* kabi.c (v1) */
#include "kabi.h"

int dx_buf_fill(struct dx_buf *buf, enum dx_kind kind)
{
	buf->kind = kind;
	return buf->len;
}
EXPORT_SYMBOL_GPL(dx_buf_fill);
