/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dx_export.h - EXPORT_SYMBOL() for the `dwarfksyms diff` fixtures, as the
 * kernel writes it with CONFIG_GENDWARFKSYMS (include/linux/export.h):
 *   - a label __export_symbol_<sym> in ".export_symbol" pointing at the
 *     license string, the namespace string and a reference to <sym>;
 *   - a pointer __gendwarfksyms_ptr_<sym> = &sym in ".discard.gendwarfksyms"
 *     so the type of <sym> is in the unit's DWARF.
 */
#ifndef DX_EXPORT_H
#define DX_EXPORT_H

#define __dx_used		__attribute__((__used__))
#define __dx_section(s)		__attribute__((__section__(s)))
#define ___dx_paste(a, b)	a##b
#define __dx_paste(a, b)	___dx_paste(a, b)

#define __DX_EXPORT_MARKER(sym, license, ns)				\
	__asm__(".pushsection \".export_symbol\",\"a\"\n"		\
		"__export_symbol_" #sym ":\n"				\
		"\t.asciz \"" license "\"\n"				\
		"\t.asciz \"" ns "\"\n"					\
		"\t.balign 8\n"						\
		"\t.quad " #sym "\n"					\
		".popsection\n")

#define __DX_EXPORT_PTR(sym)						\
	static __typeof__(sym) *__gendwarfksyms_ptr_##sym __dx_used	\
		__dx_section(".discard.gendwarfksyms") = &sym

#define __DX_EXPORT(sym, license, ns)					\
	__DX_EXPORT_PTR(sym);						\
	__DX_EXPORT_MARKER(sym, license, ns)

#define EXPORT_SYMBOL(sym)		__DX_EXPORT(sym, "", "")
#define EXPORT_SYMBOL_GPL(sym)		__DX_EXPORT(sym, "GPL", "")
#define EXPORT_SYMBOL_NS_GPL(sym, ns)	__DX_EXPORT(sym, "GPL", ns)

#endif /* DX_EXPORT_H */
