#pragma once

// The results of one ensemble-bench run and their two renderings: a table for
// people and JSON for bench/compare. Pure: no I/O, no clocks.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "bench/loadgen/histogram.h"

namespace ensemble::bench {

// Every error of a run, counted per operation and ZooKeeper error code, plus
// free-text notes for failures that have no code (a refused connection, a
// malformed reply); notes are counted per distinct text.
class ErrorCounts {
 public:
  struct Entry {
    std::string op;
    int32_t code = 0;
    uint64_t count = 0;
  };

  void Add(std::string_view op, int32_t code, uint64_t n = 1);
  void AddNote(std::string_view note, uint64_t n = 1);
  void Merge(const ErrorCounts& other);

  // Errors with a code plus notes.
  uint64_t total() const;
  bool empty() const { return total() == 0; }
  // By op name, then code.
  std::vector<Entry> Entries() const;
  const std::map<std::string, uint64_t>& notes() const { return notes_; }

 private:
  std::map<std::pair<std::string, int32_t>, uint64_t> by_code_;
  std::map<std::string, uint64_t> notes_;
};

// One row of the latency table. Latencies are recorded in nanoseconds.
struct OpResult {
  std::string name;
  Histogram latency_ns;
  bool show_rate = true;  // print count / elapsed as ops/s
};

// A scalar result that is not a latency distribution.
struct Figure {
  std::string name;  // snake_case, unit last ("sessions_per_second")
  double value = 0;
};

struct Report {
  std::string mode;
  std::vector<std::pair<std::string, std::string>> params;  // in print order
  double elapsed_s = 0;
  std::string stopped_by;  // "count", "time", "done", "errors"
  std::vector<OpResult> ops;
  std::vector<Figure> figures;
  ErrorCounts errors;
};

// A table: parameters, elapsed time, one row per op (count, ops/s, p50, p99,
// p99.9, max in microseconds), figures, then errors by op and code.
std::string FormatText(const Report& report);

// One JSON object:
// {"mode","params":{..},"elapsed_s","stopped_by",
//  "ops":{name:{"count","per_second","latency_us":{"min","mean","p50","p99","p999","max"}}},
//  "figures":{name:value},
//  "errors":{"total","by_code":[{"op","code","name","count"}],"notes":{text:count}}}
std::string FormatJson(const Report& report);

// JSON string literal for `text` (quotes included).
std::string JsonString(std::string_view text);

}  // namespace ensemble::bench
