/* What a page fault costs on this machine: a 2 MiB huge page (madvise
 * MADV_HUGEPAGE) faulted and zeroed, against 4 KiB pages faulted one by
 * one. docs/performance.md quotes it (session 21).
 *   cc -O2 -o /tmp/thp_fault benches/thp_fault.c && /tmp/thp_fault */
#include <sys/mman.h>
#include <stdio.h>
#include <time.h>
#include <stdint.h>
#include <string.h>
static double us(struct timespec a, struct timespec b){return (b.tv_sec-a.tv_sec)*1e6+(b.tv_nsec-a.tv_nsec)/1e3;}
int main(){
  size_t sz = 64<<20;
  char *p = mmap(0, sz, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, -1, 0);
  char *a = (char*)(((uintptr_t)p + (2<<20) - 1) & ~((uintptr_t)(2<<20)-1));
  struct timespec t0,t1;
  madvise(a, 4<<20, MADV_HUGEPAGE);
  clock_gettime(CLOCK_MONOTONIC,&t0); a[0]=1; clock_gettime(CLOCK_MONOTONIC,&t1);
  printf("thp fault: %.1f us\n", us(t0,t1));
  clock_gettime(CLOCK_MONOTONIC,&t0); memset(a, 1, 2<<20); clock_gettime(CLOCK_MONOTONIC,&t1);
  printf("memset 2MB (faulted): %.1f us\n", us(t0,t1));
  char *q = a + (16<<20); madvise(q, 4<<20, MADV_NOHUGEPAGE);
  clock_gettime(CLOCK_MONOTONIC,&t0);
  for (int i=0;i<512;i++) q[i*4096]=1;
  clock_gettime(CLOCK_MONOTONIC,&t1);
  printf("512 small faults: %.1f us\n", us(t0,t1));
  char *r = a + (24<<20); madvise(r, 4<<20, MADV_NOHUGEPAGE);
  clock_gettime(CLOCK_MONOTONIC,&t0);
  for (int i=0;i<64;i++) r[i*4096]=1;
  clock_gettime(CLOCK_MONOTONIC,&t1);
  printf("64 small faults: %.1f us\n", us(t0,t1));
}
