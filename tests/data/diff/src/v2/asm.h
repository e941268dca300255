/* SPDX-License-Identifier: GPL-2.0 */
/* asm.h (v2) */
#ifndef DX_ASM_H
#define DX_ASM_H

#include "dx_export.h"

unsigned int dx_checksum(const unsigned char *buf, unsigned long len);
int dx_checksum_len(void);

#endif
