// File: daemon/backend_factory.h
//
// Builds the backend named by --backend ("auto" probes SkyPilot's API
// server once at start-up and falls back to local, saying which in the log
// and in health).
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "daemon/backend/backend.h"
#include "daemon/daemon_options.h"

namespace skydeck {

absl::StatusOr<std::unique_ptr<backend::Backend>> MakeBackend(const DaemonOptions& options,
                                                              const std::string& installation_id);

}  // namespace skydeck
