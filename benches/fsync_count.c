/* Counts a process's fsync and fdatasync calls, for benches/bench.sh's durability part.
 *
 *   cc -O2 -shared -fPIC -o fsync_count.so benches/fsync_count.c -ldl
 *   FSYNC_COUNT_FILE=/path/counts LD_PRELOAD=./fsync_count.so redis-server ...
 *
 * The counters live in the first 16 bytes of FSYNC_COUNT_FILE (u64 fsync calls, u64
 * fdatasync calls, native endianness), mapped shared, so the bench reads them while
 * the server runs (od -An -tu8 -N16 FILE) and the children a server forks (Redis's
 * AOF rewrite) count into the same place. One relaxed atomic add per call: nothing
 * next to the flush itself. (Per-process perf counters do not work on this VM, and
 * strace would slow every syscall of the server.) */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static uint64_t *counts;
static int (*real_fsync)(int);
static int (*real_fdatasync)(int);

__attribute__((constructor)) static void fsync_count_init(void) {
  real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  const char *path = getenv("FSYNC_COUNT_FILE");
  if (path == NULL || *path == '\0') return;
  int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) return;
  if (ftruncate(fd, 4096) == 0) {
    void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (m != MAP_FAILED) counts = (uint64_t *)m;
  }
  close(fd);
}

int fsync(int fd) {
  if (counts != NULL) __atomic_fetch_add(&counts[0], 1, __ATOMIC_RELAXED);
  if (real_fsync == NULL) real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  return real_fsync(fd);
}

int fdatasync(int fd) {
  if (counts != NULL) __atomic_fetch_add(&counts[1], 1, __ATOMIC_RELAXED);
  if (real_fdatasync == NULL) real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  return real_fdatasync(fd);
}
