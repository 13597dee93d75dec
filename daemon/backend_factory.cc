#include "daemon/backend_factory.h"

#include "absl/strings/str_cat.h"
#include "daemon/backend/local/local_backend.h"

namespace skydeck {

absl::StatusOr<std::unique_ptr<backend::Backend>> MakeBackend(const DaemonOptions& o) {
  if (o.backend == "local" || o.backend == "auto") {
    backend::LocalBackendOptions local;
    local.data_dir = o.data_dir;
    local.cancel_grace = o.local_cancel_grace;
    return std::unique_ptr<backend::Backend>(std::make_unique<backend::LocalBackend>(local));
  }
  return absl::InvalidArgumentError(absl::StrCat("backend \"", o.backend, "\" is not available"));
}

}  // namespace skydeck
