#include "bench/loadgen/report.h"

#include <cmath>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "common/jute/zk_error.h"

namespace ensemble::bench {

void ErrorCounts::Add(std::string_view op, int32_t code, uint64_t n) {
  if (n) by_code_[{std::string(op), code}] += n;
}

void ErrorCounts::AddNote(std::string_view note, uint64_t n) {
  if (n) notes_[std::string(note)] += n;
}

void ErrorCounts::Merge(const ErrorCounts& other) {
  for (const auto& [key, n] : other.by_code_) by_code_[key] += n;
  for (const auto& [note, n] : other.notes_) notes_[note] += n;
}

uint64_t ErrorCounts::total() const {
  uint64_t total = 0;
  for (const auto& [key, n] : by_code_) total += n;
  for (const auto& [note, n] : notes_) total += n;
  return total;
}

std::vector<ErrorCounts::Entry> ErrorCounts::Entries() const {
  std::vector<Entry> out;
  for (const auto& [key, n] : by_code_) out.push_back({key.first, key.second, n});
  return out;
}

namespace {

std::string CodeName(int32_t code) {
  return std::string(jute::ZkErrorName(static_cast<jute::ZkError>(code)));
}

double Micros(uint64_t ns) { return static_cast<double>(ns) / 1000.0; }

double Rate(uint64_t count, double seconds) {
  return seconds > 0 ? static_cast<double>(count) / seconds : 0.0;
}

// Numbers in JSON: finite, compact.
std::string JsonNumber(double v) {
  if (!std::isfinite(v)) return "null";
  if (v == std::floor(v) && std::fabs(v) < 1e15) return absl::StrFormat("%.0f", v);
  return absl::StrFormat("%.6g", v);
}

}  // namespace

std::string JsonString(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out += c;
        }
    }
  }
  out += "\"";
  return out;
}

std::string FormatText(const Report& report) {
  std::string out = absl::StrCat("mode ", report.mode);
  for (const auto& [key, value] : report.params) absl::StrAppend(&out, " ", key, "=", value);
  absl::StrAppend(&out, "\n",
                  absl::StrFormat("elapsed %.3f s (stopped by %s)\n", report.elapsed_s,
                                  report.stopped_by.empty() ? "-" : report.stopped_by));
  if (!report.ops.empty()) {
    absl::StrAppend(&out, absl::StrFormat("%-14s %10s %11s %10s %10s %10s %10s\n", "op", "count",
                                          "ops/s", "p50 us", "p99 us", "p99.9 us", "max us"));
    for (const OpResult& op : report.ops) {
      const Histogram& h = op.latency_ns;
      std::string rate =
          op.show_rate ? absl::StrFormat("%.1f", Rate(h.count(), report.elapsed_s)) : "-";
      absl::StrAppend(
          &out, absl::StrFormat("%-14s %10d %11s %10.1f %10.1f %10.1f %10.1f\n", op.name, h.count(),
                                rate, Micros(h.Percentile(0.5)), Micros(h.Percentile(0.99)),
                                Micros(h.Percentile(0.999)), Micros(h.max())));
    }
  }
  for (const Figure& f : report.figures) {
    absl::StrAppend(&out, absl::StrFormat("%-34s %.3f\n", f.name, f.value));
  }
  if (report.errors.empty()) {
    absl::StrAppend(&out, "errors: none\n");
  } else {
    absl::StrAppend(&out, "errors: ", report.errors.total(),
                    " (a run with errors is not a result)\n");
    for (const auto& e : report.errors.Entries()) {
      absl::StrAppend(&out,
                      absl::StrFormat("  %-14s %-26s %10d\n", e.op,
                                      absl::StrCat(CodeName(e.code), " (", e.code, ")"), e.count));
    }
    for (const auto& [note, n] : report.errors.notes()) {
      absl::StrAppend(&out, absl::StrFormat("  %s (x%d)\n", note, n));
    }
  }
  return out;
}

std::string FormatJson(const Report& report) {
  std::string out = absl::StrCat("{\"mode\":", JsonString(report.mode), ",\"params\":{");
  bool first = true;
  for (const auto& [key, value] : report.params) {
    absl::StrAppend(&out, first ? "" : ",", JsonString(key), ":", JsonString(value));
    first = false;
  }
  absl::StrAppend(&out, "},\"elapsed_s\":", JsonNumber(report.elapsed_s),
                  ",\"stopped_by\":", JsonString(report.stopped_by), ",\"ops\":{");
  first = true;
  for (const OpResult& op : report.ops) {
    const Histogram& h = op.latency_ns;
    absl::StrAppend(
        &out, first ? "" : ",", JsonString(op.name), ":{\"count\":", h.count(),
        ",\"per_second\":", op.show_rate ? JsonNumber(Rate(h.count(), report.elapsed_s)) : "null",
        ",\"latency_us\":{\"min\":", JsonNumber(Micros(h.min())),
        ",\"mean\":", JsonNumber(h.mean() / 1000.0),
        ",\"p50\":", JsonNumber(Micros(h.Percentile(0.5))),
        ",\"p99\":", JsonNumber(Micros(h.Percentile(0.99))),
        ",\"p999\":", JsonNumber(Micros(h.Percentile(0.999))),
        ",\"max\":", JsonNumber(Micros(h.max())), "}}");
    first = false;
  }
  absl::StrAppend(&out, "},\"figures\":{");
  first = true;
  for (const Figure& f : report.figures) {
    absl::StrAppend(&out, first ? "" : ",", JsonString(f.name), ":", JsonNumber(f.value));
    first = false;
  }
  absl::StrAppend(&out, "},\"errors\":{\"total\":", report.errors.total(), ",\"by_code\":[");
  first = true;
  for (const auto& e : report.errors.Entries()) {
    absl::StrAppend(&out, first ? "" : ",", "{\"op\":", JsonString(e.op), ",\"code\":", e.code,
                    ",\"name\":", JsonString(CodeName(e.code)), ",\"count\":", e.count, "}");
    first = false;
  }
  absl::StrAppend(&out, "],\"notes\":{");
  first = true;
  for (const auto& [note, n] : report.errors.notes()) {
    absl::StrAppend(&out, first ? "" : ",", JsonString(note), ":", n);
    first = false;
  }
  absl::StrAppend(&out, "}}}\n");
  return out;
}

}  // namespace ensemble::bench
