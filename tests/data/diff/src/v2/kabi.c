// SPDX-License-Identifier: GPL-2.0
/* kabi.c (v2): the kABI rules that hide the new enumerator. */
#include "kabi.h"

KABI_ENUMERATOR_IGNORE(dx_kind, DX_KIND_C);
KABI_ENUMERATOR_VALUE(dx_kind, DX_KIND_MAX, 2);

int dx_buf_fill(struct dx_buf *buf, enum dx_kind kind)
{
	buf->kind = kind;
	buf->flags = 0;
	return buf->len;
}
EXPORT_SYMBOL_GPL(dx_buf_fill);
