// File: daemon/service/skydeck_service.h
//
// The gRPC handlers of skydeck.v1.SkyDeck. Each one validates its request,
// calls the store (and tells the control plane what changed), and converts
// the result; status codes come from common/grpc_status.h. No SQL and no
// backend calls live here.
//
// Thread-safety: handlers run concurrently on gRPC's threads; the store and
// control plane are thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

#include "common/model/link_template.h"
#include "common/model/price_table.h"
#include "daemon/reconcile/control_plane.h"
#include "daemon/service/watch_hub.h"
#include "daemon/store/state_counts.h"
#include "daemon/store/store.h"
#include "skydeck/v1/service.grpc.pb.h"

namespace skydeck {
struct TaskTemplate;
namespace notify {
class Notifier;
}  // namespace notify
namespace snapshots {
class SnapshotStore;
}  // namespace snapshots
}  // namespace skydeck

namespace skydeck::service {

namespace pb = ::skydeck::v1;
using reconcile::BackendHealth;
using reconcile::ControlPlane;

class SkyDeckService final : public pb::SkyDeck::Service {
 public:
  // None of the pointers are owned; all must outlive the service. `control`
  // may be null (no backend: Refresh, Reconcile and logs then fail with
  // FAILED_PRECONDITION). A non-empty `token` is required from every caller
  // as metadata `authorization: Bearer <token>`.
  SkyDeckService(store::Store* store, WatchHub* hub, ControlPlane* control, std::string version,
                 int64_t start_ms, std::string token = "");

  grpc::Status ListExperiments(grpc::ServerContext* ctx, const pb::ListExperimentsRequest* req,
                               pb::ListExperimentsResponse* resp) override;
  grpc::Status StreamExperiments(grpc::ServerContext* ctx, const pb::ListExperimentsRequest* req,
                                 grpc::ServerWriter<pb::ListExperimentsResponse>* writer) override;
  grpc::Status CreateExperiment(grpc::ServerContext* ctx, const pb::CreateExperimentRequest* req,
                                pb::CreateExperimentResponse* resp) override;
  grpc::Status GetExperiment(grpc::ServerContext* ctx, const pb::GetExperimentRequest* req,
                             pb::GetExperimentResponse* resp) override;
  grpc::Status UpdateExperiment(grpc::ServerContext* ctx, const pb::UpdateExperimentRequest* req,
                                pb::UpdateExperimentResponse* resp) override;
  grpc::Status DeleteExperiment(grpc::ServerContext* ctx, const pb::DeleteExperimentRequest* req,
                                pb::DeleteExperimentResponse* resp) override;
  grpc::Status DeleteExperiments(grpc::ServerContext* ctx, const pb::DeleteExperimentsRequest* req,
                                 pb::DeleteExperimentsResponse* resp) override;
  grpc::Status UndeleteExperiment(grpc::ServerContext* ctx,
                                  const pb::UndeleteExperimentRequest* req,
                                  pb::UndeleteExperimentResponse* resp) override;
  grpc::Status SetDesiredState(grpc::ServerContext* ctx, const pb::SetDesiredStateRequest* req,
                               pb::SetDesiredStateResponse* resp) override;
  grpc::Status GetExperimentStatus(grpc::ServerContext* ctx,
                                   const pb::GetExperimentStatusRequest* req,
                                   pb::GetExperimentStatusResponse* resp) override;
  grpc::Status ListJobs(grpc::ServerContext* ctx, const pb::ListJobsRequest* req,
                        pb::ListJobsResponse* resp) override;
  grpc::Status GetJob(grpc::ServerContext* ctx, const pb::GetJobRequest* req,
                      pb::GetJobResponse* resp) override;
  grpc::Status UpdateFlags(grpc::ServerContext* ctx, const pb::UpdateFlagsRequest* req,
                           pb::UpdateFlagsResponse* resp) override;
  grpc::Status CancelJob(grpc::ServerContext* ctx, const pb::CancelJobRequest* req,
                         pb::CancelJobResponse* resp) override;
  grpc::Status ListEvents(grpc::ServerContext* ctx, const pb::ListEventsRequest* req,
                          pb::ListEventsResponse* resp) override;
  grpc::Status GetHealth(grpc::ServerContext* ctx, const pb::GetHealthRequest* req,
                         pb::GetHealthResponse* resp) override;
  grpc::Status ListFlagSchemas(grpc::ServerContext* ctx, const pb::ListFlagSchemasRequest* req,
                               pb::ListFlagSchemasResponse* resp) override;
  grpc::Status Refresh(grpc::ServerContext* ctx, const pb::RefreshRequest* req,
                       pb::RefreshResponse* resp) override;
  grpc::Status Reconcile(grpc::ServerContext* ctx, const pb::ReconcileRequest* req,
                         pb::ReconcileResponse* resp) override;
  grpc::Status Watch(grpc::ServerContext* ctx, const pb::WatchRequest* req,
                     grpc::ServerWriter<pb::WatchResponse>* writer) override;
  grpc::Status GetJobLogs(grpc::ServerContext* ctx, const pb::GetJobLogsRequest* req,
                          grpc::ServerWriter<pb::GetJobLogsResponse>* writer) override;
  grpc::Status ApplyFlagSchema(grpc::ServerContext* ctx, const pb::ApplyFlagSchemaRequest* req,
                               pb::ApplyFlagSchemaResponse* resp) override;
  grpc::Status DeleteFlagSchema(grpc::ServerContext* ctx, const pb::DeleteFlagSchemaRequest* req,
                                pb::DeleteFlagSchemaResponse* resp) override;
  grpc::Status ApplyTaskTemplate(grpc::ServerContext* ctx, const pb::ApplyTaskTemplateRequest* req,
                                 pb::ApplyTaskTemplateResponse* resp) override;
  grpc::Status GetTaskTemplate(grpc::ServerContext* ctx, const pb::GetTaskTemplateRequest* req,
                               pb::GetTaskTemplateResponse* resp) override;
  grpc::Status ListTaskTemplates(grpc::ServerContext* ctx, const pb::ListTaskTemplatesRequest* req,
                                 pb::ListTaskTemplatesResponse* resp) override;
  grpc::Status DeleteTaskTemplate(grpc::ServerContext* ctx,
                                  const pb::DeleteTaskTemplateRequest* req,
                                  pb::DeleteTaskTemplateResponse* resp) override;
  grpc::Status PutCodeSnapshot(grpc::ServerContext* ctx, const pb::PutCodeSnapshotRequest* req,
                               pb::PutCodeSnapshotResponse* resp) override;
  grpc::Status PutCodeBlob(grpc::ServerContext* ctx, const pb::PutCodeBlobRequest* req,
                           pb::PutCodeBlobResponse* resp) override;

  // service_cost.cc.
  grpc::Status GetCost(grpc::ServerContext* ctx, const pb::GetCostRequest* req,
                       pb::GetCostResponse* resp) override;
  // What GPU-hours cost (skydeckd --prices; empty: nothing is priced) and
  // the link templates answers carry (skydeckd --link).
  // REQUIRES: called before the service is serving.
  void set_prices(PriceTable prices) { prices_ = std::move(prices); }
  void set_link_templates(std::vector<LinkTemplate> templates) {
    link_templates_ = std::move(templates);
  }

  // The template an experiment gets when its create request names none
  // (skydeckd --default-template); "" for none. REQUIRES: called before
  // the service is serving.
  void set_default_template(std::string name) { default_template_ = std::move(name); }
  // service_backup.cc.
  grpc::Status Backup(grpc::ServerContext* ctx, const pb::BackupRequest* req,
                      grpc::ServerWriter<pb::BackupResponse>* writer) override;
  // service_import.cc.
  grpc::Status ImportExperiments(grpc::ServerContext* ctx, const pb::ImportExperimentsRequest* req,
                                 pb::ImportExperimentsResponse* resp) override;
  // service_marks.cc.
  grpc::Status SetStarred(grpc::ServerContext* ctx, const pb::SetStarredRequest* req,
                          pb::SetStarredResponse* resp) override;
  grpc::Status MoveExperiment(grpc::ServerContext* ctx, const pb::MoveExperimentRequest* req,
                              pb::MoveExperimentResponse* resp) override;
  // service_notify.cc.
  grpc::Status TestNotify(grpc::ServerContext* ctx, const pb::TestNotifyRequest* req,
                          pb::TestNotifyResponse* resp) override;

  // The notifier of skydeckd --notify (not owned; null: none, TestNotify
  // fails with FAILED_PRECONDITION and health lists no sinks).
  // REQUIRES: called before the service is serving.
  void set_notifier(notify::Notifier* notifier) { notifier_ = notifier; }

  // Where code snapshots are kept (not owned; null: none, and the
  // PutCode* RPCs fail with FAILED_PRECONDITION). `snapshot_backend`: the
  // backend runs local code from snapshots (Backend::UsesCodeSnapshots),
  // so a local workdir or template file mount that a client names without
  // uploading is snapshotted by the daemon from its own file system.
  // REQUIRES: called before the service is serving.
  void set_code_snapshots(snapshots::SnapshotStore* store, bool snapshot_backend);

  // The counts GetHealth answers from (state_counts.h; not owned, outlives
  // the service; the daemon's are kept by their thread). Without, the
  // service's own, never started: the first GetHealth counts through the
  // store, later ones answer that count (tests). REQUIRES: called before
  // the service is serving.
  void set_state_counts(store::StateCounts* counts) { counts_ = counts; }
  store::StateCounts& state_counts() { return *counts_; }

 private:
  // Checks the caller's token, runs `body`, maps its status to gRPC and
  // marks an error as the daemon's own (kDaemonStatusKey trailer).
  grpc::Status Handle(grpc::ServerContext& ctx, const std::function<absl::Status()>& body);
  // Numeric id or live name -> record. Errors: INVALID_ARGUMENT, NOT_FOUND.
  absl::StatusOr<ExperimentRecord> Resolve(absl::string_view ref);
  // Waits until the experiment has no live job. Errors: DEADLINE_EXCEEDED
  // shortly before the caller's deadline.
  absl::Status WaitForNoLiveJob(const grpc::ServerContext& ctx, int64_t id);
  // ---- Bulk changes (service_bulk.cc) ----
  // What a bulk request addresses: `refs` (ids or names, at most
  // kMaxRefsPerRequest, resolved now) and, when `filter` is not null, every
  // live experiment it matches. Errors: INVALID_ARGUMENT naming the field
  // (also when nothing is named); NOT_FOUND for an unknown ref, or a
  // deleted one unless `allow_deleted`.
  absl::StatusOr<store::ExperimentSelection> SelectionFrom(const std::vector<std::string>& refs,
                                                           const pb::ExperimentFilter* filter,
                                                           bool allow_deleted);
  // Options that stop a bulk change (rolled back: DEADLINE_EXCEEDED or
  // CANCELLED) when the caller goes away or its deadline is near.
  // REQUIRES: the options are used only while `ctx`'s call runs.
  static store::BulkOptions BulkOptionsFor(const grpc::ServerContext& ctx);
  // WaitForNoLiveJob for many experiments.
  absl::Status WaitForNoLiveJobs(const grpc::ServerContext& ctx, const std::vector<int64_t>& ids);
  // Applies a spec change and enqueues a reconcile when it changed anything
  // (a dry run only reports what it would be).
  absl::StatusOr<ExperimentRecord> ChangeSpec(int64_t id, const store::Store::SpecMutation& mutate,
                                              absl::string_view actor,
                                              absl::string_view reason = "",
                                              store::WriteMode mode = store::WriteMode::kCommit);
  // ChangeSpec whose `mutate` may append events, written with the change.
  absl::StatusOr<ExperimentRecord> ChangeSpec(int64_t id,
                                              const store::Store::SpecMutationWithEvents& mutate,
                                              absl::string_view actor,
                                              absl::string_view reason = "",
                                              store::WriteMode mode = store::WriteMode::kCommit);

  // ---- Flag schemas (service_schemas.cc) ----
  // Validates spec.flags against the declared schema of spec.base_command,
  // if any, normalising them in place. Returns lenient-mode warnings.
  // Errors: INVALID_ARGUMENT naming the flag, expected type and value.
  absl::StatusOr<std::vector<std::string>> CheckSpecFlags(ExperimentSpec& spec);
  // ChangeSpec that also validates and normalises the flags when `mutate`
  // changes the flags or the base command and a schema is declared; the
  // warnings become "FlagWarning" events in the change's transaction (none
  // on a dry run) and are returned.
  // `mutate` may run more than once.
  struct CheckedChange {
    ExperimentRecord record;
    std::vector<std::string> warnings;
  };
  absl::StatusOr<CheckedChange> ChangeSpecChecked(const ExperimentRecord& current,
                                                  const store::Store::SpecMutation& mutate,
                                                  absl::string_view actor, store::WriteMode mode);
  // One "FlagWarning" event per warning, for the store to write in the
  // same transaction as the change they are about.
  static std::vector<NewEvent> FlagWarningEvents(const std::vector<std::string>& warnings,
                                                 absl::string_view actor);

  // ---- Workloads (service_templates.cc) ----
  // The daemon's default template exists. Errors: FAILED_PRECONDITION
  // saying it is the daemon's default and how to proceed.
  absl::Status CheckDefaultTemplate();
  // Whether a launch of `spec` could start (ControlPlane::CheckLaunchable;
  // without a control plane only that its template exists).
  absl::Status CheckLaunch(const ExperimentSpec& spec);
  // Makes the client's directory `dir` spec's workdir, with its code
  // snapshot (`snapshot` when the client uploaded one, else as
  // ResolveWorkdirCode takes it), when the spec has none, its template
  // has none and the backend can run it; returns a warning saying why
  // not otherwise ("" when used or not needed).
  // Errors: INVALID_ARGUMENT for a `dir` that is not absolute; those of
  // ResolveWorkdirCode (e.g. a directory too big to snapshot).
  absl::StatusOr<std::string> ApplyDefaultWorkdir(ExperimentSpec& spec, const std::string& dir,
                                                  const pb::CodeSnapshot& snapshot, bool dry_run);
  // Whether `after` launches differently from `before` (what CheckLaunch
  // is for: an edit of labels alone is never refused).
  static bool LaunchFieldsChanged(const ExperimentSpec& before, const ExperimentSpec& after);

  // ---- Code snapshots (service_snapshots.cc) ----
  absl::Status NeedSnapshotStore() const;
  // The snapshot a client named (uploaded before), with its git fields.
  // Errors: FAILED_PRECONDITION when it is not stored; INVALID_ARGUMENT.
  absl::StatusOr<CodeSnapshotRef> NamedSnapshot(const pb::CodeSnapshot& requested,
                                                absl::string_view field);
  // A snapshot the daemon takes of `path` on its machine (a dry run only
  // scans), with the git state of the directory. Errors: ScanCode's.
  absl::StatusOr<CodeSnapshotRef> SnapshotHere(const std::string& path, absl::string_view what,
                                               bool dry_run);
  // The snapshot of `workdir`: none for a git or no workdir, or on a
  // backend that runs directories in place; the named one; else the
  // daemon's own of the directory (FAILED_PRECONDITION when it is not a
  // directory here).
  absl::StatusOr<CodeSnapshotRef> ResolveWorkdirCode(const std::string& workdir,
                                                     const pb::CodeSnapshot& requested,
                                                     absl::string_view field, bool dry_run);
  // The snapshot of each local file mount source of `parsed`: the named
  // ones; on a snapshot backend the daemon's own of absolute sources
  // (relative ones are INVALID_ARGUMENT: only the CLI can resolve them).
  absl::StatusOr<std::map<std::string, CodeSnapshotRef>> ResolveMountSnapshots(
      const TaskTemplate& parsed,
      const google::protobuf::Map<std::string, pb::CodeSnapshot>& requested, bool dry_run);

  // ---- Cost and links (service_cost.cc) ----
  // The experiments a GetCost request covers. Errors: INVALID_ARGUMENT,
  // NOT_FOUND for an unknown id.
  absl::StatusOr<std::vector<ExperimentRecord>> CostExperiments(const pb::GetCostRequest& req);
  // Sets the job's cost and links (of `experiment`, null: no links).
  void AddJobExtras(const JobRecord& job, const ExperimentRecord* experiment, pb::Job* out) const;
  // Sets the experiment's links, filled from its newest job (null: none).
  void AddExperimentLinks(const ExperimentRecord& experiment, const JobRecord* newest_job,
                          pb::Experiment* out) const;

  PriceTable prices_;
  std::vector<LinkTemplate> link_templates_;
  store::Store* store_;
  WatchHub* hub_;
  ControlPlane* control_;
  std::string version_;
  int64_t start_ms_;
  std::string token_;
  std::string default_template_;
  snapshots::SnapshotStore* snapshots_ = nullptr;
  bool snapshot_backend_ = false;
  notify::Notifier* notifier_ = nullptr;
  std::unique_ptr<store::StateCounts> own_counts_;
  store::StateCounts* counts_;
};

// The caller's name from metadata `x-skydeck-actor`, "anonymous" when absent.
// Errors: INVALID_ARGUMENT when longer than 64 bytes or not printable ASCII.
absl::StatusOr<std::string> ActorFromContext(const grpc::ServerContext& ctx);

}  // namespace skydeck::service
