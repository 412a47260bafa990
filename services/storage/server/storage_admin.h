#pragma once

// The storage process's answers to the operator calls of the admin service
// (proto/ensemble/admin.proto): the session table and the watches, read from
// the state machine on the driver thread (inside StorageDriver::Post).

#include <cstdint>
#include <string>

#include "ensemble/admin.pb.h"
#include "services/storage/core/state_machine.h"

namespace ensemble::storage {

// Every session of the replicated table, by id, with its ephemeral nodes and
// its watches on this peer.
void FillSessions(const StateMachine& state, ensemble::admin::v1::ListSessionsResponse* response);

// The watches on this peer: totals by kind, and with request.by_path /
// by_session the lists (each sorted, at most request.limit entries, 1000 when
// 0; `truncated` says one was cut). Only paths starting with
// request.path_prefix count.
void FillWatches(const StateMachine& state, const ensemble::admin::v1::WatchesRequest& request,
                 ensemble::admin::v1::WatchesResponse* response);

// The bytes of the regular files under `dir` (recursively; 0 when it cannot
// be read). What ZooKeeper's `dirs` reports for its log and snapshot folders.
int64_t DirectorySize(const std::string& dir);

}  // namespace ensemble::storage
