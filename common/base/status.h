#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// RETURN_IF_ERROR(expr): propagate a non-OK absl::Status to the caller.
#define ENSEMBLE_RETURN_IF_ERROR(expr)                   \
  do {                                                   \
    ::absl::Status ensemble_status_ = (expr);            \
    if (!ensemble_status_.ok()) return ensemble_status_; \
  } while (0)

#define ENSEMBLE_CONCAT_INNER_(a, b) a##b
#define ENSEMBLE_CONCAT_(a, b) ENSEMBLE_CONCAT_INNER_(a, b)

// ASSIGN_OR_RETURN(lhs, expr): unwrap an absl::StatusOr or return its status.
#define ENSEMBLE_ASSIGN_OR_RETURN(lhs, expr)                  \
  auto ENSEMBLE_CONCAT_(ensemble_or_, __LINE__) = (expr);     \
  if (!ENSEMBLE_CONCAT_(ensemble_or_, __LINE__).ok())         \
    return ENSEMBLE_CONCAT_(ensemble_or_, __LINE__).status(); \
  lhs = std::move(*ENSEMBLE_CONCAT_(ensemble_or_, __LINE__))
