// An LD_PRELOAD shim that injects disk faults into ensemble-storage: fsync and
// fdatasync are delayed or fail with EIO as a control file says. The fault
// campaign (fault_campaign.py) starts every process with LD_PRELOAD set (the
// launcher passes its environment on); the shim does nothing in any program
// but ensemble-storage.
//
// The control file is disk-fault.ctl beside the storage's --config file (so
// each peer has its own), read at every call: "DELAY_MS EIO_PERCENT", e.g.
// "300 0" (every fsync stalls 300 ms) or "0 100" (every fsync fails with
// EIO, the data is not synced). A missing or empty file means no fault.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_active = 0;
static char g_control[PATH_MAX];
static int (*g_real_fsync)(int) = NULL;
static int (*g_real_fdatasync)(int) = NULL;

static void Init(void) {
  g_real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  g_real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  const char* base = strrchr(exe, '/');
  base = base ? base + 1 : exe;
  if (strcmp(base, "ensemble-storage") != 0) return;
  // The --config argument names the peer's folder.
  int fd = open("/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  char args[8192];
  ssize_t len = read(fd, args, sizeof(args) - 1);
  close(fd);
  if (len <= 0) return;
  args[len] = '\0';
  const char* config = NULL;
  for (const char* p = args; p < args + len; p += strlen(p) + 1) {
    if (strcmp(p, "--config") == 0 && p + strlen(p) + 1 < args + len) {
      config = p + strlen(p) + 1;
      break;
    }
  }
  if (config == NULL) return;
  const char* slash = strrchr(config, '/');
  size_t dir_len = slash ? (size_t)(slash - config) : 0;
  if (dir_len == 0 || dir_len + 32 >= sizeof(g_control)) return;
  memcpy(g_control, config, dir_len);
  snprintf(g_control + dir_len, sizeof(g_control) - dir_len, "/disk-fault.ctl");
  g_active = 1;
}

// Reads the control file; returns 1 when the call must fail with EIO.
static int ApplyFault(void) {
  pthread_once(&g_once, Init);
  if (!g_active) return 0;
  int fd = open(g_control, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[64];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = '\0';
  long delay_ms = 0;
  long eio_percent = 0;
  if (sscanf(buf, "%ld %ld", &delay_ms, &eio_percent) < 1) return 0;
  if (delay_ms > 0) {
    struct timespec ts = {delay_ms / 1000, (delay_ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
  }
  if (eio_percent > 0) {
    // rand() is enough: the campaign's seed decides when, not which call.
    if (eio_percent >= 100 || rand() % 100 < eio_percent) return 1;
  }
  return 0;
}

int fsync(int fd) {
  if (ApplyFault()) {
    errno = EIO;
    return -1;
  }
  return g_real_fsync(fd);
}

int fdatasync(int fd) {
  if (ApplyFault()) {
    errno = EIO;
    return -1;
  }
  return g_real_fdatasync(fd);
}
