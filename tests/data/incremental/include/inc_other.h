/* SPDX-License-Identifier: GPL-2.0 */
/* A struct only inc_c.c uses. */
#ifndef INC_OTHER_H
#define INC_OTHER_H

struct inc_other {
	unsigned int count;
	void *priv;
};

int inc_c_count(const struct inc_other *o);

#endif /* INC_OTHER_H */
