#include "bench/loadgen/zk_connection.h"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/check.h"
#include "common/jute/zoo_defs.h"

namespace ensemble::bench {

absl::StatusOr<Endpoint> ParseEndpoint(std::string_view text) {
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("server '", std::string(text), "' is not host:port"));
  }
  std::string host(text.substr(0, colon));
  std::string_view port_text = text.substr(colon + 1);
  if (host == "localhost") host = "127.0.0.1";
  int port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port <= 0 ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad port in '", std::string(text), "'"));
  }
  Endpoint e;
  e.address.sin_family = AF_INET;
  e.address.sin_port = htons(static_cast<uint16_t>(port));
  if (inet_pton(AF_INET, host.c_str(), &e.address.sin_addr) != 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("host in '", std::string(text), "' is not an IPv4 address or localhost"));
  }
  e.label = absl::StrCat(host, ":", port);
  return e;
}

absl::StatusOr<std::vector<Endpoint>> ParseEndpoints(std::string_view text) {
  std::vector<Endpoint> out;
  size_t start = 0;
  while (start <= text.size()) {
    size_t end = text.find(',', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view part = text.substr(start, end - start);
    if (!part.empty()) {
      auto e = ParseEndpoint(part);
      if (!e.ok()) return e.status();
      out.push_back(*e);
    }
    start = end + 1;
  }
  if (out.empty()) return absl::InvalidArgumentError("no servers given");
  return out;
}

ZkConnection::ZkConnection(EventLoop* loop, Listener* listener, Endpoint server, Config config)
    : loop_(loop), listener_(listener), server_(std::move(server)), config_(config) {}

ZkConnection::~ZkConnection() { CloseSocket(); }

absl::Status ZkConnection::Start() {
  ENSEMBLE_CHECK(state_ == State::kIdle || state_ == State::kClosed);
  sent_.clear();
  out_.clear();
  out_offset_ = 0;
  decoder_ = std::make_unique<jute::FrameDecoder>();
  session_id_ = 0;
  next_xid_ = 1;
  tcp_connected_ = false;
  connect_started_ns_ = NowNs();
  fd_ = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  int one = 1;
  setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  int rc =
      connect(fd_, reinterpret_cast<const sockaddr*>(&server_.address), sizeof server_.address);
  if (rc != 0 && errno != EINPROGRESS) {
    int err = errno;
    close(fd_);
    fd_ = -1;
    return absl::UnavailableError(
        absl::StrCat("connect to ", server_.label, ": ", std::strerror(err)));
  }
  auto token = loop_->Add(fd_, EPOLLIN | EPOLLOUT, this);
  if (!token.ok()) {
    close(fd_);
    fd_ = -1;
    return token.status();
  }
  token_ = *token;
  want_write_ = true;
  state_ = State::kConnecting;
  jute::ConnectRequest request;
  request.protocol_version = jute::kProtocolVersion;
  request.timeout_ms = config_.session_timeout_ms;
  request.passwd = std::string(jute::kSessionPasswordLength, '\0');
  out_ = jute::EncodeConnectRequest(request);
  last_send_ns_ = connect_started_ns_;
  return absl::OkStatus();
}

int32_t ZkConnection::Send(jute::OpCode op, const jute::RequestBody& body, uint64_t tag) {
  ENSEMBLE_CHECK(state_ == State::kConnected);
  int32_t xid = next_xid_++;
  jute::AppendRequest(&out_, jute::RequestHeader{xid, static_cast<int32_t>(op)}, body);
  last_send_ns_ = NowNs();
  sent_.push_back(Sent{xid, op, tag, last_send_ns_});
  QueueFlush();
  return xid;
}

void ZkConnection::SendClose(uint64_t tag) {
  ENSEMBLE_CHECK(state_ == State::kConnected);
  Send(jute::OpCode::kCloseSession, jute::EmptyRecord{}, tag);
  state_ = State::kClosing;
}

void ZkConnection::Tick(int64_t now_ns) {
  if (state_ != State::kConnected) return;
  int64_t idle_ns = int64_t{config_.session_timeout_ms} * 1000000 / 3;
  if (now_ns - last_send_ns_ < idle_ns) return;
  jute::AppendRequest(
      &out_, jute::RequestHeader{jute::kPingXid, static_cast<int32_t>(jute::OpCode::kPing)},
      jute::EmptyRecord{});
  last_send_ns_ = now_ns;
  QueueFlush();
}

void ZkConnection::Abort() {
  CloseSocket();
  sent_.clear();
  state_ = State::kClosed;
}

void ZkConnection::CloseSocket() {
  if (fd_ >= 0) {
    loop_->Remove(token_, fd_);
    close(fd_);
    fd_ = -1;
    ++epoch_;
  }
  want_write_ = false;
}

void ZkConnection::QueueFlush() {
  if (flush_queued_) return;
  flush_queued_ = true;
  loop_->RequestFlush(this);
}

void ZkConnection::Fail(absl::Status status, int64_t now_ns) {
  if (state_ == State::kClosed || state_ == State::kIdle) return;
  CloseSocket();
  state_ = State::kClosed;
  std::vector<Sent> lost(sent_.begin(), sent_.end());
  sent_.clear();
  listener_->OnClosed(*this, status, std::move(lost), now_ns);
}

void ZkConnection::OnFlush() {
  flush_queued_ = false;
  if (fd_ < 0 || !tcp_connected_) return;  // sent once the socket is writable
  WriteOut();
}

bool ZkConnection::WriteOut() {
  while (out_offset_ < out_.size()) {
    ssize_t n = send(fd_, out_.data() + out_offset_, out_.size() - out_offset_, MSG_NOSIGNAL);
    if (n > 0) {
      out_offset_ += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    Fail(
        absl::UnavailableError(absl::StrCat("send to ", server_.label, ": ", std::strerror(errno))),
        NowNs());
    return false;
  }
  if (out_offset_ == out_.size()) {
    out_.clear();
    out_offset_ = 0;
  } else if (out_offset_ > (1 << 20)) {
    out_.erase(0, out_offset_);
    out_offset_ = 0;
  }
  UpdateInterest();
  return true;
}

void ZkConnection::UpdateInterest() {
  bool want = out_offset_ < out_.size();
  if (want == want_write_ || fd_ < 0) return;
  want_write_ = want;
  uint32_t events = EPOLLIN;
  if (want) events |= EPOLLOUT;
  (void)loop_->Modify(token_, fd_, events);
}

void ZkConnection::OnEvents(uint32_t events) {
  if (fd_ < 0) return;
  // Callbacks may close this connection and even start a new one on it: stop
  // touching the socket as soon as the epoch moves.
  const uint64_t epoch = epoch_;
  if (!tcp_connected_ && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      Fail(absl::UnavailableError(
               absl::StrCat("connect to ", server_.label, ": ", std::strerror(err))),
           NowNs());
      return;
    }
    tcp_connected_ = true;
  }
  if ((events & EPOLLOUT) && tcp_connected_) {
    if (!WriteOut() || epoch_ != epoch) return;
  }
  if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
    char buffer[64 * 1024];
    for (int reads = 0; reads < 16 && epoch_ == epoch; ++reads) {
      ssize_t n = recv(fd_, buffer, sizeof buffer, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
      int64_t now = NowNs();
      if (n <= 0) {
        std::string why = n == 0 ? "closed by the server" : std::strerror(errno);
        Fail(absl::UnavailableError(absl::StrCat("connection to ", server_.label, " ", why)), now);
        return;
      }
      decoder_->Feed(std::string_view(buffer, static_cast<size_t>(n)));
      while (epoch_ == epoch) {
        auto frame = decoder_->Next();
        if (!frame.ok()) {
          Fail(absl::DataLossError(
                   absl::StrCat("bad frame from ", server_.label, ": ", frame.status().message())),
               now);
          return;
        }
        if (!frame->has_value()) break;
        HandleFrame(**frame, now);
      }
      if (epoch_ != epoch || static_cast<size_t>(n) < sizeof buffer) break;
    }
  }
}

void ZkConnection::HandleFrame(std::string_view payload, int64_t now_ns) {
  if (state_ == State::kConnecting) {
    auto response = jute::DecodeConnectResponse(payload);
    if (!response.ok()) {
      Fail(absl::DataLossError(absl::StrCat("ConnectResponse from ", server_.label, ": ",
                                            response.status().message())),
           now_ns);
      return;
    }
    if (response->timeout_ms <= 0) {
      Fail(absl::UnavailableError(absl::StrCat(server_.label, " refused the session (expired)")),
           now_ns);
      return;
    }
    session_id_ = response->session_id;
    state_ = State::kConnected;
    listener_->OnConnected(*this, now_ns);
    return;
  }
  auto header = jute::DecodeReplyHeader(payload);
  if (!header.ok()) {
    Fail(absl::DataLossError(
             absl::StrCat("ReplyHeader from ", server_.label, ": ", header.status().message())),
         now_ns);
    return;
  }
  if (header->xid == jute::kNotificationXid) {
    auto response = jute::DecodeResponse(payload, jute::OpCode::kNotification,
                                         jute::DecodeOptions{.allow_trailing_bytes = true});
    if (!response.ok() || !std::holds_alternative<jute::WatcherEvent>(response->body)) {
      Fail(absl::DataLossError(absl::StrCat("bad notification from ", server_.label)), now_ns);
      return;
    }
    listener_->OnNotification(*this, std::get<jute::WatcherEvent>(response->body), now_ns);
    return;
  }
  if (header->xid == jute::kPingXid) return;
  if (sent_.empty() || sent_.front().xid != header->xid) {
    Fail(absl::DataLossError(absl::StrCat("reply xid ", header->xid, " from ", server_.label,
                                          " does not match the oldest request (",
                                          sent_.empty() ? 0 : sent_.front().xid, ")")),
         now_ns);
    return;
  }
  Sent sent = sent_.front();
  sent_.pop_front();
  listener_->OnReply(*this, sent, *header, payload, now_ns);
  if (sent.op == jute::OpCode::kCloseSession && fd_ >= 0) {
    CloseSocket();
    state_ = State::kClosed;
    std::vector<Sent> lost(sent_.begin(), sent_.end());
    sent_.clear();
    listener_->OnClosed(*this, absl::OkStatus(), std::move(lost), now_ns);
  }
}

}  // namespace ensemble::bench
