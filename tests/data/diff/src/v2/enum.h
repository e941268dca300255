/* SPDX-License-Identifier: GPL-2.0 */
/* enum.h (v2): DX_MODE_AUTO is 4 now */
#ifndef DX_ENUM_H
#define DX_ENUM_H

#include "dx_export.h"

enum dx_mode {
	DX_MODE_OFF,
	DX_MODE_ON,
	DX_MODE_AUTO = 4,	/* was 2 */
};

struct dx_ctl {
	enum dx_mode mode;
	unsigned int timeout;
};

int dx_set_mode(struct dx_ctl *ctl, enum dx_mode mode);
enum dx_mode dx_get_mode(const struct dx_ctl *ctl);
unsigned int dx_timeout(const struct dx_ctl *ctl);

#endif
