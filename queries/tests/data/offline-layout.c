/* Prints the DW_AT_low_pc of every DIE as libdw reads it when an object is
 * opened as upstream gendwarfksyms opens it (dwfl_report_offline, which
 * relocates the debug sections with the object's sections laid out from
 * 0x10000). Records queries/tests/data/offline-layout.tsv:
 *   gcc -o offline-layout offline-layout.c -ldw -lelf    (libdw-dev)
 *   ./offline-layout OBJECT    -> "bias=.. start=..", then one line per DIE,
 *                                 indented by depth: offset, name, low_pc
 */
#include <elfutils/libdwfl.h>
#include <elfutils/libdw.h>
#include <dwarf.h>
#include <fcntl.h>
#include <stdio.h>
#include <inttypes.h>
static const Dwfl_Callbacks cb = { .section_address = dwfl_offline_section_address, .find_debuginfo = dwfl_standard_find_debuginfo };
static void walk(Dwarf_Die *d, int depth) {
  Dwarf_Die c;
  do {
    Dwarf_Attribute a; Dwarf_Addr v;
    if (dwarf_attr(d, DW_AT_low_pc, &a) && dwarf_formaddr(&a, &v) == 0)
      printf("%*s%" PRIx64 " %s low_pc=%" PRIx64 "\n", depth, "", (uint64_t)dwarf_dieoffset(d), dwarf_diename(d) ?: "", (uint64_t)v);
    if (dwarf_child(d, &c) == 0) walk(&c, depth + 1);
  } while (dwarf_siblingof(d, d) == 0);
}
static int mod(Dwfl_Module *m, void **u, const char *n, Dwarf_Addr s, void *arg) {
  Dwarf_Addr bias; Dwarf *dw = dwfl_module_getdwarf(m, &bias);
  printf("bias=%" PRIx64 " start=%" PRIx64 "\n", (uint64_t)bias, (uint64_t)s);
  Dwarf_Off off = 0, next; size_t hs;
  while (dwarf_nextcu(dw, off, &next, &hs, NULL, NULL, NULL) == 0) {
    Dwarf_Die cu; if (dwarf_offdie(dw, off + hs, &cu)) walk(&cu, 0);
    off = next;
  }
  return DWARF_CB_OK;
}
int main(int argc, char **argv) {
  Dwfl *d = dwfl_begin(&cb);
  int fd = open(argv[1], O_RDONLY);
  if (!dwfl_report_offline(d, argv[1], argv[1], fd)) { printf("report failed\n"); return 1; }
  dwfl_report_end(d, NULL, NULL);
  dwfl_getmodules(d, mod, NULL, 0);
  return 0;
}
