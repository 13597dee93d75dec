#include "daemon/daemon.h"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <grpcpp/ext/proto_server_reflection_plugin.h>
#include <grpcpp/grpcpp.h>
#include <grpcpp/health_check_service_interface.h>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/code_manifest.h"
#include "common/log.h"
#include "common/loopback.h"
#include "common/status_macros.h"
#include "common/time_util.h"
#include "daemon/backend_factory.h"
#include "daemon/backend/skypilot/skypilot_options.h"
#include "daemon/bind_problem.h"
#include "daemon/metrics/daemon_metrics.h"
#include "daemon/metrics/grpc_metrics_interceptor.h"
#include "daemon/prices_and_links.h"
#include "daemon/store/restore.h"
#include "daemon/store/sqlite.h"
#include "web/bridge/embedded_file.h"
#include "web/bridge/http_bridge.h"

#ifndef SKYDECK_VERSION
#define SKYDECK_VERSION "unknown"
#endif

namespace skydeck {
namespace {

constexpr int kMaxMessageBytes = 8 * 1024 * 1024;
constexpr char kExitCodePayload[] = "type.skydeck.dev/skydeckd.exit_code";

std::string HostPort(const std::string& host, int port) {
  bool v6 = host.find(':') != std::string::npos && host.front() != '[';
  return absl::StrCat(v6 ? "[" : "", host, v6 ? "]" : "", ":", port);
}

bool WriteReadyFile(const std::string& path, const std::string& content) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << content;
    if (!out) return false;
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);  // atomic: readers never see half
  return !ec;
}

// Whether `status` is SQLite finding the file damaged.
bool IsDamage(const absl::Status& status) {
  const int code = store::SqliteResultCode(status);
  return code == SQLITE_CORRUPT || code == SQLITE_NOTADB;
}

// Exit 4 with how to restore, for damage `found` at start.
absl::Status DamagedDatabase(const std::string& db_path, const absl::Status& found) {
  return WithExitCode(
      absl::DataLossError(absl::StrCat(
          "database ", db_path, " is damaged (", found.message(),
          "). Restore the latest backup made with `skydeck backup FILE`: start skydeckd "
          "with --restore-from FILE (the damaged file is kept beside it); without a "
          "backup, `sqlite3 ",
          db_path, " .recover` may save part of it")),
      kExitDatabaseDamaged);
}

}  // namespace

absl::Status WithExitCode(absl::Status status, int exit_code) {
  status.SetPayload(kExitCodePayload, absl::Cord(absl::StrCat(exit_code)));
  return status;
}

int DaemonExitCode(const absl::Status& status) {
  if (status.ok()) return 0;
  int code = kExitStartFailed;
  if (auto payload = status.GetPayload(kExitCodePayload)) {
    if (!absl::SimpleAtoi(std::string(*payload), &code)) code = kExitStartFailed;
  }
  return code;
}

Daemon::Daemon(DaemonOptions options) : options_(std::move(options)) {}

Daemon::~Daemon() { Stop(); }

absl::Status Daemon::Start() {
  absl::Status status = [&]() -> absl::Status {
    RETURN_IF_ERROR(CheckExposure());
    RETURN_IF_ERROR(LoadPricesAndLinks());
    RETURN_IF_ERROR(CreateDataDir());
    RETURN_IF_ERROR(AcquireLocks());
    RETURN_IF_ERROR(RestoreDatabase());
    RETURN_IF_ERROR(OpenStore());
    RETURN_IF_ERROR(OpenSnapshots());
    RETURN_IF_ERROR(StartBackend());
    RETURN_IF_ERROR(OpenSecrets());
    RETURN_IF_ERROR(StartController());
    RETURN_IF_ERROR(StartNotifier());
    RETURN_IF_ERROR(StartGrpc());
    RETURN_IF_ERROR(StartHttp());
    return absl::OkStatus();
  }();
  if (!status.ok()) {
    Stop();
    return status;
  }
  AnnounceReady();
  return absl::OkStatus();
}

void Daemon::Stop() {
  // Watch and log streams last as long as their clients: end them first,
  // or stopping the listeners below would wait for them.
  if (hub_) hub_->Close();
  while (!stops_.empty()) {
    std::function<void()> stop = std::move(stops_.back());
    stops_.pop_back();
    stop();
  }
}

// Binding beyond loopback exposes the API to the network: only with a token.
absl::Status Daemon::CheckExposure() const {
  const DaemonOptions& o = options_;
  if (!IsLoopbackHost(o.host) && o.auth_token.empty()) {
    return WithExitCode(absl::FailedPreconditionError(absl::StrCat(
                            "refusing to listen on a non-loopback address without a token (--host ",
                            o.host, "); set --auth-token-file or SKYDECK_AUTH_TOKEN")),
                        kExitUsage);
  }
  return absl::OkStatus();
}

absl::Status Daemon::LoadPricesAndLinks() {
  ASSIGN_OR_RETURN(prices_, LoadPriceFiles(options_.price_files));
  ASSIGN_OR_RETURN(link_templates_, ParseLinkFlags(options_.links));
  if (!options_.price_files.empty()) {
    LogInfo("prices loaded", {{"gpu_types", std::to_string(prices_.prices().size())}});
  }
  return absl::OkStatus();
}

absl::Status Daemon::CreateDataDir() const {
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data directory ", options_.data_dir, ": ", ec.message()));
  }
  return absl::OkStatus();
}

// Before anything reads the database or touches the backend: a second
// daemon must not get as far as reconciling (issue: two daemons launched
// the same attempt twice).
absl::Status Daemon::AcquireLocks() {
  std::string data_dir_lock = absl::StrCat(options_.data_dir, "/skydeckd.lock");
  std::string db_lock = absl::StrCat(options_.db_path, ".lock");
  auto in_use = [](absl::Status status) {
    return absl::IsAlreadyExists(status) ? WithExitCode(std::move(status), kExitInUse) : status;
  };
  auto data =
      InstanceLock::Acquire(data_dir_lock, absl::StrCat("data directory ", options_.data_dir));
  if (!data.ok()) return in_use(data.status());
  data_dir_lock_ = *std::move(data);
  OnStop([this] { data_dir_lock_.reset(); });
  // Locks are per process: taking one file twice would "succeed" twice.
  std::error_code ec;
  if (std::filesystem::equivalent(data_dir_lock, db_lock, ec)) return absl::OkStatus();
  auto db = InstanceLock::Acquire(db_lock, absl::StrCat("database ", options_.db_path));
  if (!db.ok()) return in_use(db.status());
  db_lock_ = *std::move(db);
  OnStop([this] { db_lock_.reset(); });
  return absl::OkStatus();
}

absl::Status Daemon::RestoreDatabase() const {
  if (options_.restore_from.empty()) return absl::OkStatus();
  // A restore is rare and deliberate: the backup is checked whole,
  // however long that takes, before it replaces anything.
  auto restored = store::RestoreDatabase(options_.restore_from, options_.db_path, absl::Hours(24));
  if (!restored.ok()) {
    return absl::Status(
        restored.status().code(),
        absl::StrCat("cannot restore ", options_.restore_from, ": ", restored.status().message()));
  }
  LogInfo("database restored",
          {{"from", options_.restore_from},
           {"db", options_.db_path},
           {"revision", absl::StrCat(restored->revision)},
           {"previous", restored->previous.empty() ? "none" : restored->previous}});
  return absl::OkStatus();
}

absl::Status Daemon::OpenStore() {
  store::OpenOptions open;
  open.integrity_check_budget = options_.db_check_timeout;
  // The history (jobs, events: nearly all of a large file) is checked
  // while serving, so start-up does not grow with it (store/background_check.h).
  open.check_history_in_background = true;
  auto store = store::Store::Open(options_.db_path, open);
  if (absl::IsDataLoss(store.status())) return DamagedDatabase(options_.db_path, store.status());
  if (!store.ok()) {
    return absl::Status(
        store.status().code(),
        absl::StrCat("cannot open database ", options_.db_path, ": ", store.status().message()));
  }
  store_ = *std::move(store);
  OnStop([this] { store_.reset(); });  // closes the database after the last write
  auto revision = store_->LatestRevision();
  auto installation = store_->InstallationId();
  // Damage in the history that the background check has not reached yet.
  if (IsDamage(revision.status())) return DamagedDatabase(options_.db_path, revision.status());
  if (!revision.ok() || !installation.ok()) {
    return absl::InternalError(absl::StrCat("cannot read database ", options_.db_path));
  }
  installation_id_ = *installation;
  hub_ = std::make_unique<service::WatchHub>(*revision);
  store_->SetCommitListener([hub = hub_.get()](int64_t rev) { hub->Publish(rev); });
  return absl::OkStatus();
}

// Code snapshots of local workdirs and file mounts (docs/design.md).
absl::Status Daemon::OpenSnapshots() {
  auto snapshots = snapshots::SnapshotStore::Open(
      absl::StrCat(options_.data_dir, "/snapshots"),
      SnapshotLimits{options_.max_snapshot_bytes, SnapshotLimits{}.max_files});
  if (!snapshots.ok()) {
    return absl::Status(
        snapshots.status().code(),
        absl::StrCat("cannot open the code snapshot store: ", snapshots.status().message()));
  }
  snapshots_ = *std::move(snapshots);
  snapshots::CollectorOptions collect;
  collect.grace = options_.snapshot_grace;
  snapshot_collector_ =
      std::make_unique<snapshots::SnapshotCollector>(store_.get(), snapshots_.get(), collect);
  snapshot_collector_->Start();
  OnStop([this] { snapshot_collector_->Stop(); });
  return absl::OkStatus();
}

absl::Status Daemon::StartBackend() {
  auto selected = MakeBackend(options_, installation_id_, *store_, snapshots_.get());
  // It reads the newest job: damage the background check has not reached.
  if (IsDamage(selected.status())) return DamagedDatabase(options_.db_path, selected.status());
  if (!selected.ok()) {
    return absl::Status(
        selected.status().code(),
        absl::StrCat("cannot start backend ", options_.backend, ": ", selected.status().message()));
  }
  LogInfo("backend selected",
          {{"backend", selected->backend->name()}, {"reason", selected->reason}});
  backend_reason_ = selected->reason;
  // Every backend call is timed for /metrics, whichever component makes it.
  backend_ =
      std::make_unique<metrics::MeteredBackend>(std::move(selected->backend), &backend_calls_);
  return absl::OkStatus();
}

// Secret values are read at each launch, never stored (secret_source.h).
absl::Status Daemon::OpenSecrets() {
  if (options_.secrets_file.empty()) {
    secrets_ = workload::EnvironmentSecretSource();
    return absl::OkStatus();
  }
  if (absl::Status s = workload::CheckSecretsFile(options_.secrets_file); !s.ok()) {
    return absl::Status(s.code(), absl::StrCat("cannot use the secrets file: ", s.message()));
  }
  secrets_ = workload::FileSecretSource(options_.secrets_file);
  return absl::OkStatus();
}

absl::Status Daemon::StartController() {
  reconcile::ControllerOptions copts;
  copts.backend_reason = backend_reason_;
  copts.secrets = secrets_.get();
  if (backend_->name() == "skypilot" && !options_.skypilot_workdir.empty()) {
    copts.backend_default_workdir =
        absl::StrCat("skydeckd runs jobs that name no workdir in its --skypilot-workdir ",
                     options_.skypilot_workdir);
  }
  copts.workers = options_.max_concurrent_launches;
  poll_interval_ = options_.poll_interval > absl::ZeroDuration()
                       ? options_.poll_interval
                       : absl::Milliseconds(backend_->DefaultPollIntervalMs());
  copts.poll_interval = poll_interval_;
  copts.resync_interval = options_.reconcile_interval;
  if (options_.backend_call_timeout > absl::ZeroDuration()) {
    copts.backend_call_timeout = options_.backend_call_timeout;
  }
  copts.environment_retry_limit = options_.environment_retry_limit;
  copts.snapshots = [s = snapshots_.get()](const std::string& id) { return s->Get(id).status(); };
  controller_ = std::make_unique<reconcile::Controller>(store_.get(), backend_.get(),
                                                        installation_id_, copts);
  controller_->Start();
  OnStop([this] { controller_->Stop(); });  // finishes in-flight reconciles
  return absl::OkStatus();
}

// Notifications read committed events on threads of their own: a slow or
// failing webhook never holds up a reconcile or an API call.
absl::Status Daemon::StartNotifier() {
  if (options_.notify_file.empty()) return absl::OkStatus();
  auto config = notify::LoadNotifyConfig(options_.notify_file);
  if (!config.ok()) {
    return WithExitCode(
        absl::Status(config.status().code(),
                     absl::StrCat("cannot use the notify file: ", config.status().message())),
        kExitUsage);
  }
  notify::NotifierOptions nopts;
  nopts.config = *std::move(config);
  nopts.installation_id = installation_id_;
  nopts.revision = [hub = hub_.get()] { return hub->revision(); };
  nopts.idle_check = absl::Milliseconds(100);
  nopts.backend_health = [c = controller_.get()] { return c->Health(); };
  notifier_ = std::make_unique<notify::Notifier>(store_.get(), std::move(nopts));
  RETURN_IF_ERROR(notifier_->Start());
  OnStop([this] { notifier_->Stop(); });  // before the store closes
  std::vector<std::string> sinks;
  for (const notify::SinkStatus& s : notifier_->Status()) {
    sinks.push_back(absl::StrCat(s.name, "=", s.url));
  }
  LogInfo("notifications on",
          {{"file", options_.notify_file}, {"sinks", absl::StrJoin(sinks, " ")}});
  return absl::OkStatus();
}

absl::Status Daemon::StartGrpc() {
  api_ =
      std::make_unique<service::SkyDeckService>(store_.get(), hub_.get(), controller_.get(),
                                                SKYDECK_VERSION, NowMillis(), options_.auth_token);
  api_->set_default_template(options_.default_template);
  api_->set_prices(prices_);
  std::vector<LinkTemplate> links = link_templates_;
  if (backend_->name() == "skypilot") {
    AddSkyPilotDashboardLink(backend::skypilot::ResolveEndpoint(options_.skypilot_endpoint),
                             &links);
  }
  api_->set_link_templates(std::move(links));
  api_->set_code_snapshots(snapshots_.get(), backend_->UsesCodeSnapshots());
  api_->set_notifier(notifier_.get());
  // Health and /metrics answer from these counts, kept by a thread on the
  // store's read connections (the first count, ~0.1 s at 100,000
  // experiments, is not waited for here).
  state_counts_ = std::make_unique<store::StateCounts>(
      store::StateCounts::CountStore(store_.get()), [hub = hub_.get()] { return hub->revision(); },
      store::StateCounts::kDefaultInterval);
  state_counts_->Start();
  OnStop([this] { state_counts_->Stop(); });  // before the store closes
  api_->set_state_counts(state_counts_.get());
  if (!options_.default_template.empty()) {
    auto t = store_->GetTaskTemplate(options_.default_template);
    if (t.ok() && !*t) {
      LogWarn(
          "the default task template does not exist yet; experiments created without "
          "--template are refused until it is applied",
          {{"template", options_.default_template}});
    }
  }
  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  // gRPC sets SO_REUSEPORT by default: a second daemon on the same port
  // would start and take half of the connections.
  builder.AddChannelArgument(GRPC_ARG_ALLOW_REUSEPORT, 0);
  int port = 0;
  builder.AddListeningPort(HostPort(options_.host, options_.grpc_port),
                           grpc::InsecureServerCredentials(), &port);
  builder.SetMaxReceiveMessageSize(kMaxMessageBytes);
  builder.RegisterService(api_.get());
  // Counts every call on the server: CLI, Python, the bridge's in-process channel.
  std::vector<std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface>> interceptors;
  // The API's methods by descriptor (a generated message ties them in).
  metrics::ServedMethods served = metrics::MethodsOf(
      *skydeck::v1::GetHealthRequest::descriptor()->file()->FindServiceByName("SkyDeck"));
  served.merge(metrics::GrpcInfrastructureMethods());
  interceptors.push_back(metrics::NewMetricsInterceptorFactory(&grpc_metrics_, std::move(served)));
  builder.experimental().SetInterceptorCreators(std::move(interceptors));
  server_ = builder.BuildAndStart();
  if (server_) {
    OnStop([this] {
      server_->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(5));
      server_->Wait();
    });
  }
  if (!server_ || port == 0) {
    std::string why = BindProblem(options_.host, options_.grpc_port);
    return absl::UnavailableError(absl::StrCat(
        "cannot listen for gRPC on ", HostPort(options_.host, options_.grpc_port),
        why.empty() ? "" : absl::StrCat(": ", why),
        why == std::strerror(EADDRINUSE)
            ? " (another process, perhaps another skydeckd, has it; choose another --grpc-port)"
            : ""));
  }
  grpc_address_ = HostPort(options_.host, port);
  return absl::OkStatus();
}

absl::Status Daemon::StartHttp() {
  if (!options_.http) return absl::OkStatus();
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(kMaxMessageBytes);
  web::BridgeOptions bopts;
  bopts.host = options_.host;
  bopts.port = options_.port;
  bopts.token = options_.auth_token;
  for (const std::string& h : options_.http_allowed_hosts) {
    bopts.allowed_hosts.push_back(absl::AsciiStrToLower(h));
  }
  bopts.web_root = options_.web_root;
  bopts.embedded_files = web::EmbeddedDashboardFiles();
  bopts.keepalive = absl::ToChronoMilliseconds(options_.sse_keepalive);
  bopts.limits = options_.http_limits;
  bopts.extra_metrics = [this] {
    return metrics::DaemonMetrics({.store = store_.get(),
                                   .counts = state_counts_.get(),
                                   .controller = controller_.get(),
                                   .backend_name = backend_->name(),
                                   .grpc = &grpc_metrics_,
                                   .backend_calls = &backend_calls_,
                                   .prices = &prices_,
                                   .notifier = notifier_.get()});
  };
  bridge_ = std::make_unique<web::HttpBridge>(server_->InProcessChannel(args), bopts);
  auto http_port = bridge_->Start();
  if (!http_port.ok()) {
    return absl::Status(http_port.status().code(),
                        absl::StrCat("cannot start HTTP: ", http_port.status().message()));
  }
  OnStop([this] { bridge_->Stop(); });  // no new HTTP requests
  http_address_ = HostPort(options_.host, *http_port);
  return absl::OkStatus();
}

void Daemon::AnnounceReady() {
  const DaemonOptions& o = options_;
  // So that a second daemon can say where this one answers.
  for (InstanceLock* lock : {data_dir_lock_.get(), db_lock_.get()}) {
    if (!lock) continue;
    if (absl::Status s = lock->RecordAddresses(grpc_address_, http_address_); !s.ok()) {
      LogWarn("cannot record the addresses in the lock file",
              {{"error", std::string(s.message())}});
    }
  }
  std::string dashboard = !o.web_root.empty()                     ? o.web_root
                          : web::EmbeddedDashboardFiles().empty() ? "not built"
                                                                  : "embedded";
  LogInfo("skydeckd started",
          {{"version", SKYDECK_VERSION},
           {"grpc", grpc_address_},
           {"http", o.http ? http_address_ : "off"},
           {"backend", backend_->name()},
           {"poll_interval", absl::FormatDuration(poll_interval_)},
           {"reconcile_interval", absl::FormatDuration(o.reconcile_interval)},
           {"db", o.db_path},
           {"data_dir", o.data_dir},
           {"dashboard", dashboard},
           {"auth", o.auth_token.empty() ? "off" : "token"},
           {"secrets", secrets_->Describe()},
           {"notify", notifier_ ? absl::StrCat(notifier_->Status().size(), " sinks") : "off"},
           {"default_template", o.default_template.empty() ? "none" : o.default_template},
           {"code_snapshots",
            backend_->UsesCodeSnapshots() ? "uploaded to the backend" : "directories run in place"},
           {"max_snapshot_bytes", FormatBytes(o.max_snapshot_bytes)}});
  if (!o.ready_file.empty() &&
      !WriteReadyFile(o.ready_file, absl::StrCat(grpc_address_, "\n", http_address_, "\n"))) {
    LogError("cannot write ready file", {{"path", o.ready_file}});
  }
}

}  // namespace skydeck
