/* SPDX-License-Identifier: GPL-2.0 */
/* kabi.h (v2): the reserved field is used for flags, and the enum has a
 * new value before DX_KIND_MAX; kabi.c's rules keep both out of the
 * versions under --stable. */
#ifndef DX_KABI_FIX_H
#define DX_KABI_FIX_H

#include "dx_kabi.h"

enum dx_kind {
	DX_KIND_A,
	DX_KIND_B,
	DX_KIND_C,
	DX_KIND_MAX,
};

struct dx_buf {
	void *data;
	unsigned int len;
	enum dx_kind kind;
	KABI_USE(1, unsigned long flags);
};

int dx_buf_fill(struct dx_buf *buf, enum dx_kind kind);

#endif
