// Experiment handlers of SkyDeckService; jobs, events, health and streams
// are in service_jobs.cc and service_streams.cc.
#include "daemon/service/skydeck_service.h"

#include <algorithm>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

#include "common/grpc_status.h"
#include "common/model/experiment_search.h"
#include "common/model/proto_convert.h"
#include "common/model/validation.h"
#include "common/status_macros.h"
#include "daemon/service/convert.h"

namespace skydeck::service {
namespace {

absl::StatusOr<int> PageSize(int requested) {
  if (requested == 0) return 100;
  RETURN_IF_ERROR(ValidateRange("page_size", requested, 1, kMaxPageSize));
  return requested;
}

absl::StatusOr<int64_t> PageCursor(const std::string& token) {
  if (token.empty()) return 0;
  return ParseId("page_token", token);
}

}  // namespace

absl::StatusOr<std::string> ActorFromContext(const grpc::ServerContext& ctx) {
  const auto& md = ctx.client_metadata();
  auto it = md.find("x-skydeck-actor");
  if (it == md.end()) return std::string("anonymous");
  std::string actor(it->second.data(), it->second.size());
  bool ok = !actor.empty() && actor.size() <= 64;
  for (char c : actor) ok = ok && absl::ascii_isgraph(c);
  if (!ok) {
    return absl::InvalidArgumentError(
        "metadata x-skydeck-actor: 1-64 printable characters without spaces");
  }
  return actor;
}

SkyDeckService::SkyDeckService(store::Store* store, WatchHub* hub, ControlPlane* control,
                               std::string version, int64_t start_ms, std::string token)
    : store_(store),
      hub_(hub),
      control_(control),
      version_(std::move(version)),
      start_ms_(start_ms),
      token_(std::move(token)),
      own_counts_(std::make_unique<store::StateCounts>(
          store::StateCounts::CountStore(store), [hub] { return hub->revision(); },
          store::StateCounts::kDefaultInterval)),
      counts_(own_counts_.get()) {}

grpc::Status SkyDeckService::Handle(grpc::ServerContext& ctx,
                                    const std::function<absl::Status()>& body) {
  // Errors carry the daemon's mark, so a client can tell them from gRPC's
  // own transport failures (same codes, no server behind them).
  auto answer = [&ctx](grpc::Status status) {
    if (!status.ok()) ctx.AddTrailingMetadata(kDaemonStatusKey, kDaemonStatusValue);
    return status;
  };
  if (!token_.empty()) {
    const auto& md = ctx.client_metadata();
    auto it = md.find("authorization");
    std::string got = it == md.end() ? "" : std::string(it->second.data(), it->second.size());
    std::string want = "Bearer " + token_;
    // Constant-time compare: the token must not leak through timing.
    unsigned char diff = got.size() != want.size();
    for (size_t i = 0; i < std::min(got.size(), want.size()); ++i) diff |= got[i] ^ want[i];
    if (diff != 0) {
      return answer(
          grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                       "missing or wrong token (metadata authorization: Bearer <token>)"));
    }
  }
  return answer(ToGrpcStatus(body()));
}

absl::Status SkyDeckService::WaitForNoLiveJob(const grpc::ServerContext& ctx, int64_t id) {
  auto limit = std::min(ctx.deadline() - std::chrono::seconds(1),
                        std::chrono::system_clock::now() + std::chrono::seconds(120));
  int64_t seen = 0;
  while (std::chrono::system_clock::now() < limit && !hub_->closed() && !ctx.IsCancelled()) {
    ASSIGN_OR_RETURN(std::optional<JobRecord> live, store_->LiveJob(id));
    if (!live) return absl::OkStatus();
    seen = hub_->WaitNewer(seen, absl::Milliseconds(200));
  }
  return absl::DeadlineExceededError(absl::StrCat(
      "experiment ", id, " is being terminated but its job has not ended yet; retry the delete"));
}

absl::StatusOr<ExperimentRecord> SkyDeckService::Resolve(absl::string_view ref) {
  if (ref.empty()) return absl::InvalidArgumentError("id: required (an id or a name)");
  if (IsNumericRef(ref)) {
    ASSIGN_OR_RETURN(int64_t id, ParseId("id", ref));
    return store_->GetExperiment(id);
  }
  RETURN_IF_ERROR(ValidateExperimentName(ref));
  return store_->FindExperimentByName(ref);
}

namespace {
store::WriteMode WriteModeOf(bool validate_only) {
  return validate_only ? store::WriteMode::kDryRun : store::WriteMode::kCommit;
}
}  // namespace

absl::StatusOr<ExperimentRecord> SkyDeckService::ChangeSpec(
    int64_t id, const store::Store::SpecMutation& mutate, absl::string_view actor,
    absl::string_view reason, store::WriteMode mode) {
  return ChangeSpec(
      id, [&](ExperimentSpec& spec, std::vector<NewEvent>*) { return mutate(spec); }, actor, reason,
      mode);
}

absl::StatusOr<ExperimentRecord> SkyDeckService::ChangeSpec(
    int64_t id, const store::Store::SpecMutationWithEvents& mutate, absl::string_view actor,
    absl::string_view reason, store::WriteMode mode) {
  // Whether the store wrote a change: it does exactly when `mutate` left
  // the spec different from what it read (store.h, UpdateSpec). Known here
  // without reading the experiment before the change.
  bool changed = false;
  ASSIGN_OR_RETURN(
      ExperimentRecord after,
      store_->UpdateSpec(
          id,
          [&](ExperimentSpec& spec, std::vector<NewEvent>* events) -> absl::Status {
            ExperimentSpec read = spec;
            RETURN_IF_ERROR(mutate(spec, events));
            changed = spec != read;
            return absl::OkStatus();
          },
          actor, reason, mode));
  if (changed && mode == store::WriteMode::kCommit && control_) control_->Enqueue(id);
  return after;
}

namespace {

// The store query a ListExperimentsRequest asks for (ListExperiments and
// StreamExperiments read the same pages).
absl::StatusOr<store::ExperimentQuery> ExperimentQueryOf(const pb::ListExperimentsRequest& req) {
  store::ExperimentQuery q;
  ASSIGN_OR_RETURN(q.limit, PageSize(req.page_size()));
  ASSIGN_OR_RETURN(q.after_id, PageCursor(req.page_token()));
  ASSIGN_OR_RETURN(q.selector, LabelSelector::Parse(req.label_selector()));
  q.include_deleted = req.include_deleted();
  RETURN_IF_ERROR(ValidateText("name_contains", req.name_contains(), kMaxNameBytes));
  q.name_contains = req.name_contains();
  for (int s : req.desired_states()) {
    ASSIGN_OR_RETURN(DesiredState d, FromProto(static_cast<pb::DesiredState>(s)));
    q.desired_states.push_back(d);
  }
  for (int s : req.observed_states()) {
    ASSIGN_OR_RETURN(ObservedState o, FromProto(static_cast<pb::ObservedState>(s)));
    q.observed_states.push_back(o);
  }
  q.include_latest_jobs = req.include_latest_jobs();
  q.starred_only = req.starred();
  RETURN_IF_ERROR(ValidateText("text", req.text(), kMaxSearchTextBytes));
  q.words = SearchWords(req.text());
  return q;
}

void PageToProto(const store::ExperimentPage& page, pb::ListExperimentsResponse* resp) {
  for (const auto& r : page.experiments) ToProto(r, resp->add_experiments());
  for (const auto& j : page.latest_jobs) ToProto(j, resp->add_latest_jobs());
  if (page.next_after_id) resp->set_next_page_token(std::to_string(page.next_after_id));
}

}  // namespace

grpc::Status SkyDeckService::ListExperiments(grpc::ServerContext* ctx,
                                             const pb::ListExperimentsRequest* req,
                                             pb::ListExperimentsResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(store::ExperimentQuery q, ExperimentQueryOf(*req));
    ASSIGN_OR_RETURN(store::ExperimentPage page, store_->ListExperiments(q));
    PageToProto(page, resp);
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::StreamExperiments(
    grpc::ServerContext* ctx, const pb::ListExperimentsRequest* req,
    grpc::ServerWriter<pb::ListExperimentsResponse>* writer) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(store::ExperimentQuery q, ExperimentQueryOf(*req));
    do {
      if (ctx->IsCancelled()) return absl::CancelledError("the client went away");
      // Write blocks until the client (or the bridge, which asks for the
      // next message only once the browser took the last) makes room, so
      // one page is held at a time however long the list.
      ASSIGN_OR_RETURN(store::ExperimentPage page, store_->ListExperiments(q));
      pb::ListExperimentsResponse resp;
      PageToProto(page, &resp);
      if (!writer->Write(resp)) return absl::CancelledError("the client went away");
      q.after_id = page.next_after_id;
    } while (q.after_id != 0);
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::CreateExperiment(grpc::ServerContext* ctx,
                                              const pb::CreateExperimentRequest* req,
                                              pb::CreateExperimentResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    ASSIGN_OR_RETURN(ExperimentSpec spec, SpecFromProto(req->experiment()));
    if (!req->experiment().has_template_() && !default_template_.empty()) {
      RETURN_IF_ERROR(CheckDefaultTemplate());
      spec.template_name = default_template_;
    }
    if (req->start()) spec.desired_state = DesiredState::kRunning;
    ASSIGN_OR_RETURN(std::vector<std::string> warnings, CheckSpecFlags(spec));
    if (!spec.workdir.empty()) {
      ASSIGN_OR_RETURN(spec.code,
                       ResolveWorkdirCode(spec.workdir, req->experiment().code_snapshot(),
                                          "experiment.code_snapshot", req->validate_only()));
    } else {
      ASSIGN_OR_RETURN(std::string workdir_note,
                       ApplyDefaultWorkdir(spec, req->default_workdir(),
                                           req->default_code_snapshot(), req->validate_only()));
      if (!workdir_note.empty()) warnings.push_back(workdir_note);
    }
    RETURN_IF_ERROR(ValidateSpec(spec));
    RETURN_IF_ERROR(CheckLaunch(spec));
    store::WriteMode mode = WriteModeOf(req->validate_only());
    // The warnings' events commit with the experiment.
    ASSIGN_OR_RETURN(
        ExperimentRecord r,
        store_->CreateExperiment(spec, actor, mode, FlagWarningEvents(warnings, actor)));
    if (mode == store::WriteMode::kCommit && control_) control_->Enqueue(r.id);
    ToProto(r, resp->mutable_experiment());
    for (std::string& w : warnings) resp->add_warnings(std::move(w));
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::GetExperiment(grpc::ServerContext* ctx,
                                           const pb::GetExperimentRequest* req,
                                           pb::GetExperimentResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(ExperimentRecord r, Resolve(req->id()));
    ToProto(r, resp->mutable_experiment());
    ASSIGN_OR_RETURN(std::vector<JobRecord> newest, store_->ListJobs(r.id, 0, 1));
    AddExperimentLinks(r, newest.empty() ? nullptr : &newest.front(), resp->mutable_experiment());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::UpdateExperiment(grpc::ServerContext* ctx,
                                              const pb::UpdateExperimentRequest* req,
                                              pb::UpdateExperimentResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    ASSIGN_OR_RETURN(ExperimentRecord r, Resolve(req->id()));
    // Setting a workdir takes its snapshot (before the store's lock: it
    // may scan a directory).
    const auto& paths = req->update_mask().paths();
    bool sets_workdir = std::find(paths.begin(), paths.end(), "workdir") != paths.end();
    CodeSnapshotRef code;
    if (sets_workdir) {
      ASSIGN_OR_RETURN(
          code, ResolveWorkdirCode(req->experiment().workdir(), req->experiment().code_snapshot(),
                                   "experiment.code_snapshot", req->validate_only()));
    }
    auto mutate = [&](ExperimentSpec& spec) -> absl::Status {
      RETURN_IF_ERROR(ApplyFieldMask(req->experiment(), req->update_mask(), &spec));
      if (sets_workdir) spec.code = code;
      return ValidateSpec(spec);
    };
    // What the next launch needs must be there (checked on a preview: the
    // store runs `mutate` under its lock).
    ExperimentSpec preview = r.spec;
    RETURN_IF_ERROR(mutate(preview));
    if (LaunchFieldsChanged(r.spec, preview)) RETURN_IF_ERROR(CheckLaunch(preview));
    ASSIGN_OR_RETURN(CheckedChange change,
                     ChangeSpecChecked(r, mutate, actor, WriteModeOf(req->validate_only())));
    ToProto(change.record, resp->mutable_experiment());
    for (std::string& w : change.warnings) resp->add_warnings(std::move(w));
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::DeleteExperiment(grpc::ServerContext* ctx,
                                              const pb::DeleteExperimentRequest* req,
                                              pb::DeleteExperimentResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    ASSIGN_OR_RETURN(ExperimentRecord r, Resolve(req->id()));
    if (r.current_job_id != 0 && req->force()) {
      // force = terminate, then delete: wait (bounded by the caller's
      // deadline) for the reconciler to end the job.
      RETURN_IF_ERROR(ChangeSpec(
                          r.id,
                          [](ExperimentSpec& s) {
                            s.desired_state = DesiredState::kTerminated;
                            return absl::OkStatus();
                          },
                          actor, "forced delete")
                          .status());
      RETURN_IF_ERROR(WaitForNoLiveJob(*ctx, r.id));
    }
    if (req->purge()) return store_->Purge(r.id, actor);
    ASSIGN_OR_RETURN(r, store_->SoftDelete(r.id, actor));
    ToProto(r, resp->mutable_experiment());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::UndeleteExperiment(grpc::ServerContext* ctx,
                                                const pb::UndeleteExperimentRequest* req,
                                                pb::UndeleteExperimentResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    if (!IsNumericRef(req->id())) {
      return absl::InvalidArgumentError(
          "id: undelete needs the numeric id (deleted names are not unique); "
          "find it with list --include-deleted");
    }
    ASSIGN_OR_RETURN(int64_t id, ParseId("id", req->id()));
    ASSIGN_OR_RETURN(ExperimentRecord r, store_->Undelete(id, actor));
    if (control_) control_->Enqueue(id);
    ToProto(r, resp->mutable_experiment());
    return absl::OkStatus();
  });
}

grpc::Status SkyDeckService::UpdateFlags(grpc::ServerContext* ctx,
                                         const pb::UpdateFlagsRequest* req,
                                         pb::UpdateFlagsResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string actor, ActorFromContext(*ctx));
    ASSIGN_OR_RETURN(FlagMap set, FromProto(req->set()));
    if (static_cast<size_t>(req->unset_size()) > kMaxFlags) {
      return absl::InvalidArgumentError(absl::StrCat(
          "unset: at most ", kMaxFlags, " keys (an experiment has at most ", kMaxFlags, " flags)"));
    }
    for (const std::string& key : req->unset()) RETURN_IF_ERROR(ValidateFlagKey(key));
    ASSIGN_OR_RETURN(ExperimentRecord r, Resolve(req->id()));
    ASSIGN_OR_RETURN(CheckedChange change, ChangeSpecChecked(
                                               r,
                                               [&](ExperimentSpec& spec) -> absl::Status {
                                                 if (req->replace()) spec.flags.clear();
                                                 for (const std::string& key : req->unset())
                                                   spec.flags.erase(key);
                                                 for (const auto& [k, v] : set) spec.flags[k] = v;
                                                 RETURN_IF_ERROR(ValidateFlags(spec.flags));
                                                 return ValidateCommandLine(spec.base_command,
                                                                            spec.flags);
                                               },
                                               actor, WriteModeOf(req->validate_only())));
    ToProto(change.record, resp->mutable_experiment());
    for (std::string& w : change.warnings) resp->add_warnings(std::move(w));
    return absl::OkStatus();
  });
}

}  // namespace skydeck::service
