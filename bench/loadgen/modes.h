#pragma once

// The modes of ensemble-bench. Each runs to completion (every wait has a
// deadline) and returns its report; failures are counted in report.errors.

#include <vector>

#include "bench/loadgen/options.h"
#include "bench/loadgen/report.h"
#include "bench/loadgen/zk_connection.h"

namespace ensemble::bench {

Report RunOps(const Options& options, const std::vector<Endpoint>& servers);
Report RunWatchFanout(const Options& options, const std::vector<Endpoint>& servers);
Report RunSessions(const Options& options, const std::vector<Endpoint>& servers);
Report RunEphemeralCleanup(const Options& options, const std::vector<Endpoint>& servers);
Report RunProbe(const Options& options, const std::vector<Endpoint>& servers);

}  // namespace ensemble::bench
