// SPDX-License-Identifier: GPL-2.0
/* enum.c (v1) */
#include "enum.h"

int dx_set_mode(struct dx_ctl *ctl, enum dx_mode mode)
{
	ctl->mode = mode;
	return 0;
}
EXPORT_SYMBOL_NS_GPL(dx_set_mode, "DX_CTL");

enum dx_mode dx_get_mode(const struct dx_ctl *ctl)
{
	return ctl->mode;
}
EXPORT_SYMBOL_NS_GPL(dx_get_mode, "DX_CTL");

unsigned int dx_timeout(const struct dx_ctl *ctl)
{
	return ctl->timeout;
}
EXPORT_SYMBOL_NS_GPL(dx_timeout, "DX_CTL");
