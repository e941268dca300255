// SPDX-License-Identifier: GPL-2.0
/* asm.c (v2): dx_checksum rewritten in C */
#include "asm.h"

unsigned int dx_checksum(const unsigned char *buf, unsigned long len)
{
	unsigned int sum = 0;

	while (len--)
		sum += *buf++;
	return sum;
}
EXPORT_SYMBOL_GPL(dx_checksum);

int dx_checksum_len(void)
{
	return 4;
}
EXPORT_SYMBOL_GPL(dx_checksum_len);
