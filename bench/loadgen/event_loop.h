#pragma once

// A single-threaded epoll loop for the load generator's sockets (level-triggered).
//
// Handlers register an fd and get a token; events for a token that was removed
// (even if the fd number was reused since) are dropped, so a handler may close
// and reopen its socket from inside a callback. Handlers may ask for a flush:
// after each round of events the loop calls OnFlush() once per handler that
// asked, so everything queued while handling one batch of replies leaves in one
// write. A handler must stay alive while registered or queued for a flush; the
// flush queue is empty whenever RunOnce returns.

#include <sys/epoll.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"

namespace ensemble::bench {

class EventLoop {
 public:
  class Handler {
   public:
    virtual ~Handler() = default;
    virtual void OnEvents(uint32_t events) = 0;
    virtual void OnFlush() {}
  };

  using Token = uint64_t;

  static absl::StatusOr<std::unique_ptr<EventLoop>> Create();
  ~EventLoop();
  EventLoop(const EventLoop&) = delete;
  EventLoop& operator=(const EventLoop&) = delete;

  absl::StatusOr<Token> Add(int fd, uint32_t events, Handler* handler);
  absl::Status Modify(Token token, int fd, uint32_t events);
  // Unregisters; later events for this token are dropped. The caller closes fd.
  void Remove(Token token, int fd);

  void RequestFlush(Handler* handler);

  // Waits up to timeout_ms (0: poll) for events, dispatches them, then flushes.
  void RunOnce(int timeout_ms);

 private:
  explicit EventLoop(int epoll_fd) : epoll_fd_(epoll_fd) {}

  struct Slot {
    Handler* handler = nullptr;
    uint32_t generation = 0;
  };

  int epoll_fd_;
  std::vector<Slot> slots_;
  std::vector<uint32_t> free_slots_;
  std::vector<Handler*> flush_queue_;
  std::vector<epoll_event> events_ = std::vector<epoll_event>(1024);
};

// Monotonic nanoseconds (steady_clock).
int64_t NowNs();

}  // namespace ensemble::bench
