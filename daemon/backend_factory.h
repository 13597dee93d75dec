// File: daemon/backend_factory.h
//
// Builds the backend named by --backend.
#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "daemon/backend/backend.h"
#include "daemon/daemon_options.h"

namespace skydeck {

absl::StatusOr<std::unique_ptr<backend::Backend>> MakeBackend(const DaemonOptions& options);

}  // namespace skydeck
