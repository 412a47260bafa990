#include "bench/loadgen/event_loop.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>

#include "absl/strings/str_cat.h"

namespace ensemble::bench {

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

absl::StatusOr<std::unique_ptr<EventLoop>> EventLoop::Create() {
  int fd = epoll_create1(EPOLL_CLOEXEC);
  if (fd < 0) return absl::InternalError(absl::StrCat("epoll_create1: ", std::strerror(errno)));
  return std::unique_ptr<EventLoop>(new EventLoop(fd));
}

EventLoop::~EventLoop() { close(epoll_fd_); }

absl::StatusOr<EventLoop::Token> EventLoop::Add(int fd, uint32_t events, Handler* handler) {
  uint32_t index;
  if (!free_slots_.empty()) {
    index = free_slots_.back();
    free_slots_.pop_back();
  } else {
    index = static_cast<uint32_t>(slots_.size());
    slots_.push_back({});
  }
  Slot& slot = slots_[index];
  slot.handler = handler;
  Token token = (static_cast<uint64_t>(slot.generation) << 32) | index;
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    int err = errno;
    slot.handler = nullptr;
    ++slot.generation;
    free_slots_.push_back(index);
    return absl::InternalError(absl::StrCat("epoll_ctl add: ", std::strerror(err)));
  }
  return token;
}

absl::Status EventLoop::Modify(Token token, int fd, uint32_t events) {
  epoll_event ev{};
  ev.events = events;
  ev.data.u64 = token;
  if (epoll_ctl(epoll_fd_, EPOLL_CTL_MOD, fd, &ev) != 0) {
    return absl::InternalError(absl::StrCat("epoll_ctl mod: ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

void EventLoop::Remove(Token token, int fd) {
  epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr);
  uint32_t index = static_cast<uint32_t>(token);
  if (index < slots_.size() && slots_[index].generation == static_cast<uint32_t>(token >> 32)) {
    slots_[index].handler = nullptr;
    ++slots_[index].generation;
    free_slots_.push_back(index);
  }
}

void EventLoop::RequestFlush(Handler* handler) { flush_queue_.push_back(handler); }

void EventLoop::RunOnce(int timeout_ms) {
  if (!flush_queue_.empty()) timeout_ms = 0;
  int n = epoll_wait(epoll_fd_, events_.data(), static_cast<int>(events_.size()), timeout_ms);
  for (int i = 0; i < n; ++i) {
    Token token = events_[i].data.u64;
    uint32_t index = static_cast<uint32_t>(token);
    if (index >= slots_.size()) continue;
    Slot& slot = slots_[index];
    if (slot.handler == nullptr || slot.generation != static_cast<uint32_t>(token >> 32)) continue;
    slot.handler->OnEvents(events_[i].events);
  }
  // Flushing may queue more (a failed write closes a connection whose listener
  // sends elsewhere): loop until the queue stays empty.
  while (!flush_queue_.empty()) {
    std::vector<Handler*> queue;
    queue.swap(flush_queue_);
    for (Handler* h : queue) h->OnFlush();
  }
}

}  // namespace ensemble::bench
