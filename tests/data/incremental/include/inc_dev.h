/* SPDX-License-Identifier: GPL-2.0 */
/* A struct used by two objects (inc_a.c and inc_b.c). */
#ifndef INC_DEV_H
#define INC_DEV_H

struct inc_dev {
	int id;
#ifdef INC_WIDE_FLAGS
	unsigned long long flags;
#else
	long flags;
#endif
	const char *name;
};

int inc_a_open(struct inc_dev *dev);
int inc_a_plain(int x);
long inc_b_flags(const struct inc_dev *dev);
void inc_b_reset(int *counter);

#endif /* INC_DEV_H */
