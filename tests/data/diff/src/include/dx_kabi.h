/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dx_kabi.h - the kABI macros of the kernel's
 * scripts/gendwarfksyms/examples/kabi.h that the `dwarfksyms diff`
 * fixtures use. Rules are "1\0<kind>\0<target>\0<value>\0" records in
 * ".discard.gendwarfksyms.kabi_rules"; members rely on the
 * __kabi_reserved / __kabi_renamed / __kabi_ignored name prefixes.
 */
#ifndef DX_KABI_H
#define DX_KABI_H

#include "dx_export.h"

#define ___KABI_RULE(hint, target, value)				\
	static const char __dx_paste(__gendwarfksyms_rule_,		\
				     __COUNTER__)[] __dx_used		\
		__attribute__((__aligned__(1)))				\
		__dx_section(".discard.gendwarfksyms.kabi_rules") =	\
			"1\0" #hint "\0" target "\0" value

#define __KABI_RULE(hint, target, value)				\
	___KABI_RULE(hint, #target, #value)

#define KABI_ENUMERATOR_IGNORE(fqn, field)				\
	__KABI_RULE(enumerator_ignore, fqn field, )
#define KABI_ENUMERATOR_VALUE(fqn, field, value)			\
	__KABI_RULE(enumerator_value, fqn field, value)

#define __KABI_REPLACE(_orig, _new)					\
	union {								\
		_new;							\
		struct {						\
			_orig;						\
		};							\
	}

#define KABI_RESERVE(n)		unsigned long __kabi_reserved##n
#define KABI_USE(number, _new)	__KABI_REPLACE(KABI_RESERVE(number), _new)

#endif /* DX_KABI_H */
