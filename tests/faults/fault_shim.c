// An LD_PRELOAD shim for the fault campaign (fault_campaign.py), which starts
// every process with LD_PRELOAD set (the launcher passes its environment on).
// It does nothing in a program that is not an ensemble-* server.
//
// Disk faults, in ensemble-storage only: fsync and fdatasync are delayed or
// fail with EIO as disk-fault.ctl beside the process's --config file (so each
// peer has its own) says, read at every call: "DELAY_MS EIO_PERCENT", e.g.
// "300 0" (every fsync stalls 300 ms) or "0 100" (every fsync fails with EIO,
// the data is not synced). A missing or empty file means no fault.
//
// Clock jumps, in every ensemble-* process: the wall clock (CLOCK_REALTIME
// through clock_gettime, gettimeofday and time) is shifted by the number of
// seconds in clock-offset.ctl beside the --config file (re-read at most every
// 100 ms of monotonic time). Monotonic clocks are left alone: an NTP step
// moves the wall clock only.
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_active = 0;        // an ensemble-storage with a --config
static int g_clock_active = 0;  // any ensemble-* server with a --config
static char g_control[PATH_MAX];
static char g_clock_control[PATH_MAX];
static int (*g_real_fsync)(int) = NULL;
static int (*g_real_fdatasync)(int) = NULL;
static int (*g_real_clock_gettime)(clockid_t, struct timespec*) = NULL;
static _Atomic long g_offset_s = 0;
static _Atomic long g_offset_checked_ms = -1000000;

static void Init(void) {
  g_real_fsync = (int (*)(int))dlsym(RTLD_NEXT, "fsync");
  g_real_fdatasync = (int (*)(int))dlsym(RTLD_NEXT, "fdatasync");
  g_real_clock_gettime = (int (*)(clockid_t, struct timespec*))dlsym(RTLD_NEXT, "clock_gettime");
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  const char* base = strrchr(exe, '/');
  base = base ? base + 1 : exe;
  if (strncmp(base, "ensemble-", 9) != 0) return;
  const int storage = strcmp(base, "ensemble-storage") == 0;
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
  memcpy(g_clock_control, config, dir_len);
  snprintf(g_control + dir_len, sizeof(g_control) - dir_len, "/disk-fault.ctl");
  snprintf(g_clock_control + dir_len, sizeof(g_clock_control) - dir_len, "/clock-offset.ctl");
  g_active = storage;
  g_clock_active = g_real_clock_gettime != NULL;
}

// The wall-clock offset in seconds (0 without a control file).
static long ClockOffset(void) {
  pthread_once(&g_once, Init);
  if (!g_clock_active) return 0;
  struct timespec now;
  if (g_real_clock_gettime(CLOCK_MONOTONIC_COARSE, &now) != 0) return 0;
  const long now_ms = (long)now.tv_sec * 1000 + now.tv_nsec / 1000000;
  if (now_ms - atomic_load(&g_offset_checked_ms) < 100) return atomic_load(&g_offset_s);
  atomic_store(&g_offset_checked_ms, now_ms);
  long offset = 0;
  int fd = open(g_clock_control, O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    char buf[32];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n > 0) {
      buf[n] = '\0';
      offset = strtol(buf, NULL, 10);
    }
  }
  atomic_store(&g_offset_s, offset);
  return offset;
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

int clock_gettime(clockid_t clock, struct timespec* ts) {
  pthread_once(&g_once, Init);
  if (g_real_clock_gettime == NULL) {
    errno = ENOSYS;
    return -1;
  }
  const int rc = g_real_clock_gettime(clock, ts);
  if (rc == 0 && (clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE)) {
    ts->tv_sec += ClockOffset();
  }
  return rc;
}

int gettimeofday(struct timeval* tv, void* tz) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return -1;
  tv->tv_sec = ts.tv_sec;  // glibc declares tv nonnull
  tv->tv_usec = ts.tv_nsec / 1000;
  if (tz != NULL) memset(tz, 0, sizeof(struct timezone));
  return 0;
}

time_t time(time_t* out) {
  struct timespec ts;
  if (clock_gettime(CLOCK_REALTIME, &ts) != 0) return (time_t)-1;
  if (out != NULL) *out = ts.tv_sec;
  return ts.tv_sec;
}
