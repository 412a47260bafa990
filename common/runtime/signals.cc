#include "common/runtime/signals.h"

#include <pthread.h>
#include <signal.h>

namespace ensemble::runtime {
namespace {

sigset_t ShutdownSet() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  return set;
}

}  // namespace

void BlockShutdownSignals() {
  // A peer or client that goes away must not kill the process through SIGPIPE.
  signal(SIGPIPE, SIG_IGN);
  sigset_t set = ShutdownSet();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

int WaitForShutdownSignal() {
  sigset_t set = ShutdownSet();
  int sig = 0;
  sigwait(&set, &sig);
  return sig;
}

}  // namespace ensemble::runtime
