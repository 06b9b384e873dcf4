// An LD_PRELOAD shim that makes every fsync and fdatasync of the process take about
// SLOW_FSYNC_MICROSECONDS longer (default 1000): a disk whose flush costs a millisecond, for
// `Benchmarks/slow-fsync.sh` (docs/PERFORMANCE.md, "Group commit on a slow disk"). The real call
// still runs, so durability is unchanged.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdlib.h>
#include <unistd.h>

static useconds_t delay(void) {
  static useconds_t value = 0;
  static int known = 0;
  if (!known) {
    const char *text = getenv("SLOW_FSYNC_MICROSECONDS");
    long parsed = text ? strtol(text, NULL, 10) : 1000;
    value = parsed > 0 ? (useconds_t)parsed : 0;
    known = 1;
  }
  return value;
}

int fsync(int fd) {
  static int (*real)(int) = NULL;
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  usleep(delay());
  return real(fd);
}

int fdatasync(int fd) {
  static int (*real)(int) = NULL;
  if (!real) real = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  usleep(delay());
  return real(fd);
}
