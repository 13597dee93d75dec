// File: common/status_macros.h
//
// Early-return helpers for absl::Status / absl::StatusOr. Debian 12's Abseil
// (20220623) predates ABSL_RETURN_IF_ERROR, so we keep our own.
//
//   RETURN_IF_ERROR(store.Begin());
//   ASSIGN_OR_RETURN(Experiment exp, store.GetExperiment(id));
#pragma once

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define SKYDECK_CONCAT_INNER_(a, b) a##b
#define SKYDECK_CONCAT_(a, b) SKYDECK_CONCAT_INNER_(a, b)

#define RETURN_IF_ERROR(expr)                          \
  do {                                                 \
    ::absl::Status skydeck_status_ = (expr);           \
    if (!skydeck_status_.ok()) return skydeck_status_; \
  } while (0)

#define ASSIGN_OR_RETURN(lhs, expr) \
  SKYDECK_ASSIGN_OR_RETURN_IMPL_(SKYDECK_CONCAT_(skydeck_or_, __LINE__), lhs, expr)

#define SKYDECK_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()
