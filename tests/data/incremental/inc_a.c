// SPDX-License-Identifier: GPL-2.0
#include "inc_dev.h"
#include "inc_export.h"

int inc_a_open(struct inc_dev *dev)
{
	dev->flags |= 1;
	return dev->id;
}
EXPORT_SYMBOL(inc_a_open);

/* Last in the file, so a new body moves no other function. */
int inc_a_plain(int x)
{
#ifdef INC_BODY_V2
	return x * 7 - 2;
#else
	return x * 3 + 1;
#endif
}
EXPORT_SYMBOL(inc_a_plain);
