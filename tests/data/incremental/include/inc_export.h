/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EXPORT_SYMBOL() as kbuild emits it with CONFIG_GENDWARFKSYMS: a label
 * __export_symbol_<sym> in ".export_symbol" at the license string and the
 * namespace string (both empty here), and a pointer to the symbol in
 * ".discard.gendwarfksyms" so its type is in this unit's DWARF.
 */
#ifndef INC_EXPORT_H
#define INC_EXPORT_H

#define EXPORT_SYMBOL(sym)						\
	static __typeof__(sym) *__gendwarfksyms_ptr_##sym		\
		__attribute__((__used__))				\
		__attribute__((__section__(".discard.gendwarfksyms"))) = &sym; \
	__asm__(".pushsection \".export_symbol\",\"a\"\n"		\
		"__export_symbol_" #sym ":\n"				\
		"\t.asciz \"\"\n"					\
		"\t.asciz \"\"\n"					\
		".popsection\n")

#endif /* INC_EXPORT_H */
