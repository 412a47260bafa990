#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/runtime/streams.h"
#include "ensemble/storage.grpc.pb.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "prometheus/summary.h"
#include "services/storage/core/state_machine.h"
#include "services/storage/log/group_committer.h"
#include "services/storage/log/txn_log.h"

namespace ensemble::storage {

using LogStream =
    runtime::ServerStream<ensemble::storage::v1::LogRequest, ensemble::storage::v1::LogResponse>;
using ServeStream = runtime::ServerStream<ensemble::storage::v1::GatewayMessage,
                                          ensemble::storage::v1::StorageMessage>;

struct StorageOptions {
  int64_t sid = 1;
  std::string snapshot_dir;     // dataDir/version-2-ensemble/snapshots
  int64_t snap_count = 100000;  // transactions between snapshots
  int32_t snap_retain_count = 3;
  int32_t purge_interval_hours = 0;  // autopurge.purgeInterval; 0: only on demand
  StateMachineOptions machine;       // must be the same on every peer
};

// Owns one peer's state machine on a single thread (the driver thread) and
// its durability: appends go through group commit to the LevelDB log; a
// transaction is applied once it is both durable and committed; snapshots are
// written in the background from a copy of the state.
// Thread-safety: On*/Post may be called from any thread; they only enqueue.
class StorageDriver {
 public:
  // `log` must outlive the driver. The state is restored from the newest
  // valid snapshot in options.snapshot_dir plus the log after it.
  static absl::StatusOr<std::unique_ptr<StorageDriver>> Open(StorageOptions options, TxnLog* log,
                                                             prometheus::Registry& registry);
  ~StorageDriver();

  void Start();
  void Stop();

  void OnLog(const std::shared_ptr<LogStream>& stream, ensemble::storage::v1::LogRequest&& request);
  void OnServe(const std::shared_ptr<ServeStream>& stream,
               ensemble::storage::v1::GatewayMessage&& message);
  void OnServeDone(const std::shared_ptr<ServeStream>& stream);
  // Runs `fn` on the driver thread (for unary calls that read the state).
  void Post(std::function<void(StorageDriver&)> fn);

  // Driver thread only (inside Post).
  // With `with_log_epochs`, epoch_last_zxids too (a few log seeks).
  ensemble::storage::v1::StorageState State(bool with_log_epochs = false) const;
  const StateMachine& state_machine() const { return *state_; }
  // Writes a snapshot now (in the background). `on_written`, if given, gets
  // the zxid of a snapshot taken at or after this call (its file is in the
  // snapshot folder), or the error; it runs on the driver thread.
  using SnapshotWaiter = std::function<void(absl::StatusOr<int64_t>)>;
  void SnapshotNow(SnapshotWaiter on_written = nullptr);
  // Deletes old snapshots and the log they alone needed (autopurge).
  absl::Status PurgeNow();
  // Replaces the whole state by the snapshot in `path` (received from the
  // leader: ZAB SNAP): the log is emptied and starts after `zxid`, and
  // attached gateways are disconnected (their watches lived in the old
  // state; clients re-register them on reconnect).
  // UNAVAILABLE while log writes are in flight (retry); DATA_LOSS if the file
  // does not read back intact.
  absl::Status InstallSnapshot(const std::string& path, int64_t zxid);

  // True while the log accepts writes (false after a disk error: fail-stop).
  bool healthy() const;

  // Figures for the admin status, published by the driver thread after each
  // round (any thread may read them).
  struct Published {
    int64_t last_logged_zxid = 0;
    int64_t last_applied_zxid = 0;
    int64_t epoch = 0;
    int64_t znodes = 0;
    int64_t sessions = 0;
    int64_t watches = 0;
    int64_t gateways = 0;
  };
  Published published() const;

 private:
  StorageDriver(StorageOptions options, TxnLog* log, prometheus::Registry& registry);

  struct LogEvent {
    std::shared_ptr<LogStream> stream;
    ensemble::storage::v1::LogRequest request;
  };
  struct DurableEvent {
    std::shared_ptr<LogStream> stream;
    uint64_t request_id;
    int64_t last_zxid;
    absl::Status status;
  };
  struct ServeEvent {
    std::shared_ptr<ServeStream> stream;
    ensemble::storage::v1::GatewayMessage message;
  };
  struct ServeDoneEvent {
    std::shared_ptr<ServeStream> stream;
  };
  struct CallEvent {
    std::function<void(StorageDriver&)> fn;
  };
  using Event = std::variant<LogEvent, DurableEvent, ServeEvent, ServeDoneEvent, CallEvent>;

  // Rebuilds the state from the newest valid snapshot at or below max_zxid
  // plus the log up to max_zxid.
  absl::Status Restore(int64_t max_zxid);
  absl::StatusOr<std::unique_ptr<StateMachine>> LoadBase(int64_t max_zxid);
  void Enqueue(Event event);
  void Run();
  void Handle(LogEvent& e);
  void Handle(DurableEvent& e);
  void Handle(ServeEvent& e);
  void Handle(ServeDoneEvent& e);
  void Handle(CallEvent& e) { e.fn(*this); }
  void PumpLog();
  void ApplyCommitted();
  void AnswerRead(uint64_t gateway_id, const ensemble::storage::v1::ReadRequest& read);
  void ReleaseSyncs();
  void Flush();
  void FailStop(const absl::Status& status);
  void Respond(const std::shared_ptr<LogStream>& stream, uint64_t id);
  void MaybeSnapshot();
  void SnapshotFinished(const absl::StatusOr<int64_t>& result);
  void UpdateGauges();
  void CountWatchEvents(const std::vector<FiredEvent>& events);
  ensemble::storage::v1::StorageMessage& Outbox(uint64_t gateway_id);

  const StorageOptions options_;
  TxnLog* const log_;
  std::unique_ptr<GroupCommitter> committer_;
  std::thread thread_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Event> inbox_;
  bool stopping_ = false;
  absl::Status failure_;  // GUARDED_BY(mu_): first disk error; sticky
  Published published_;   // GUARDED_BY(mu_)

  // Driver-thread state.
  std::unique_ptr<StateMachine> state_;
  std::deque<LogEvent> log_queue_;           // requests not yet started
  int appends_in_flight_ = 0;                // submitted to the committer, not durable yet
  std::deque<ensemble::v1::Txn> unapplied_;  // logged (or being logged), not applied
  int64_t durable_zxid_ = 0;
  int64_t committed_zxid_ = 0;
  int64_t last_submitted_zxid_ = 0;
  int64_t snapshot_zxid_ = 0;
  bool snapshot_running_ = false;
  int64_t last_written_snapshot_zxid_ = -1;                // the newest snapshot this process wrote
  std::vector<SnapshotWaiter> running_snapshot_waiters_;   // for the snapshot being written
  std::vector<SnapshotWaiter> deferred_snapshot_waiters_;  // need one started after it
  std::chrono::steady_clock::time_point next_purge_ = std::chrono::steady_clock::now();
  std::thread snapshot_thread_;
  std::map<uint64_t, std::shared_ptr<ServeStream>> gateways_;  // by gateway id
  std::map<ServeStream*, uint64_t> gateway_ids_;
  std::map<uint64_t, ensemble::storage::v1::StorageMessage> outbox_;
  struct ParkedSync {
    uint64_t gateway_id;
    ensemble::storage::v1::ReadRequest read;
  };
  std::multimap<int64_t, ParkedSync> parked_syncs_;  // by min_zxid

  prometheus::Histogram* fsync_seconds_;
  prometheus::Histogram* group_txns_;
  prometheus::Counter* applied_total_;
  prometheus::Counter* reads_total_;
  prometheus::Histogram* snapshot_seconds_;
  prometheus::Gauge* snapshot_bytes_;
  prometheus::Gauge* znodes_;
  prometheus::Gauge* data_bytes_;
  prometheus::Gauge* ephemerals_;
  prometheus::Gauge* watches_;
  prometheus::Gauge* sessions_;
  prometheus::Gauge* last_applied_;
  prometheus::Gauge* last_logged_;
  // watch events delivered, by type (NodeCreated .. NodeChildrenChanged)
  prometheus::Counter* watch_events_[4];

  // ZooKeeper 3.8's names (ServerMetrics; summaries in ms, quantile 0.5).
  prometheus::Summary* zk_fsync_time_;
  prometheus::Summary* zk_batch_size_;
  prometheus::Summary* zk_snapshot_time_;
  prometheus::Summary* zk_db_init_time_;
  prometheus::Summary* zk_snap_load_time_;
  prometheus::Summary* zk_txns_loaded_;
  prometheus::Summary* zk_txns_load_time_;
  // node_{created,deleted,changed,children}_watch_count: watchers per trigger.
  prometheus::Summary* zk_watch_count_[4];
};

}  // namespace ensemble::storage
