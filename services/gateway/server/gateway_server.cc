#include "services/gateway/server/gateway_server.h"

#include <dirent.h>
#include <pwd.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstring>
#include <future>
#include <random>

#include "absl/strings/str_cat.h"
#include "common/base/zxid.h"
#include "common/jute/zk_error.h"
#include "common/runtime/admin_service.h"
#include "spdlog/spdlog.h"

namespace ensemble::gateway {

using ensemble::replication::v1::SubmitRequest;
using ensemble::replication::v1::SubmitResponse;
using ensemble::storage::v1::GatewayMessage;
using ensemble::storage::v1::StorageMessage;

namespace {

constexpr int64_t kPollIntervalMs = 2000;
constexpr int kMaxMessageBytes = 64 * 1024 * 1024;
// A batch this large goes out at once rather than waiting for the flush, so no
// message nears gRPC's limit (servers accept 64 MiB; jute.maxbuffer caps a request).
constexpr size_t kBatchFlushBytes = 4 * 1024 * 1024;

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

int64_t WallMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::shared_ptr<grpc::Channel> MakeChannel(const std::string& address) {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  args.SetMaxSendMessageSize(kMaxMessageBytes);
  return grpc::CreateCustomChannel(address, grpc::InsecureChannelCredentials(), args);
}

// Replication's role as ZooKeeper's `Mode:` line names it.
std::string ModeOf(const std::string& role) {
  if (role == "leading") return "leader";
  if (role == "following") return "follower";
  if (role == "observing") return "observer";
  return role;
}

// "3.8.0-ensemble-0.1.0, built on 2026-11-23 13:31 UTC" from the compiler's date.
std::string VersionString() {
  static const std::string version = [] {
    const char* months = "JanFebMarAprMayJunJulAugSepOctNovDec";
    const std::string date = __DATE__;  // "Nov 23 2026"
    const std::string time = __TIME__;  // "13:31:07"
    int month = static_cast<int>(std::string(months).find(date.substr(0, 3)) / 3) + 1;
    int day = std::atoi(date.substr(4, 2).c_str());
    char built[64];
    std::snprintf(built, sizeof(built), "%s-%02d-%02d %s UTC", date.substr(7, 4).c_str(), month,
                  day, time.substr(0, 5).c_str());
    return absl::StrCat("3.8.0-ensemble-", runtime::EnsembleVersion(), ", built on ", built);
  }();
  return version;
}

int64_t OpenFileDescriptors() {
  int64_t count = 0;
  if (DIR* dir = opendir("/proc/self/fd")) {
    while (readdir(dir) != nullptr) ++count;
    closedir(dir);
    count -= 3;  // ".", ".." and the directory's own descriptor
  }
  return count < 0 ? 0 : count;
}

int64_t MaxFileDescriptors() {
  struct rlimit limit {};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return 0;
  return static_cast<int64_t>(limit.rlim_cur);
}

std::vector<std::pair<std::string, std::string>> Environment(uint64_t gateway_id) {
  std::vector<std::pair<std::string, std::string>> env;
  env.emplace_back("zookeeper.version", VersionString());
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  env.emplace_back("host.name", host);
  struct utsname uts {};
  if (uname(&uts) == 0) {
    env.emplace_back("os.name", uts.sysname);
    env.emplace_back("os.arch", uts.machine);
    env.emplace_back("os.version", uts.release);
  }
  if (struct passwd* pw = getpwuid(getuid())) {
    env.emplace_back("user.name", pw->pw_name);
    env.emplace_back("user.home", pw->pw_dir);
  }
  char cwd[4096] = {0};
  if (getcwd(cwd, sizeof(cwd) - 1) != nullptr) env.emplace_back("user.dir", cwd);
  env.emplace_back("ensemble.gateway_id", absl::StrCat(absl::Hex(gateway_id)));
  return env;
}

// "/1.2.3.4:5" as Java prints an InetSocketAddress; the host alone for identities.
std::pair<std::string, std::string> Describe(const asio::ip::tcp::endpoint& endpoint) {
  asio::ip::address address = endpoint.address();
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
  }
  std::string host = address.to_string();
  std::string remote = address.is_v6() ? absl::StrCat("/[", host, "]:", endpoint.port())
                                       : absl::StrCat("/", host, ":", endpoint.port());
  return {remote, host};
}

// Voting members among the `conf` lines' server.N entries ("host:q:e:participant").
int64_t VotingMembers(const std::vector<std::pair<std::string, std::string>>& conf) {
  int64_t voters = 0;
  for (const auto& [key, value] : conf) {
    if (key.rfind("server.", 0) != 0) continue;
    const bool observer = value.size() >= 9 && value.compare(value.size() - 9, 9, ":observer") == 0;
    if (!observer) ++voters;
  }
  return voters;
}

bool IsLoopback(const std::string& ip) {
  return ip == "::1" || ip.rfind("127.", 0) == 0 || ip.rfind("::ffff:127.", 0) == 0;
}

struct StateCall {
  grpc::ClientContext context;
  ensemble::storage::v1::GetStateRequest request;
  ensemble::storage::v1::StorageState response;
};

struct StatusCall {
  grpc::ClientContext context;
  ensemble::admin::v1::StatusRequest request;
  ensemble::admin::v1::StatusResponse response;
};

struct WatchesCall {
  grpc::ClientContext context;
  ensemble::admin::v1::WatchesRequest request;
  ensemble::admin::v1::WatchesResponse response;
};

struct SessionsCall {
  grpc::ClientContext context;
  ensemble::storage::v1::ListSessionsRequest request;
  ensemble::storage::v1::ListSessionsResponse response;
};

// "/1.2.3.4:5" and "1.2.3.4:5" name the same remote.
std::string_view WithoutSlash(std::string_view remote) {
  return !remote.empty() && remote.front() == '/' ? remote.substr(1) : remote;
}

}  // namespace

uint64_t RandomGatewayId() {
  std::random_device device;
  std::mt19937_64 rng((static_cast<uint64_t>(device()) << 32) ^ device() ^
                      static_cast<uint64_t>(WallMs()) ^ static_cast<uint64_t>(getpid()));
  uint64_t id = 0;
  while (id == 0) id = rng();
  return id;
}

GatewayServer::GatewayServer(GatewayOptions options, prometheus::Registry& registry)
    : options_(std::move(options)),
      gateway_id_(options_.gateway_id != 0 ? options_.gateway_id : RandomGatewayId()),
      metrics_(registry),
      io_(std::make_shared<asio::io_context>(1)),
      work_(asio::make_work_guard(*io_)),
      acceptor_(*io_),
      timer_(*io_),
      storage_retry_(*io_),
      replication_retry_(*io_) {
  storage_channel_ = MakeChannel(options_.storage_address);
  replication_channel_ = MakeChannel(options_.replication_address);
  storage_stub_ = ensemble::storage::v1::Storage::NewStub(storage_channel_);
  replication_stub_ = ensemble::replication::v1::Replication::NewStub(replication_channel_);
  replication_admin_ = ensemble::admin::v1::Admin::NewStub(replication_channel_);
  storage_admin_ = ensemble::admin::v1::Admin::NewStub(storage_channel_);
  metrics_.SetQuorumSize(VotingMembers(options_.conf));
}

absl::StatusOr<std::unique_ptr<GatewayServer>> GatewayServer::Start(
    GatewayOptions options, prometheus::Registry& registry) {
  std::unique_ptr<GatewayServer> server(new GatewayServer(std::move(options), registry));
  GatewayServer* s = server.get();
  std::error_code error;
  asio::ip::tcp::resolver resolver(*s->io_);
  auto endpoints =
      resolver.resolve(s->options_.client_address, std::to_string(s->options_.client_port),
                       asio::ip::tcp::resolver::passive, error);
  if (error || endpoints.empty()) {
    return absl::UnavailableError(absl::StrCat("cannot resolve clientPortAddress '",
                                               s->options_.client_address, "': ", error.message()));
  }
  asio::ip::tcp::endpoint endpoint = endpoints.begin()->endpoint();
  s->acceptor_.open(endpoint.protocol(), error);
  if (!error) s->acceptor_.set_option(asio::ip::tcp::acceptor::reuse_address(true), error);
  if (!error) s->acceptor_.bind(endpoint, error);
  if (!error) s->acceptor_.listen(asio::socket_base::max_listen_connections, error);
  if (error) {
    return absl::UnavailableError(absl::StrCat("cannot listen on client port ",
                                               s->options_.client_address, ":",
                                               s->options_.client_port, ": ", error.message()));
  }
  s->port_ = s->acceptor_.local_endpoint().port();
  asio::post(*s->io_, [s] {
    s->UpdateClock();
    s->started_ms_ = s->env_.now_ms;
    s->Accept();
    s->ConnectStorage();
    s->ConnectReplication();
    s->OnTimer();
  });
  s->thread_ = std::thread([s] { s->io_->run(); });
  spdlog::info("gateway.started gateway_id={:x} client_port={}:{} storage={} replication={}",
               s->gateway_id_, s->options_.client_address, s->port_, s->options_.storage_address,
               s->options_.replication_address);
  return server;
}

GatewayServer::~GatewayServer() { Stop(); }

void GatewayServer::Stop() {
  if (stopped_.exchange(true)) return;
  std::promise<std::pair<std::shared_ptr<ServeStream>, std::shared_ptr<SubmitStream>>> streams;
  auto future = streams.get_future();
  asio::post(*io_, [this, &streams] {
    std::error_code ignored;
    acceptor_.close(ignored);
    timer_.cancel();
    storage_retry_.cancel();
    replication_retry_.cancel();
    std::vector<std::shared_ptr<ClientLink>> links;
    for (auto& [id, link] : links_) links.push_back(link);
    for (auto& link : links) link->CloseNow();
    if (storage_stream_) storage_stream_->Cancel();
    if (replication_stream_) replication_stream_->Cancel();
    for (auto& [session, kill] : std::exchange(pending_kills_, {})) {
      kill.done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is stopping"));
    }
    streams.set_value({storage_stream_, replication_stream_});
  });
  // Wait for the gRPC calls to end so no callback outlives this object's members.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  if (future.wait_until(deadline) == std::future_status::ready) {
    auto [serve, submit] = future.get();
    while (std::chrono::steady_clock::now() < deadline &&
           ((serve && !serve->done()) || (submit && !submit->done()) || calls_in_flight_ > 0)) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  work_.reset();
  io_->stop();
  if (thread_.joinable()) thread_.join();
  spdlog::info("gateway.stopped gateway_id={:x}", gateway_id_);
}

GatewayServer::Status GatewayServer::GetStatus() const {
  std::lock_guard<std::mutex> lock(status_mu_);
  return status_;
}

void GatewayServer::SetServingCallback(std::function<void(bool)> callback) {
  asio::post(*io_, [this, callback = std::move(callback)]() mutable {
    serving_callback_ = std::move(callback);
    if (serving_callback_) serving_callback_(serving_);
  });
}

// ---- io thread ----

void GatewayServer::UpdateClock() {
  env_.now_ms = SteadyMs();
  env_.wall_ms = WallMs();
}

void GatewayServer::Accept() {
  acceptor_.async_accept([this](const std::error_code& error, asio::ip::tcp::socket socket) {
    if (stopped_ || !acceptor_.is_open()) return;
    if (!error) {
      OnAccepted(std::move(socket));
    } else if (error != asio::error::operation_aborted) {
      spdlog::warn("gateway.accept_failed error={}", error.message());
    }
    Accept();
  });
}

void GatewayServer::OnAccepted(asio::ip::tcp::socket socket) {
  UpdateClock();
  std::error_code error;
  asio::ip::tcp::endpoint endpoint = socket.remote_endpoint(error);
  if (error) return;
  auto [remote, ip] = Describe(endpoint);
  if (options_.max_cnxns > 0 && links_.size() >= static_cast<size_t>(options_.max_cnxns)) {
    spdlog::warn("gateway.connection_refused client={} reason=maxCnxns max={}", remote,
                 options_.max_cnxns);
    metrics_.connections_refused->Increment();
    metrics_.zk_connection_rejected->Increment();
    socket.close(error);
    return;
  }
  if (options_.max_client_cnxns > 0 && per_ip_[ip] >= options_.max_client_cnxns) {
    // ZooKeeper: "Too many connections from /ip - max is N".
    spdlog::warn("gateway.connection_refused client={} reason=maxClientCnxns max={}", remote,
                 options_.max_client_cnxns);
    metrics_.connections_refused->Increment();
    metrics_.zk_connection_rejected->Increment();
    socket.close(error);
    return;
  }
  socket.set_option(asio::ip::tcp::no_delay(true), error);
  uint64_t id = 0;
  while (id == 0 || links_.count(id) != 0) {
    id = next_link_id_;
    next_link_id_ = next_link_id_ >= 0x7fffffffULL ? 1 : next_link_id_ + 1;
  }
  auto conn = std::make_unique<Connection>(id, remote, ip, &options_.connection, &env_);
  auto link = std::make_shared<ClientLink>(
      this, std::move(socket), std::move(conn),
      static_cast<size_t>(std::max<int64_t>(0, options_.max_send_queue_bytes)));
  links_[id] = link;
  ++per_ip_[ip];
  metrics_.connections_accepted->Increment();
  metrics_.connections->Set(static_cast<double>(links_.size()));
  spdlog::debug("gateway.accepted client={} link={}", remote, id);
  link->MaybeRead();
}

void GatewayServer::OnLinkRead(ClientLink& link, std::string_view bytes) {
  UpdateClock();
  metrics_.bytes_received->Increment(static_cast<double>(bytes.size()));
  metrics_.zk_bytes_received->Increment(static_cast<double>(bytes.size()));
  auto keep = link.shared_from_this();
  link.connection().OnBytes(bytes);
  Pump(keep);
}

void GatewayServer::OnLinkEnd(ClientLink& link, const std::error_code& error) {
  UpdateClock();
  auto keep = link.shared_from_this();
  if (error && error != asio::error::eof) {
    spdlog::debug("gateway.socket_error client={} error={}", link.connection().remote(),
                  error.message());
  }
  link.connection().OnEndOfStream();
  Pump(keep);
}

void GatewayServer::OnLinkClosed(ClientLink& link) {
  const Connection& conn = link.connection();
  auto it = links_.find(link.id());
  if (it == links_.end() || it->second.get() != &link) return;
  if (auto ip = per_ip_.find(conn.client_ip()); ip != per_ip_.end() && --ip->second <= 0) {
    per_ip_.erase(ip);
  }
  outstanding_total_ -= link.counted_outstanding;
  link.counted_outstanding = 0;
  const int64_t session = conn.session_id();
  if (session != 0) {
    auto s = sessions_.find(session);
    if (s != sessions_.end() && s->second == link.id()) {
      // The session lives on until it expires; its watches go now (ZooKeeper drops
      // a connection's watches when the connection closes).
      sessions_.erase(s);
      storage_batch_.add_detach_sessions(session);
      ScheduleFlush();
    }
  }
  auto keep = it->second;
  links_.erase(it);
  metrics_.connections->Set(static_cast<double>(links_.size()));
  metrics_.sessions->Set(static_cast<double>(sessions_.size()));
  UpdateThrottle();
}

void GatewayServer::OnLinkBlocked(ClientLink& link, bool blocked) {
  UpdateClock();
  Connection& conn = link.connection();
  if (blocked) {
    link.blocked_since_ms = env_.now_ms;
    metrics_.read_pauses_send_queue->Increment();
    spdlog::debug("gateway.send_queue_full client={} session=0x{:x} unsent_bytes={} limit={}",
                  conn.remote(), conn.session_id(), link.unsent_bytes(),
                  options_.max_send_queue_bytes);
    conn.SetOutputBlocked(true);
    return;
  }
  conn.SetOutputBlocked(false);
  auto keep = link.shared_from_this();
  Pump(keep);
}

void GatewayServer::CountOutstanding(ClientLink& link) {
  // Globally, what is in flight upstream counts (requests a connection holds
  // back, for ordering or while its client does not read, are bounded by
  // ensemble.maxOutstandingPerConnection and must not stall everyone).
  // A closing link's requests are gone with it (OnLinkClosed un-counted them).
  const int64_t in_flight = link.closing() ? 0 : link.connection().in_flight();
  outstanding_total_ += in_flight - link.counted_outstanding;
  link.counted_outstanding = in_flight;
  const auto queued = static_cast<int64_t>(link.connection().queued());
  const bool at_cap = queued >= std::max(1, options_.connection.max_outstanding);
  if (at_cap && !link.at_outstanding_cap) metrics_.read_pauses_connection->Increment();
  link.at_outstanding_cap = at_cap;
}

// globalOutstandingLimit: like ZooKeeper's server, stop reading from every
// client while too many requests are unanswered; resume below the limit.
void GatewayServer::UpdateThrottle() {
  const int64_t limit = std::max(1, options_.global_outstanding_limit);
  if (!throttled_ && outstanding_total_ >= limit) {
    throttled_ = true;
    ++throttle_count_;
    metrics_.read_pauses_global->Increment();
    metrics_.throttled->Set(1);
    if (env_.now_ms - throttle_logged_ms_ >= 5000) {
      spdlog::info(
          "gateway.throttling outstanding={} globalOutstandingLimit={} pauses_since_last_log={} "
          "(client sockets are not read until requests are answered)",
          outstanding_total_, limit, throttle_count_);
      throttle_logged_ms_ = env_.now_ms;
      throttle_count_ = 0;
    }
  } else if (throttled_ && outstanding_total_ < limit) {
    throttled_ = false;
    metrics_.throttled->Set(0);
    std::vector<std::shared_ptr<ClientLink>> links;
    links.reserve(links_.size());
    for (auto& [id, link] : links_) links.push_back(link);
    for (auto& link : links) link->MaybeRead();
  }
}

// ensemble.maxSendQueueBytes: a client whose replies stay queued over the bound
// for its session timeout reads nothing; drop it (its session lives on until
// it expires, as after any lost connection).
void GatewayServer::CloseStuckClients() {
  std::vector<std::shared_ptr<ClientLink>> stuck;
  for (auto& [id, link] : links_) {
    if (!link->blocked() || link->closing()) continue;
    const Connection& conn = link->connection();
    const int64_t limit =
        conn.established() ? conn.timeout_ms() : options_.connection.sessionless_timeout_ms;
    if (env_.now_ms - link->blocked_since_ms >= limit) stuck.push_back(link);
  }
  for (auto& link : stuck) {
    const Connection& conn = link->connection();
    spdlog::warn(
        "gateway.connection_closed client={} session=0x{:x} reason=\"the client read nothing "
        "for {} ms with {} bytes queued for it (ensemble.maxSendQueueBytes={})\"",
        conn.remote(), conn.session_id(), env_.now_ms - link->blocked_since_ms,
        link->unsent_bytes(), options_.max_send_queue_bytes);
    metrics_.stuck_clients_closed->Increment();
    link->CloseNow();
  }
}

std::shared_ptr<ClientLink> GatewayServer::FindLink(uint64_t id) {
  auto it = links_.find(id);
  return it == links_.end() ? nullptr : it->second;
}

std::shared_ptr<ClientLink> GatewayServer::FindSession(int64_t session_id) {
  auto it = sessions_.find(session_id);
  return it == sessions_.end() ? nullptr : FindLink(it->second);
}

void GatewayServer::Pump(const std::shared_ptr<ClientLink>& link) {
  Connection& conn = link->connection();
  Effects e = conn.TakeEffects();
  packets_received_ += e.frames_in;
  packets_sent_ += e.frames_out;
  metrics_.Packets(e.frames_in, e.frames_out);
  if (e.frames_out > 0 && !e.four_letter_word) CountResponses(*link, e.to_client, e.frames_out);
  bool upstream = false;
  for (auto& read : e.reads) {
    storage_batch_bytes_ += read.ByteSizeLong();
    *storage_batch_.add_reads() = std::move(read);
    upstream = true;
  }
  for (auto& txn : e.txns) {
    txn.mutable_header()->set_origin(gateway_id_);
    replication_batch_bytes_ += txn.ByteSizeLong();
    *replication_batch_.add_txns() = std::move(txn);
    upstream = true;
  }
  for (uint64_t id : e.syncs) {
    replication_batch_.add_syncs()->set_id(id);
    upstream = true;
  }
  if (e.touched && conn.established()) touched_.insert(conn.session_id());
  if (e.attached_session != 0) {
    const int64_t session = e.attached_session;
    auto it = sessions_.find(session);
    std::shared_ptr<ClientLink> previous;
    if (it != sessions_.end() && it->second != link->id()) previous = FindLink(it->second);
    sessions_[session] = link->id();
    metrics_.sessions->Set(static_cast<double>(sessions_.size()));
    metrics_.SessionAttached();
    spdlog::info("gateway.session_attached session=0x{:x} client={} timeout_ms={}", session,
                 conn.remote(), conn.timeout_ms());
    if (previous) {
      previous->connection().OnSessionMoved();
      Pump(previous);
    }
  }
  for (const Completed& c : e.completed) {
    metrics_.Request(c.op, c.err, c.latency_ms);
    if (latency_min_ms_ < 0 || c.latency_ms < latency_min_ms_) latency_min_ms_ = c.latency_ms;
    latency_max_ms_ = std::max(latency_max_ms_, c.latency_ms);
    latency_total_ms_ += c.latency_ms;
    ++latency_count_;
  }
  if (e.auth_failed) {
    ++auth_failed_;
    metrics_.auth_failures->Increment();
  }
  if (e.watches_refused > 0) {
    metrics_.watches_refused->Increment(static_cast<double>(e.watches_refused));
    spdlog::info(
        "gateway.watch_refused session=0x{:x} client={} watches={} "
        "ensemble.maxWatchesPerSession={} (answered ZOPERATIONTIMEOUT)",
        conn.session_id(), conn.remote(), conn.watch_count(), options_.connection.max_watches);
  }
  std::string out = std::move(e.to_client);
  bool deferred = false;
  if (e.four_letter_word) deferred = !AnswerFourLetterWord(link, *e.four_letter_word, &out);
  if (!out.empty()) {
    metrics_.bytes_sent->Increment(static_cast<double>(out.size()));
    link->Write(std::move(out));
  }
  if (e.close) {
    if (e.protocol_error) {
      metrics_.protocol_errors->Increment();
      spdlog::warn("gateway.connection_closed client={} reason=\"{}\"", conn.remote(),
                   e.close_reason);
    } else if (e.four_letter_word) {
      spdlog::debug("gateway.connection_closed client={} reason=\"{}\"", conn.remote(),
                    e.close_reason);
    } else {
      spdlog::info("gateway.connection_closed client={} reason=\"{}\"", conn.remote(),
                   e.close_reason);
    }
    // A deferred four-letter word closes once its answer is written.
    if (!deferred) link->CloseAfterWrites();
  } else {
    link->MaybeRead();
  }
  CountOutstanding(*link);
  UpdateThrottle();
  if (storage_batch_bytes_ >= kBatchFlushBytes || replication_batch_bytes_ >= kBatchFlushBytes) {
    Flush();
  } else if (upstream) {
    ScheduleFlush();
  }
}

void GatewayServer::ScheduleFlush() {
  if (flush_scheduled_) return;
  flush_scheduled_ = true;
  // After the handlers already queued: everything they produce goes in one batch.
  asio::post(*io_, [this] { Flush(); });
}

void GatewayServer::Flush() {
  flush_scheduled_ = false;
  storage_batch_bytes_ = 0;
  replication_batch_bytes_ = 0;
  if (storage_batch_.reads_size() > 0 || storage_batch_.detach_sessions_size() > 0) {
    if (storage_stream_ && env_.storage_up) storage_stream_->Send(std::move(storage_batch_));
    storage_batch_.Clear();
  }
  if (replication_batch_.txns_size() > 0 || replication_batch_.syncs_size() > 0 ||
      replication_batch_.touch_sessions_size() > 0) {
    if (replication_stream_ && env_.replication_up) {
      replication_stream_->Send(std::move(replication_batch_));
    }
    replication_batch_.Clear();
  }
}

void GatewayServer::OnTimer() {
  if (stopped_) return;
  UpdateClock();
  std::vector<std::shared_ptr<ClientLink>> links;
  links.reserve(links_.size());
  for (auto& [id, link] : links_) links.push_back(link);
  CloseStuckClients();
  for (auto& link : links) {
    if (link->closing()) continue;
    if (throttled_) {
      // Not read while throttled: the clients are alive, and their idle
      // timeouts wait (ZooKeeper's server does not read them either).
      if (link->connection().established()) touched_.insert(link->connection().session_id());
      continue;
    }
    link->connection().OnTick();
    if (link->connection().HasEffects()) Pump(link);
  }
  const int64_t touch_interval = std::max(10, options_.tick_ms / 3);
  if (env_.now_ms - last_touch_ms_ >= touch_interval) {
    last_touch_ms_ = env_.now_ms;
    if (!touched_.empty()) {
      for (int64_t session : touched_) replication_batch_.add_touch_sessions(session);
      touched_.clear();
      ScheduleFlush();
    }
  }
  if (env_.now_ms - last_poll_ms_ >= kPollIntervalMs) {
    last_poll_ms_ = env_.now_ms;
    Poll();
  }
  ExpireKills();
  if (last_figures_ms_ == 0 || env_.now_ms - last_figures_ms_ >= 1000) {
    last_figures_ms_ = env_.now_ms;
    PublishFigures();
  }
  PublishStatus();
  timer_.expires_after(std::chrono::milliseconds(std::clamp(options_.tick_ms / 6, 10, 500)));
  timer_.async_wait([this](const std::error_code& error) {
    if (!error) OnTimer();
  });
}

// ---- four-letter words ----

bool GatewayServer::AnswerFourLetterWord(const std::shared_ptr<ClientLink>& link,
                                         const FourLetterWordRequest& request, std::string* out) {
  metrics_.four_letter_words->Increment();
  if (request.word == FourLetterWord::kTelnetClose) return true;
  const std::string name(FourLetterWordName(request.word));
  if (!options_.four_letter_word_enabled || !options_.four_letter_word_enabled(name)) {
    *out += NotInWhitelist(request.word);
    return true;
  }
  spdlog::info("gateway.four_letter_word command={} client={}", name, link->connection().remote());
  switch (request.word) {
    case FourLetterWord::kCrst:
      for (auto& [id, other] : links_) other->connection().ResetStats();
      break;
    case FourLetterWord::kSrst:
      packets_received_ = 0;
      packets_sent_ = 0;
      latency_min_ms_ = -1;
      latency_max_ms_ = 0;
      latency_total_ms_ = 0;
      latency_count_ = 0;
      auth_failed_ = 0;
      metrics_.ResetResponseSizes();
      break;
    case FourLetterWord::kStmk:
      trace_mask_ = request.argument;
      break;
    case FourLetterWord::kWchs:
    case FourLetterWord::kWchc:
    case FourLetterWord::kWchp:
    case FourLetterWord::kDirs:
    case FourLetterWord::kConf: {
      ServerInfo info = CollectInfo(*link);
      if (info.serving && storage_stream_) {
        // The watches (registered on the home storage, per peer, as ZooKeeper's
        // are per server) and the folders' sizes (dirs, conf) are storage's:
        // ask it.
        AskStorage(link, request.word);
        return false;
      }
      *out += FormatFourLetterWord(request.word, info);
      return true;
    }
    default:
      break;
  }
  *out += FormatFourLetterWord(request.word, CollectInfo(*link));
  return true;
}

ServerInfo GatewayServer::CollectInfo(const ClientLink& link) const {
  ServerInfo info;
  // As ZooKeeper while it has no quorum: "not currently serving requests".
  info.serving = env_.storage_up && env_.replication_up && mode_ != "looking";
  info.version = VersionString();
  info.mode = mode_;
  info.zxid = env_.applied_zxid;
  info.node_count = node_count_;
  info.tree_digest = tree_digest_;
  info.watch_count = watch_count_;
  info.ephemerals_count = ephemerals_count_;
  info.approximate_data_size = data_size_;
  info.min_latency_ms = latency_min_ms_ < 0 ? 0 : latency_min_ms_;
  info.avg_latency_ms =
      latency_count_ == 0
          ? 0.0
          : std::round(static_cast<double>(latency_total_ms_) / latency_count_ * 10000) / 10000;
  info.max_latency_ms = latency_max_ms_;
  info.packets_received = packets_received_;
  info.packets_sent = packets_sent_;
  for (const auto& [id, other] : links_) {
    ConnectionInfo c = other->connection().Info();
    if (id == link.id()) c.interest_ops = 0;
    info.outstanding += c.queued;
    info.connections.push_back(std::move(c));
  }
  info.global_sessions = global_sessions_;
  info.uptime_ms = env_.now_ms - started_ms_;
  info.open_file_descriptors = OpenFileDescriptors();
  info.max_file_descriptors = MaxFileDescriptors();
  info.auth_failed = auth_failed_;
  info.trace_mask = trace_mask_;
  info.tick_ms = options_.tick_ms;
  info.conf = options_.conf;
  info.environment = Environment(gateway_id_);
  return info;
}

void GatewayServer::AskStorage(const std::shared_ptr<ClientLink>& link, FourLetterWord word) {
  auto io = io_;
  std::weak_ptr<ClientLink> weak = link;
  const auto deadline = std::chrono::system_clock::now() +
                        std::chrono::milliseconds(kFourLetterWordUpstreamTimeoutMs);
  ++calls_in_flight_;
  if (word == FourLetterWord::kDirs || word == FourLetterWord::kConf) {
    auto call = std::make_shared<StatusCall>();
    call->context.set_deadline(deadline);
    storage_admin_->async()->Status(
        &call->context, &call->request, &call->response,
        [this, io, call, weak, word](grpc::Status status) {
          asio::post(*io, [this, call, weak, word, status] {
            auto link = weak.lock();
            if (!link) return;
            UpdateClock();
            ServerInfo info = CollectInfo(*link);
            const auto& d = call->response.details();
            auto log_dir = d.find("log_dir_size");
            auto snap_dir = d.find("snapshot_dir_size");
            if (!status.ok() || log_dir == d.end() || snap_dir == d.end()) {
              spdlog::warn(
                  "gateway.four_letter_word_failed command={} error=\"{}\"",
                  std::string(FourLetterWordName(word)),
                  status.ok() ? "storage reports no folder sizes" : status.error_message());
              // conf still answers, with sizes 0.
              if (word == FourLetterWord::kDirs) info.serving = false;
            } else {
              info.log_dir_size = std::atoll(log_dir->second.c_str());
              info.snapshot_dir_size = std::atoll(snap_dir->second.c_str());
              // ZooKeeper's dumpConf: dataDirSize is getDataDirSize() (the
              // transaction log's folder), dataLogSize getLogDirSize() (the
              // snapshots'), as in dirs.
              for (auto& [key, value] : info.conf) {
                if (key == "dataDirSize") value = std::to_string(info.log_dir_size);
                if (key == "dataLogSize") value = std::to_string(info.snapshot_dir_size);
              }
            }
            FinishFourLetterWord(weak, word, info);
          });
          --calls_in_flight_;
        });
    return;
  }
  auto call = std::make_shared<WatchesCall>();
  call->context.set_deadline(deadline);
  call->request.set_data_table_only(true);
  call->request.set_by_session(word == FourLetterWord::kWchc);
  call->request.set_by_path(word == FourLetterWord::kWchp);
  call->request.set_limit(kFourLetterWordListLimit);
  storage_admin_->async()->Watches(
      &call->context, &call->request, &call->response,
      [this, io, call, weak, word](grpc::Status status) {
        asio::post(*io, [this, call, weak, word, status] {
          auto link = weak.lock();
          if (!link) return;
          UpdateClock();
          ServerInfo info = CollectInfo(*link);
          if (!status.ok()) {
            spdlog::warn("gateway.four_letter_word_failed command={} error=\"{}\"",
                         std::string(FourLetterWordName(word)), status.error_message());
            info.serving = false;
          } else {
            const auto& r = call->response;
            info.data_watch_count = r.total();
            info.watched_paths = r.paths();
            info.watching_connections = r.sessions();
            for (const auto& s : r.by_session()) {
              info.watches_by_session.emplace_back(
                  s.session_id(), std::vector<std::string>(s.paths().begin(), s.paths().end()));
            }
            for (const auto& p : r.by_path()) {
              info.watches_by_path.emplace_back(
                  p.path(), std::vector<int64_t>(p.session_ids().begin(), p.session_ids().end()));
            }
            if (r.truncated()) {
              spdlog::warn("gateway.four_letter_word_truncated command={} limit={}",
                           std::string(FourLetterWordName(word)), kFourLetterWordListLimit);
            }
          }
          FinishFourLetterWord(weak, word, info);
        });
        --calls_in_flight_;
      });
}

void GatewayServer::FinishFourLetterWord(const std::weak_ptr<ClientLink>& weak, FourLetterWord word,
                                         const ServerInfo& info) {
  auto link = weak.lock();
  if (!link) return;
  std::string out = FormatFourLetterWord(word, info);
  metrics_.bytes_sent->Increment(static_cast<double>(out.size()));
  link->Write(std::move(out));
  link->CloseAfterWrites();
}

// ---- upstream: storage ----

int64_t GatewayServer::Backoff(int attempt) {
  int64_t delay = 100;
  for (int i = 0; i < attempt && delay < 3000; ++i) delay *= 2;
  return std::min<int64_t>(delay, 3000);
}

void GatewayServer::ConnectStorage() {
  if (stopped_) return;
  const uint64_t generation = ++storage_generation_;
  auto io = io_;
  storage_stream_ = ServeStream::Open(
      [this](grpc::ClientContext* context,
             grpc::ClientBidiReactor<GatewayMessage, StorageMessage>* reactor) {
        storage_stub_->async()->Serve(context, reactor);
      },
      [this, io, generation](StorageMessage&& message) {
        asio::post(*io, [this, generation, message = std::move(message)]() mutable {
          OnStorageMessage(generation, message);
        });
      },
      [this, io, generation](const grpc::Status& status) {
        asio::post(*io, [this, generation, status] { OnStorageDone(generation, status); });
      });
  GatewayMessage hello;
  hello.set_gateway_id(gateway_id_);
  storage_stream_->Send(std::move(hello));
}

void GatewayServer::OnStorageMessage(uint64_t generation, StorageMessage& message) {
  if (generation != storage_generation_ || stopped_) return;
  UpdateClock();
  env_.applied_zxid = message.applied_zxid();
  metrics_.applied_zxid->Set(static_cast<double>(env_.applied_zxid));
  if (!env_.storage_up) {
    env_.storage_up = true;
    storage_attempts_ = 0;
    metrics_.storage_up->Set(1);
    spdlog::info("gateway.storage_up address={} applied_zxid={}", options_.storage_address,
                 Zxid::Hex(env_.applied_zxid));
    ServingChanged();
  }
  for (auto& item : *message.mutable_items()) {
    std::shared_ptr<ClientLink> link;
    switch (item.item_case()) {
      case StorageMessage::Item::kRead:
        link = FindLink(Connection::UpstreamIdOwner(item.read().id()));
        if (link) link->connection().OnReadResult(item.read());
        break;
      case StorageMessage::Item::kWrite: {
        const auto& result = item.write();
        if (result.type() == static_cast<int32_t>(jute::OpCode::kCloseSession)) {
          FinishKills(result.session_id(), result.zxid());
        }
        if (result.type() == static_cast<int32_t>(jute::OpCode::kCreateSession)) {
          link = FindLink(static_cast<uint64_t>(result.cxid()));
        } else {
          link = FindSession(result.session_id());
        }
        if (link) link->connection().OnWriteResult(result);
        break;
      }
      case StorageMessage::Item::kEvent:
        link = FindSession(item.event().session_id());
        if (link) link->connection().OnWatchEvent(item.event());
        break;
      default:
        break;
    }
    if (link) Pump(link);
  }
}

void GatewayServer::OnStorageDone(uint64_t generation, const grpc::Status& status) {
  if (generation != storage_generation_) return;
  UpdateClock();
  storage_stream_.reset();
  storage_batch_.Clear();
  storage_batch_bytes_ = 0;
  const bool was_up = env_.storage_up;
  env_.storage_up = false;
  metrics_.storage_up->Set(0);
  if (stopped_) return;
  if (was_up) {
    metrics_.upstream_drops_storage->Increment();
    spdlog::warn("gateway.storage_down address={} code={} error=\"{}\"", options_.storage_address,
                 static_cast<int>(status.error_code()), status.error_message());
    std::vector<std::shared_ptr<ClientLink>> links;
    for (auto& [id, link] : links_) links.push_back(link);
    for (auto& link : links) {
      link->connection().OnUpstreamLost(/*lost_storage=*/true);
      Pump(link);
    }
    ServingChanged();
  } else if (storage_attempts_ == 0) {
    spdlog::warn("gateway.storage_unreachable address={} error=\"{}\"", options_.storage_address,
                 status.error_message());
  }
  storage_retry_.expires_after(std::chrono::milliseconds(Backoff(storage_attempts_++)));
  storage_retry_.async_wait([this](const std::error_code& error) {
    if (!error) ConnectStorage();
  });
}

// ---- upstream: replication ----

void GatewayServer::ConnectReplication() {
  if (stopped_) return;
  const uint64_t generation = ++replication_generation_;
  // Probe first: the Submit stream itself says nothing until there is work, so
  // replication counts as up once its admin Status answers and it has a role.
  auto call = std::make_shared<StatusCall>();
  call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
  auto io = io_;
  ++calls_in_flight_;
  replication_admin_->async()->Status(&call->context, &call->request, &call->response,
                                      [this, io, generation, call](grpc::Status status) {
                                        asio::post(*io, [this, generation, call, status] {
                                          OnReplicationProbe(generation, status.ok(),
                                                             call->response.role(),
                                                             status.error_message());
                                        });
                                        --calls_in_flight_;
                                      });
}

void GatewayServer::OnReplicationProbe(uint64_t generation, bool ok, const std::string& role,
                                       const std::string& error) {
  if (generation != replication_generation_ || stopped_) return;
  UpdateClock();
  if (!ok || role == "looking" || role.empty()) {
    if (replication_attempts_ == 0) {
      spdlog::warn("gateway.replication_unavailable address={} role={} error=\"{}\"",
                   options_.replication_address, role, error);
    }
    replication_retry_.expires_after(std::chrono::milliseconds(Backoff(replication_attempts_++)));
    replication_retry_.async_wait([this](const std::error_code& e) {
      if (!e) ConnectReplication();
    });
    return;
  }
  mode_ = ModeOf(role);
  auto io = io_;
  replication_stream_ = SubmitStream::Open(
      [this](grpc::ClientContext* context,
             grpc::ClientBidiReactor<SubmitRequest, SubmitResponse>* reactor) {
        replication_stub_->async()->Submit(context, reactor);
      },
      [this, io, generation](SubmitResponse&& response) {
        asio::post(*io, [this, generation, response = std::move(response)]() mutable {
          OnSubmitResponse(generation, response);
        });
      },
      [this, io, generation](const grpc::Status& status) {
        asio::post(*io, [this, generation, status] { OnReplicationDone(generation, status); });
      });
  SubmitRequest hello;
  hello.set_gateway_id(gateway_id_);
  replication_stream_->Send(std::move(hello));
  env_.replication_up = true;
  replication_attempts_ = 0;
  metrics_.replication_up->Set(1);
  spdlog::info("gateway.replication_up address={} mode={}", options_.replication_address, mode_);
  ServingChanged();
}

void GatewayServer::OnSubmitResponse(uint64_t generation, SubmitResponse& response) {
  if (generation != replication_generation_ || stopped_) return;
  UpdateClock();
  for (const auto& rejected : response.rejected()) {
    std::shared_ptr<ClientLink> link = rejected.session_id() == 0
                                           ? FindLink(static_cast<uint64_t>(rejected.cxid()))
                                           : FindSession(rejected.session_id());
    if (!link) continue;
    link->connection().OnRejected(rejected.cxid(), rejected.err());
    Pump(link);
  }
  if (response.leader_lost()) {
    // The home peer lost its leader: a write already forwarded may never be
    // answered, so those connections close (ZooKeeper's follower closes every
    // client connection here); the clients reconnect and keep their sessions.
    spdlog::info("gateway.leader_lost address={} closing the connections with writes in flight",
                 options_.replication_address);
    std::vector<std::shared_ptr<ClientLink>> links;
    for (auto& [id, link] : links_) links.push_back(link);
    for (auto& link : links) {
      link->connection().OnUpstreamLost(/*lost_storage=*/false);
      Pump(link);
    }
  }
  for (const auto& sync : response.syncs()) {
    std::shared_ptr<ClientLink> link = FindLink(Connection::UpstreamIdOwner(sync.id()));
    if (!link) continue;
    if (sync.failed()) {
      // The home peer lost its leader before the quorum confirmed the sync:
      // the client must see connection loss (as from ZooKeeper) and retry
      // elsewhere, never a read that a deposed leader vouched for.
      spdlog::info("gateway.sync_failed session=0x{:x} (the peer lost its leader); closing",
                   link->connection().session_id());
      link->CloseNow();
      continue;
    }
    link->connection().OnSyncDone(sync.id(), sync.zxid());
    Pump(link);
  }
}

void GatewayServer::OnReplicationDone(uint64_t generation, const grpc::Status& status) {
  if (generation != replication_generation_) return;
  UpdateClock();
  replication_stream_.reset();
  replication_batch_.Clear();
  replication_batch_bytes_ = 0;
  const bool was_up = env_.replication_up;
  env_.replication_up = false;
  metrics_.replication_up->Set(0);
  if (stopped_) return;
  if (was_up) {
    metrics_.upstream_drops_replication->Increment();
    spdlog::warn("gateway.replication_down address={} code={} error=\"{}\"",
                 options_.replication_address, static_cast<int>(status.error_code()),
                 status.error_message());
    std::vector<std::shared_ptr<ClientLink>> links;
    for (auto& [id, link] : links_) links.push_back(link);
    for (auto& link : links) {
      link->connection().OnUpstreamLost(/*lost_storage=*/false);
      Pump(link);
    }
    ServingChanged();
  }
  replication_retry_.expires_after(std::chrono::milliseconds(Backoff(replication_attempts_++)));
  replication_retry_.async_wait([this](const std::error_code& error) {
    if (!error) ConnectReplication();
  });
}

// Figures only storage and replication know, for the four-letter words.
void GatewayServer::Poll() {
  auto io = io_;
  if (env_.storage_up) {
    auto call = std::make_shared<StateCall>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    ++calls_in_flight_;
    storage_stub_->async()->GetState(&call->context, &call->request, &call->response,
                                     [this, io, call](grpc::Status status) {
                                       if (status.ok()) {
                                         asio::post(*io, [this, call] {
                                           node_count_ = call->response.znode_count();
                                           tree_digest_ = call->response.tree_digest();
                                           watch_count_ = call->response.watch_count();
                                           ephemerals_count_ = call->response.ephemerals_count();
                                           data_size_ = call->response.approximate_data_size();
                                         });
                                       }
                                       --calls_in_flight_;
                                     });
  }
  if (env_.replication_up) {
    auto call = std::make_shared<StatusCall>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(2));
    ++calls_in_flight_;
    replication_admin_->async()->Status(
        &call->context, &call->request, &call->response, [this, io, call](grpc::Status status) {
          if (status.ok()) {
            asio::post(*io, [this, call] {
              if (!call->response.role().empty()) mode_ = ModeOf(call->response.role());
              auto sessions = call->response.details().find("sessions");
              if (sessions != call->response.details().end()) {
                global_sessions_ = std::atoll(sessions->second.c_str());
              }
            });
          }
          --calls_in_flight_;
        });
  }
}

void GatewayServer::ServingChanged() {
  const bool serving = env_.storage_up && env_.replication_up;
  if (serving != serving_) {
    serving_ = serving;
    spdlog::info("gateway.serving serving={}", serving);
    if (serving_callback_) serving_callback_(serving);
  }
  PublishStatus();
}

void GatewayServer::CountResponses(ClientLink& link, std::string_view frames, int64_t count) {
  size_t at = 0;
  for (int64_t i = 0; i < count && at + 4 <= frames.size(); ++i) {
    const auto* p = reinterpret_cast<const unsigned char*>(frames.data() + at);
    const uint32_t length =
        (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
    at += 4 + static_cast<size_t>(length);
    const bool connect_response = link.frames_sent() == 0;
    link.AddFramesSent(1);
    if (!connect_response) metrics_.ClientResponse(static_cast<int64_t>(length));
  }
}

void GatewayServer::PublishFigures() {
  ZooKeeperFigures f;
  f.avg_latency_ms =
      latency_count_ == 0 ? 0.0 : static_cast<double>(latency_total_ms_) / latency_count_;
  f.min_latency_ms = latency_min_ms_ < 0 ? 0 : latency_min_ms_;
  f.max_latency_ms = latency_max_ms_;
  f.packets_received = packets_received_;
  f.packets_sent = packets_sent_;
  f.alive_connections = static_cast<int64_t>(links_.size());
  for (const auto& [id, link] : links_) {
    const Connection& conn = link->connection();
    f.outstanding_requests += static_cast<int64_t>(conn.queued());
    ++(IsLoopback(conn.client_ip()) ? f.local_connections : f.remote_connections);
  }
  f.uptime_ms = env_.now_ms - started_ms_;
  f.znode_count = node_count_;
  f.watch_count = watch_count_;
  f.ephemerals_count = ephemerals_count_;
  f.approximate_data_size = data_size_;
  f.global_sessions = global_sessions_;
  f.open_file_descriptors = OpenFileDescriptors();
  f.max_file_descriptors = MaxFileDescriptors();
  f.auth_failed = auth_failed_;
  metrics_.Publish(f);
  metrics_.SetServerState(mode_);
}

void GatewayServer::PublishStatus() {
  std::lock_guard<std::mutex> lock(status_mu_);
  status_.storage_up = env_.storage_up;
  status_.replication_up = env_.replication_up;
  status_.connections = links_.size();
  status_.sessions = sessions_.size();
  status_.applied_zxid = env_.applied_zxid;
  status_.mode = mode_;
}

// ---- admin ----

void GatewayServer::FillConnection(const ClientLink& link,
                                   ensemble::admin::v1::Connection* out) const {
  const Connection& conn = link.connection();
  const ConnectionInfo info = conn.Info();
  out->set_remote(info.remote);
  out->set_session_id(info.session_id);
  out->set_last_zxid(info.last_zxid);
  out->set_outstanding(info.queued);
  // Info() says when the connection idles out: its idle limit after the last
  // bytes received. Past the limit it says "now" (the idle time is then at
  // least the limit; the connection closes on the next tick).
  const int64_t limit =
      conn.established() ? conn.timeout_ms() : options_.connection.sessionless_timeout_ms;
  out->set_idle_ms(std::max<int64_t>(0, limit - (info.expires_at_ms - env_.wall_ms)));
  out->set_packets_received(info.received);
  out->set_packets_sent(info.sent);
  out->set_timeout_ms(conn.established() ? info.timeout_ms : 0);
  out->set_last_op(info.last_op);
  out->set_established_ms(info.established_ms);
}

void GatewayServer::ListConnections(ensemble::admin::v1::ListConnectionsResponse* response,
                                    AdminDone done) {
  if (stopped_) {
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is stopping"));
    return;
  }
  asio::post(*io_, [this, response, done = std::move(done)] {
    UpdateClock();
    for (const auto& [id, link] : links_) FillConnection(*link, response->add_connections());
    std::sort(response->mutable_connections()->begin(), response->mutable_connections()->end(),
              [](const auto& a, const auto& b) { return a.remote() < b.remote(); });
    done(grpc::Status::OK);
  });
}

void GatewayServer::DropConnection(const ensemble::admin::v1::DropConnectionRequest& request,
                                   ensemble::admin::v1::DropConnectionResponse* response,
                                   AdminDone done) {
  using Target = ensemble::admin::v1::DropConnectionRequest;
  if (request.target_case() == Target::TARGET_NOT_SET ||
      (request.target_case() == Target::kSessionId && request.session_id() == 0) ||
      (request.target_case() == Target::kRemote && WithoutSlash(request.remote()).empty())) {
    done(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT,
                      "name a session id or a remote address (ip:port, or an ip for all its "
                      "connections)"));
    return;
  }
  if (stopped_) {
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is stopping"));
    return;
  }
  asio::post(*io_, [this, &request, response, done = std::move(done)] {
    UpdateClock();
    std::vector<std::shared_ptr<ClientLink>> doomed;
    for (const auto& [id, link] : links_) {
      const Connection& conn = link->connection();
      const bool match = request.target_case() == Target::kSessionId
                             ? conn.session_id() == request.session_id() && conn.session_id() != 0
                             : WithoutSlash(conn.remote()) == WithoutSlash(request.remote()) ||
                                   conn.client_ip() == request.remote();
      if (match && !link->closing()) doomed.push_back(link);
    }
    if (doomed.empty()) {
      done(grpc::Status(
          grpc::StatusCode::NOT_FOUND,
          request.target_case() == Target::kSessionId
              ? absl::StrCat("no connection holds session 0x", absl::Hex(request.session_id()),
                             " on this gateway")
              : absl::StrCat("no connection from ", request.remote(), " on this gateway")));
      return;
    }
    for (const auto& link : doomed) {
      FillConnection(*link, response->add_dropped());
      spdlog::info("gateway.connection_dropped client={} session=0x{:x} by=admin",
                   link->connection().remote(), link->connection().session_id());
      link->CloseNow();
    }
    done(grpc::Status::OK);
  });
}

void GatewayServer::KillSession(int64_t session_id,
                                ensemble::admin::v1::KillSessionResponse* response,
                                AdminDone done) {
  if (session_id == 0) {
    done(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "name a session id"));
    return;
  }
  if (stopped_) {
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway is stopping"));
    return;
  }
  asio::post(*io_, [this, session_id, response, done = std::move(done)]() mutable {
    if (!env_.storage_up || !env_.replication_up) {
      done(grpc::Status(grpc::StatusCode::UNAVAILABLE,
                        absl::StrCat("the gateway is not attached to its ",
                                     env_.storage_up ? "replication" : "storage", " service")));
      return;
    }
    // Is it open? The home storage holds the replicated session table.
    auto call = std::make_shared<SessionsCall>();
    call->context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
    auto io = io_;
    ++calls_in_flight_;
    storage_stub_->async()->ListSessions(
        &call->context, &call->request, &call->response,
        [this, io, call, session_id, response, done = std::move(done)](grpc::Status status) {
          asio::post(*io, [this, call, session_id, response, done, status] {
            if (!status.ok()) {
              done(grpc::Status(
                  grpc::StatusCode::UNAVAILABLE,
                  "the home storage did not list its sessions: " + status.error_message()));
              return;
            }
            const auto& sessions = call->response.sessions();
            if (std::none_of(sessions.begin(), sessions.end(),
                             [&](const auto& s) { return s.session_id() == session_id; })) {
              done(grpc::Status(grpc::StatusCode::NOT_FOUND,
                                absl::StrCat("session 0x", absl::Hex(session_id), " is not open")));
              return;
            }
            SubmitKill(session_id, response, done);
          });
          --calls_in_flight_;
        });
  });
}

void GatewayServer::SubmitKill(int64_t session_id,
                               ensemble::admin::v1::KillSessionResponse* response, AdminDone done) {
  if (stopped_ || !env_.replication_up || !replication_stream_) {
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the replication stream is down"));
    return;
  }
  UpdateClock();
  // As the leader's session tracker proposes an expiry: origin 0, so storage
  // sends the result to every gateway.
  ensemble::v1::Txn txn;
  auto* header = txn.mutable_header();
  header->set_session_id(session_id);
  header->set_type(static_cast<int32_t>(jute::OpCode::kCloseSession));
  txn.mutable_op()->mutable_close_session();
  *replication_batch_.add_txns() = std::move(txn);
  pending_kills_.emplace(
      session_id, PendingKill{response, std::move(done), env_.now_ms + kKillSessionTimeoutMs});
  spdlog::info("gateway.kill_session session=0x{:x} by=admin", session_id);
  ScheduleFlush();
}

void GatewayServer::FinishKills(int64_t session_id, int64_t zxid) {
  auto [begin, end] = pending_kills_.equal_range(session_id);
  for (auto it = begin; it != end; ++it) {
    it->second.response->set_zxid(zxid);
    it->second.done(grpc::Status::OK);
  }
  pending_kills_.erase(begin, end);
}

void GatewayServer::ExpireKills() {
  for (auto it = pending_kills_.begin(); it != pending_kills_.end();) {
    if (env_.now_ms < it->second.deadline_ms) {
      ++it;
      continue;
    }
    it->second.done(grpc::Status(
        grpc::StatusCode::DEADLINE_EXCEEDED,
        absl::StrCat("the closeSession of 0x", absl::Hex(it->first), " was not applied within ",
                     kKillSessionTimeoutMs / 1000, " s (the ensemble may have lost its leader)")));
    it = pending_kills_.erase(it);
  }
}

runtime::AdminService::Actions GatewayAdminActions(std::function<GatewayServer*()> server) {
  auto unavailable = [](const std::function<void(grpc::Status)>& done) {
    done(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the gateway has not started"));
  };
  runtime::AdminService::Actions actions;
  actions.list_connections = [server, unavailable](const auto&, auto* response, auto done) {
    GatewayServer* s = server();
    if (s == nullptr) return unavailable(done);
    s->ListConnections(response, std::move(done));
  };
  actions.drop_connection = [server, unavailable](const auto& request, auto* response, auto done) {
    GatewayServer* s = server();
    if (s == nullptr) return unavailable(done);
    s->DropConnection(request, response, std::move(done));
  };
  actions.kill_session = [server, unavailable](const auto& request, auto* response, auto done) {
    GatewayServer* s = server();
    if (s == nullptr) return unavailable(done);
    s->KillSession(request.session_id(), response, std::move(done));
  };
  return actions;
}

}  // namespace ensemble::gateway
