/* A small program on ZooKeeper's C client (libzookeeper-mt, Debian), run by
 * test_c_client.py against a live Ensemble gateway. Each CHECK that fails is
 * printed; the exit code is the number of failures. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zookeeper/zookeeper.h>

static int failures = 0;
static int checks = 0;

#define CHECK(cond)                                              \
  do {                                                           \
    ++checks;                                                    \
    if (!(cond)) {                                               \
      ++failures;                                                \
      fprintf(stderr, "%s:%d: failed: %s\n", __FILE__, __LINE__, #cond); \
    }                                                            \
  } while (0)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int connected = 0;
static int data_events = 0;
static int child_events = 0;

static void watcher(zhandle_t *zh, int type, int state, const char *path, void *ctx) {
  pthread_mutex_lock(&mu);
  if (type == ZOO_SESSION_EVENT && state == ZOO_CONNECTED_STATE) connected = 1;
  if (type == ZOO_CHANGED_EVENT) ++data_events;
  if (type == ZOO_CHILD_EVENT) ++child_events;
  pthread_cond_broadcast(&cv);
  pthread_mutex_unlock(&mu);
}

/* Waits until *counter >= want or 10 s pass. */
static int wait_for(int *counter, int want) {
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += 10;
  pthread_mutex_lock(&mu);
  while (*counter < want) {
    if (pthread_cond_timedwait(&cv, &mu, &deadline) == ETIMEDOUT) break;
  }
  int ok = *counter >= want;
  pthread_mutex_unlock(&mu);
  return ok;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s host:port\n", argv[0]);
    return 100;
  }
  zoo_set_debug_level(ZOO_LOG_LEVEL_ERROR);
  zhandle_t *zh = zookeeper_init(argv[1], watcher, 10000, 0, 0, 0);
  CHECK(zh != NULL);
  if (!zh) return 100;
  CHECK(wait_for(&connected, 1));

  char path[256];
  int rc = zoo_create(zh, "/c", "root", 4, &ZOO_OPEN_ACL_UNSAFE, 0, path, sizeof path);
  CHECK(rc == ZOK);
  rc = zoo_create(zh, "/c", "again", 5, &ZOO_OPEN_ACL_UNSAFE, 0, path, sizeof path);
  CHECK(rc == ZNODEEXISTS);
  rc = zoo_create(zh, "/c/seq-", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_SEQUENCE, path, sizeof path);
  CHECK(rc == ZOK && strcmp(path, "/c/seq-0000000000") == 0);
  rc = zoo_create(zh, "/c/eph", "", 0, &ZOO_OPEN_ACL_UNSAFE, ZOO_EPHEMERAL, path, sizeof path);
  CHECK(rc == ZOK);

  char buf[64];
  int len = sizeof buf;
  struct Stat stat;
  rc = zoo_get(zh, "/c", 1, buf, &len, &stat);
  CHECK(rc == ZOK && len == 4 && memcmp(buf, "root", 4) == 0);
  CHECK(stat.numChildren == 2 && stat.version == 0);
  rc = zoo_set(zh, "/c", "new", 3, 0);
  CHECK(rc == ZOK);
  CHECK(wait_for(&data_events, 1));
  rc = zoo_set(zh, "/c", "newer", 5, 0);
  CHECK(rc == ZBADVERSION);

  struct String_vector children;
  rc = zoo_get_children(zh, "/c", 1, &children);
  CHECK(rc == ZOK && children.count == 2);
  if (rc == ZOK) deallocate_String_vector(&children);
  rc = zoo_create(zh, "/c/kid", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, path, sizeof path);
  CHECK(rc == ZOK);
  CHECK(wait_for(&child_events, 1));

  rc = zoo_exists(zh, "/c/none", 0, &stat);
  CHECK(rc == ZNONODE);
  rc = zoo_delete(zh, "/c", -1);
  CHECK(rc == ZNOTEMPTY);

  /* multi: the second op fails, so the first must not apply */
  zoo_op_t ops[2];
  zoo_op_result_t results[2];
  char created[64];
  zoo_create_op_init(&ops[0], "/c/m", "", 0, &ZOO_OPEN_ACL_UNSAFE, 0, created, sizeof created);
  zoo_check_op_init(&ops[1], "/c", 42);
  rc = zoo_multi(zh, 2, ops, results);
  CHECK(rc == ZBADVERSION);
  rc = zoo_exists(zh, "/c/m", 0, &stat);
  CHECK(rc == ZNONODE);

  zookeeper_close(zh);
  printf("c client: %d passed, %d failed\n", checks - failures, failures);
  return failures;
}
