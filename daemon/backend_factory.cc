#include "daemon/backend_factory.h"

#include "absl/strings/str_cat.h"
#include "common/log.h"
#include "common/status_macros.h"
#include "daemon/backend/local/local_backend.h"
#include "daemon/backend/skypilot/skypilot_backend.h"
#include "daemon/backend/skypilot/skypilot_options.h"

namespace skydeck {
namespace {

std::unique_ptr<backend::Backend> MakeLocal(const DaemonOptions& o) {
  backend::LocalBackendOptions local;
  local.data_dir = o.data_dir;
  local.cancel_grace = o.local_cancel_grace;
  return std::make_unique<backend::LocalBackend>(local);
}

absl::StatusOr<std::unique_ptr<backend::Backend>> MakeSkyPilot(const DaemonOptions& o,
                                                               const std::string& installation_id) {
  namespace sky = backend::skypilot;
  sky::SkyPilotOptions options;
  options.endpoint = sky::ResolveEndpoint(o.skypilot_endpoint);
  ASSIGN_OR_RETURN(options.token, sky::LoadToken(o.skypilot_token_file));
  options.user_id = sky::StableUserId(installation_id);
  options.max_concurrent_launches = o.max_concurrent_launches;
  options.client_version = absl::StrCat("skydeck-", SKYDECK_VERSION);
  options.setup = o.skypilot_setup;
  if (!o.skypilot_workdir.empty()) {
    sky::WorkdirSource workdir;
    size_t at = o.skypilot_workdir.rfind('@');
    bool has_ref = at != std::string::npos && at > o.skypilot_workdir.find("://") + 3 &&
                   o.skypilot_workdir.find('/', at) == std::string::npos;
    workdir.url = has_ref ? o.skypilot_workdir.substr(0, at) : o.skypilot_workdir;
    workdir.ref = has_ref ? o.skypilot_workdir.substr(at + 1) : "";
    options.workdir = workdir;
  }
  ASSIGN_OR_RETURN(std::unique_ptr<sky::SkyPilotBackend> b, sky::SkyPilotBackend::Create(options));
  return std::unique_ptr<backend::Backend>(std::move(b));
}

}  // namespace

absl::StatusOr<std::unique_ptr<backend::Backend>> MakeBackend(const DaemonOptions& o,
                                                              const std::string& installation_id) {
  if (o.backend == "local") return MakeLocal(o);
  ASSIGN_OR_RETURN(std::unique_ptr<backend::Backend> sky, MakeSkyPilot(o, installation_id));
  if (o.backend == "skypilot") return sky;
  // auto: SkyPilot when its API server answers now, else the local backend.
  backend::BackendInfo info = sky->Probe();
  if (info.reachable) {
    LogInfo("backend auto: SkyPilot API server answered; using skypilot",
            {{"api_version", info.api_version}, {"version", info.version}});
    return sky;
  }
  LogInfo("backend auto: no SkyPilot API server answered; using local",
          {{"error", info.error}});
  return MakeLocal(o);
}

}  // namespace skydeck
