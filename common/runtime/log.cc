#include "common/runtime/log.h"

#include "spdlog/sinks/stdout_color_sinks.h"

namespace ensemble::runtime {

void InitLogging(std::string_view process, int64_t sid, std::string_view level) {
  auto logger = spdlog::stderr_color_mt(std::string(process));
  logger->set_pattern("%Y-%m-%dT%H:%M:%S.%e %l " + std::string(process) +
                      " sid=" + std::to_string(sid) + " %v");
  auto parsed = spdlog::level::from_str(std::string(level));
  logger->set_level(parsed);
  logger->flush_on(spdlog::level::warn);
  spdlog::set_default_logger(logger);
}

}  // namespace ensemble::runtime
