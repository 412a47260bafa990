// libFuzzer target for the configuration parser (common/config/zoo_cfg.h). An
// operator's zoo.cfg, a dynamic configuration file and --set overrides are
// text from outside: parsing must give a Config or an InvalidArgument status
// naming the place -- never a crash, UB or a hang.
//
// Input: zoo.cfg text. A line "#%dynamic" (a comment to zoo.cfg) starts a
// dynamic configuration file's text, given to MergeDynamicConfig; a line "#%set"
// starts overrides, one "key=value" per line, given to ApplyOverride. So a
// plain zoo.cfg is a valid input as it is.
//
// Properties checked:
//   - ToZooCfg(config) parses again, and rendering that gives the same text
//     (ToZooCfg is a fixed point after one round);
//   - ApplyOverride leaves the config unchanged when it fails;
//   - the derived accessors answer on any parsed config.

#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/config/zoo_cfg.h"
#include "tests/fuzz/fuzz_input.h"

namespace ensemble::fuzz {
namespace {

constexpr char kTarget[] = "zoo_cfg_fuzz";
constexpr std::string_view kDynamicMarker = "\n#%dynamic\n";
constexpr std::string_view kSetMarker = "\n#%set\n";

void CheckStatus(const absl::Status& status, const char* what) {
  if (!status.ok() && status.code() != absl::StatusCode::kInvalidArgument) {
    Fail(kTarget, absl::StrCat(what, ": not INVALID_ARGUMENT: ", status.ToString()));
  }
}

void UseAccessors(const config::Config& c) {
  (void)c.MinSessionTimeoutMs();
  (void)c.MaxSessionTimeoutMs();
  (void)c.ConnectToLearnerMasterLimit();
  (void)c.JuteMaxBufferExtraSize();
  (void)c.DataLogDir();
  (void)c.QuorumServers();
  (void)c.Observers();
  (void)c.Self();
  (void)c.QuorumSize();
  (void)c.IsDistributed();
  (void)c.FourLetterWordEnabled("ruok");
  std::set<int64_t> sids;
  for (const auto& s : c.servers) {
    (void)c.IsObserver(s.sid);
    (void)c.Weight(s.sid);
    sids.insert(s.sid);
    (void)c.ContainsQuorum(sids);
  }
  for (const auto& [key, property] : c.properties) (void)config::IsSecretKey(key);
}

void CheckRoundTrip(const config::Config& c) {
  const std::string text = config::ToZooCfg(c);
  absl::StatusOr<config::Config> again = config::ParseZooCfg(text, "rendered.cfg");
  if (!again.ok()) {
    Fail(kTarget, absl::StrCat("ToZooCfg output does not parse: ", again.status().ToString(),
                               "\n--- rendered ---\n", text));
  }
  const std::string text2 = config::ToZooCfg(*again);
  if (text2 != text) {
    Fail(kTarget, absl::StrCat("ToZooCfg is not a fixed point\n--- first ---\n", text,
                               "--- second ---\n", text2));
  }
}

void Check(std::string_view input) {
  std::string_view cfg = input;
  std::string_view dynamic;
  std::string_view overrides;
  if (size_t at = cfg.find(kSetMarker); at != std::string_view::npos) {
    overrides = cfg.substr(at + kSetMarker.size());
    cfg = cfg.substr(0, at);
  }
  if (size_t at = cfg.find(kDynamicMarker); at != std::string_view::npos) {
    dynamic = cfg.substr(at + kDynamicMarker.size());
    cfg = cfg.substr(0, at);
  }
  absl::StatusOr<config::Config> parsed = config::ParseZooCfg(cfg, "zoo.cfg");
  CheckStatus(parsed.status(), "ParseZooCfg");
  if (!parsed.ok()) return;
  config::Config& c = *parsed;
  UseAccessors(c);
  CheckRoundTrip(c);
  if (!dynamic.empty()) {
    absl::Status merged = config::MergeDynamicConfig(c, dynamic, "zoo.cfg.dynamic");
    CheckStatus(merged, "MergeDynamicConfig");
    if (merged.ok()) {
      UseAccessors(c);
      CheckRoundTrip(c);
    }
  }
  while (!overrides.empty()) {
    size_t eol = overrides.find('\n');
    std::string_view line = overrides.substr(0, eol);
    overrides = eol == std::string_view::npos ? std::string_view() : overrides.substr(eol + 1);
    const std::string before = config::ToZooCfg(c);
    absl::Status applied = config::ApplyOverride(c, line);
    CheckStatus(applied, "ApplyOverride");
    if (!applied.ok()) {
      if (config::ToZooCfg(c) != before) Fail(kTarget, "a failed ApplyOverride changed the config");
      continue;
    }
    UseAccessors(c);
  }
  CheckRoundTrip(c);
}

}  // namespace
}  // namespace ensemble::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ensemble::fuzz::Check(std::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
