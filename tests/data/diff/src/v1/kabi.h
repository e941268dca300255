/* SPDX-License-Identifier: GPL-2.0 */
/* kabi.h (v1): a buffer with a reserved field, an enum with a _MAX. */
#ifndef DX_KABI_FIX_H
#define DX_KABI_FIX_H

#include "dx_kabi.h"

enum dx_kind {
	DX_KIND_A,
	DX_KIND_B,
	DX_KIND_MAX,
};

struct dx_buf {
	void *data;
	unsigned int len;
	enum dx_kind kind;
	KABI_RESERVE(1);
};

int dx_buf_fill(struct dx_buf *buf, enum dx_kind kind);

#endif
