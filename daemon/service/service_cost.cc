// GPU-hours, cost and links of SkyDeckService: GetCost, and what job and
// experiment answers carry besides their records (common/model/
// cost_report.h, link_template.h).
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"

#include "common/model/cost_report.h"
#include "common/model/proto_convert.h"
#include "common/model/validation.h"
#include "common/status_macros.h"
#include "daemon/service/convert.h"
#include "daemon/service/skydeck_service.h"

namespace skydeck::service {
namespace {

constexpr int kExperimentsPerRead = 1000;
constexpr int kMaxExperimentIds = 1000;

absl::StatusOr<CostQuery> QueryFrom(const pb::GetCostRequest& req, int64_t now_ms) {
  CostQuery q;
  q.now_ms = now_ms;
  q.from_ms = req.has_since() ? FromProtoTime(req.since()) : 0;
  if (q.from_ms < 0 || q.from_ms > now_ms) {
    return absl::InvalidArgumentError("since: must be in the past");
  }
  absl::string_view by = req.group_by();
  if (by.empty()) {
    q.group_by = CostGrouping::kTotal;
  } else if (by == "experiment") {
    q.group_by = CostGrouping::kExperiment;
  } else if (by == "gpu_type") {
    q.group_by = CostGrouping::kGpuType;
  } else if (absl::ConsumePrefix(&by, "label:")) {
    RETURN_IF_ERROR(ValidateLabels({{std::string(by), ""}}));
    q.group_by = CostGrouping::kLabel;
    q.label_key = std::string(by);
  } else {
    return absl::InvalidArgumentError(
        absl::StrCat("group_by: \"", req.group_by(),
                     "\" is not one of \"\", \"experiment\", \"gpu_type\", \"label:KEY\""));
  }
  return q;
}

void ToProto(const CostLine& line, pb::CostLine* out) {
  out->set_key(line.key);
  out->set_experiment_id(line.experiment_id);
  out->set_gpu_hours(line.gpu_hours);
  out->set_cost(line.cost);
  out->set_unpriced_gpu_hours(line.unpriced_gpu_hours);
  out->set_job_count(line.job_count);
  out->set_live_job_count(line.live_job_count);
}

}  // namespace

absl::StatusOr<std::vector<ExperimentRecord>> SkyDeckService::CostExperiments(
    const pb::GetCostRequest& req) {
  std::vector<ExperimentRecord> out;
  if (req.experiment_ids_size() > 0) {
    if (req.experiment_ids_size() > kMaxExperimentIds) {
      return absl::InvalidArgumentError("experiment_ids: at most 1000");
    }
    for (int64_t id : req.experiment_ids()) {
      ASSIGN_OR_RETURN(ExperimentRecord r, store_->GetExperiment(id));
      if (!r.deleted() || req.include_deleted()) out.push_back(std::move(r));
    }
    return out;
  }
  store::ExperimentQuery q;
  ASSIGN_OR_RETURN(q.selector, LabelSelector::Parse(req.label_selector()));
  q.include_deleted = req.include_deleted();
  q.limit = kExperimentsPerRead;
  while (true) {
    ASSIGN_OR_RETURN(store::ExperimentPage page, store_->ListExperiments(q));
    for (ExperimentRecord& r : page.experiments) out.push_back(std::move(r));
    if (page.next_after_id == 0) break;
    q.after_id = page.next_after_id;
  }
  return out;
}

grpc::Status SkyDeckService::GetCost(grpc::ServerContext* ctx, const pb::GetCostRequest* req,
                                     pb::GetCostResponse* resp) {
  return Handle(*ctx, [&]() -> absl::Status {
    int64_t now_ms = absl::ToUnixMillis(absl::Now());
    ASSIGN_OR_RETURN(CostQuery query, QueryFrom(*req, now_ms));
    ASSIGN_OR_RETURN(std::vector<ExperimentRecord> experiments, CostExperiments(*req));
    ASSIGN_OR_RETURN(std::vector<JobRecord> jobs, store_->ListJobsRunningAfter(query.from_ms));
    CostReport report = BuildCostReport(experiments, jobs, prices_, query);
    for (const CostLine& line : report.groups) ToProto(line, resp->add_lines());
    ToProto(report.total, resp->mutable_total());
    ToProtoTime(now_ms, resp->mutable_as_of());
    resp->set_currency("USD");
    resp->set_has_prices(!prices_.empty());
    return absl::OkStatus();
  });
}

void SkyDeckService::AddJobExtras(const JobRecord& job, const ExperimentRecord* experiment,
                                  pb::Job* out) const {
  int64_t now_ms = absl::ToUnixMillis(absl::Now());
  if (std::optional<double> cost = JobCost(job, prices_, now_ms)) out->set_cost(*cost);
  if (experiment == nullptr) return;
  for (const ResolvedLink& link : ResolveLinks(link_templates_, *experiment, &job)) {
    if (link.name == "link") continue;  // the experiment's own, shown with it
    pb::Link* l = out->add_links();
    l->set_name(link.name);
    l->set_url(link.url);
  }
}

void SkyDeckService::AddExperimentLinks(const ExperimentRecord& experiment,
                                        const JobRecord* newest_job, pb::Experiment* out) const {
  for (const ResolvedLink& link : ResolveLinks(link_templates_, experiment, newest_job)) {
    pb::Link* l = out->add_links();
    l->set_name(link.name);
    l->set_url(link.url);
  }
}

}  // namespace skydeck::service
