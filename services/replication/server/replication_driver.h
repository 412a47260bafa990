#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "common/runtime/streams.h"
#include "ensemble/replication.grpc.pb.h"
#include "ensemble/storage.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "services/replication/core/sequencer.h"
#include "services/replication/core/session_tracker.h"

namespace ensemble::zab {

using SubmitStream = runtime::ServerStream<ensemble::replication::v1::SubmitRequest,
                                           ensemble::replication::v1::SubmitResponse>;
using StorageLogStream =
    runtime::ClientStream<ensemble::storage::v1::LogRequest, ensemble::storage::v1::LogResponse>;

struct ReplicationOptions {
  int64_t sid = 1;
  int64_t tick_ms = 2000;
  std::string storage_address;  // the local storage service (unix:... or host:port)
};

// Owns the replication state of one peer on a single thread. This version runs
// a quorum of one (standalone): it is the leader, orders every write, and a
// write is committed once the local storage holds it durably.
// Thread-safety: the On* methods may be called from any thread (gRPC's); they
// only enqueue. Everything else runs on the driver thread.
class ReplicationDriver {
 public:
  ReplicationDriver(ReplicationOptions options, prometheus::Registry& registry);
  ~ReplicationDriver();

  void Start();
  void Stop();

  // A gateway's Submit stream delivered a batch.
  void OnSubmit(const std::shared_ptr<SubmitStream>& stream,
                ensemble::replication::v1::SubmitRequest&& request);
  void OnSubmitDone(const std::shared_ptr<SubmitStream>& stream);

  // For admin status and health.
  struct Snapshot {
    bool serving = false;
    int64_t epoch = 0;
    int64_t last_zxid = 0;
    int64_t committed_zxid = 0;
    size_t sessions = 0;
  };
  Snapshot GetSnapshot() const;

 private:
  struct SubmitEvent {
    std::shared_ptr<SubmitStream> stream;
    ensemble::replication::v1::SubmitRequest request;
  };
  struct StorageResponse {
    ensemble::storage::v1::LogResponse response;
  };
  struct StorageDown {
    std::string error;
  };
  using Event = std::variant<SubmitEvent, StorageResponse, StorageDown>;

  void Enqueue(Event event);
  void Run();
  // Connects to storage and establishes a new epoch; false if storage is not
  // reachable yet.
  bool Establish();
  void Handle(SubmitEvent& event);
  void Handle(StorageResponse& event);
  void Handle(StorageDown& event);
  void Tick(int64_t now_ms);
  // Answers the sync barriers that storage has applied past.
  void CompleteSyncs();
  void Propose(std::vector<ensemble::v1::Txn> txns);
  void SendToStorage(ensemble::storage::v1::LogRequest request);
  int64_t NowMs() const;
  int64_t WallMs() const;

  const ReplicationOptions options_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> inbox_;
  bool stopping_ = false;
  Snapshot snapshot_;  // GUARDED_BY(mu_), copied from driver state after each step

  // Driver-thread state.
  std::unique_ptr<ensemble::storage::v1::Storage::Stub> storage_stub_;
  std::shared_ptr<StorageLogStream> storage_;
  std::optional<Sequencer> sequencer_;
  SessionTracker sessions_;
  uint64_t next_request_id_ = 1;
  int64_t last_unreachable_log_ms_ = -1000000;
  int64_t committed_zxid_ = 0;
  int64_t applied_zxid_ = 0;
  // Sync barriers waiting until storage has applied a zxid.
  struct PendingSync {
    std::weak_ptr<SubmitStream> stream;
    uint64_t id;
    int64_t zxid;
  };
  std::deque<PendingSync> pending_syncs_;
  // Txns that arrived before the epoch was established.
  std::vector<ensemble::v1::Txn> waiting_;

  prometheus::Counter* proposals_total_;
  prometheus::Counter* expired_sessions_total_;
  prometheus::Histogram* batch_size_;
  prometheus::Gauge* sessions_gauge_;
  prometheus::Gauge* last_zxid_gauge_;
};

}  // namespace ensemble::zab
