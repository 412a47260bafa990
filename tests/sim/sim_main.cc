// ensemble_sim: runs the seeded whole-ensemble simulator (docs/zab.md,
// "The simulator").
//
//   ensemble_sim --seed N                 one seed, with a summary
//   ensemble_sim --seeds-file FILE        every seed in FILE (regressions)
//   ensemble_sim --random [--count N] [--time-budget-s S]
//                                         fresh random seeds until N ran or S
//                                         seconds passed
//   ENSEMBLE_SIM_SEED=N ensemble_sim      replays seed N exactly (overrides
//                                         the flags), printing its trace
//
// On a failure it prints `seed=<n>`, what broke, the seed's options and the
// per-peer event trace, and exits 1. A broken invariant inside a core
// (ENSEMBLE_CHECK -> abort) prints the same from a SIGABRT handler.

#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "tests/sim/sim_cluster.h"

namespace {

using ensemble::sim::Cluster;
using ensemble::sim::SimOptions;

Cluster* g_cluster = nullptr;
uint64_t g_seed = 0;
// --election: 0 = as the seed's swarm says, 1 = always FLE, 2 = always the oracle.
int g_election = 0;

void OnAbort(int) {
  std::fprintf(stderr, "\nensemble_sim: abort (a broken invariant) with seed=%llu\n",
               static_cast<unsigned long long>(g_seed));
  if (g_cluster != nullptr) {
    std::string trace = g_cluster->Trace();
    std::fwrite(trace.data(), 1, trace.size(), stderr);
  }
  std::fprintf(stderr, "replay: ENSEMBLE_SIM_SEED=%llu ensemble_sim\n",
               static_cast<unsigned long long>(g_seed));
  std::signal(SIGABRT, SIG_DFL);
  std::abort();
}

// Runs one seed; prints a report on failure (or always if verbose).
bool RunSeed(uint64_t seed, bool verbose) {
  if (verbose) {
    std::fprintf(stderr, "running seed=%llu\n", static_cast<unsigned long long>(seed));
    std::fflush(stderr);
  }
  SimOptions options = SimOptions::Swarm(seed);
  if (g_election != 0) options.use_fle = g_election == 1;
  Cluster cluster(options);
  g_cluster = &cluster;
  g_seed = seed;
  auto start = std::chrono::steady_clock::now();
  bool ok = cluster.Run();
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  g_cluster = nullptr;
  if (!ok) {
    std::fprintf(stderr, "\nFAILED seed=%llu\n  %s\n  options: %s\n  stats: %s\n%s",
                 static_cast<unsigned long long>(seed), cluster.failure().c_str(),
                 options.Describe().c_str(), cluster.stats().Describe().c_str(),
                 cluster.Trace().c_str());
    std::fprintf(stderr, "FAILED seed=%llu -- replay: ENSEMBLE_SIM_SEED=%llu ensemble_sim\n",
                 static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
    return false;
  }
  if (verbose) {
    std::printf("seed=%llu ok in %.0f ms\n  options: %s\n  stats: %s\n",
                static_cast<unsigned long long>(seed), ms, options.Describe().c_str(),
                cluster.stats().Describe().c_str());
  }
  return true;
}

std::vector<uint64_t> ReadSeeds(const std::string& path) {
  std::vector<uint64_t> seeds;
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "ensemble_sim: cannot read %s\n", path.c_str());
    std::exit(2);
  }
  std::string line;
  while (std::getline(in, line)) {
    size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    size_t start = line.find_first_not_of(" \t\r");
    if (start == std::string::npos) continue;
    seeds.push_back(std::strtoull(line.c_str() + start, nullptr, 10));
  }
  return seeds;
}

void Usage() {
  std::fprintf(stderr,
               "usage: ensemble_sim [--seed N | --seeds-file FILE | --random [--count N] "
               "[--time-budget-s S]] [--election swarm|fle|oracle] [--verbose] [--keep-going]\n"
               "       ENSEMBLE_SIM_SEED=N ensemble_sim   (replay one seed)\n");
}

}  // namespace

int main(int argc, char** argv) {
  std::signal(SIGABRT, OnAbort);
  std::vector<uint64_t> seeds;
  bool random = false;
  bool verbose = false;
  bool keep_going = false;
  uint64_t count = 0;
  double budget_s = 0;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        Usage();
        std::exit(2);
      }
      return argv[++i];
    };
    if (arg == "--seed") {
      seeds.push_back(std::strtoull(value().c_str(), nullptr, 10));
    } else if (arg == "--seeds-file") {
      for (uint64_t s : ReadSeeds(value())) seeds.push_back(s);
    } else if (arg == "--random") {
      random = true;
    } else if (arg == "--count") {
      count = std::strtoull(value().c_str(), nullptr, 10);
    } else if (arg == "--time-budget-s") {
      budget_s = std::strtod(value().c_str(), nullptr);
    } else if (arg == "--verbose") {
      verbose = true;
    } else if (arg == "--keep-going") {
      keep_going = true;
    } else if (arg == "--election") {
      std::string v = value();
      if (v == "fle") {
        g_election = 1;
      } else if (v == "oracle") {
        g_election = 2;
      } else if (v != "swarm") {
        Usage();
        return 2;
      }
    } else {
      Usage();
      return 2;
    }
  }
  if (const char* env = std::getenv("ENSEMBLE_SIM_SEED"); env != nullptr && *env != '\0') {
    uint64_t seed = std::strtoull(env, nullptr, 10);
    return RunSeed(seed, true) ? 0 : 1;
  }
  if (!random && seeds.empty()) {
    Usage();
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  auto elapsed_s = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  uint64_t ran = 0;
  std::vector<uint64_t> failed;
  for (uint64_t seed : seeds) {
    ++ran;
    if (!RunSeed(seed, verbose)) {
      failed.push_back(seed);
      if (!keep_going) return 1;
    }
  }
  if (random) {
    std::random_device device;
    uint64_t random_ran = 0;
    while ((count == 0 || random_ran < count) && (budget_s <= 0 || elapsed_s() < budget_s)) {
      if (count == 0 && budget_s <= 0) break;
      uint64_t seed = (static_cast<uint64_t>(device()) << 32) | device();
      ++random_ran;
      ++ran;
      if (!RunSeed(seed, verbose)) {
        failed.push_back(seed);
        if (!keep_going) return 1;
      }
    }
  }
  if (!failed.empty()) {
    std::fprintf(stderr, "ensemble_sim: %zu of %llu seeds failed:", failed.size(),
                 static_cast<unsigned long long>(ran));
    for (uint64_t seed : failed)
      std::fprintf(stderr, " %llu", static_cast<unsigned long long>(seed));
    std::fprintf(stderr, "\n");
    return 1;
  }
  std::printf("ensemble_sim: %llu seeds passed in %.1f s\n", static_cast<unsigned long long>(ran),
              elapsed_s());
  return 0;
}
