#include "daemon/backend/skypilot/managed_job_queue.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "absl/status/status.h"

#include "common/ansi_text.h"
#include "daemon/backend/skypilot/json_fields.h"
#include "daemon/backend/skypilot/status_mapping.h"

namespace skydeck::backend::skypilot {
namespace {

// Exactly the columns SkyDeck reads; the server sends the rest as null.
const std::vector<std::string>& QueueFields() {
  static const auto* fields = new std::vector<std::string>{
      "job_id",   "task_id", "job_name",       "task_name",      "status", "submitted_at",
      "start_at", "end_at",  "recovery_count", "failure_reason", "details", "job_duration"};
  return *fields;
}

int64_t SecondsToMs(double seconds) {
  return std::isfinite(seconds) && seconds > 0 ? static_cast<int64_t>(seconds * 1000.0) : 0;
}

ManagedJobRecord ParseRecord(const nlohmann::json& row) {
  ManagedJobRecord r;
  r.job_id = JsonInt(row, "job_id", JsonInt(row, "_job_id", -1));
  r.task_id = JsonInt(row, "task_id", 0);
  r.name = JsonString(row, "job_name", JsonString(row, "task_name"));
  r.status = JsonString(row, "status");
  r.recovery_count = static_cast<int>(JsonInt(row, "recovery_count", 0));
  r.submitted_at = JsonDouble(row, "submitted_at");
  r.start_at = JsonDouble(row, "start_at");
  r.end_at = JsonDouble(row, "end_at");
  // Seconds run without recovery time (sky/jobs/utils.py computes it per
  // request); absent from older servers' records.
  if (const nlohmann::json* d = JsonField(row, "job_duration"); d && d->is_number()) {
    r.job_duration = d->get<double>();
  }
  // SkyPilot colours it for a terminal ("Run: \x1b[1msky check\x1b[0m").
  r.failure_reason = StripAnsi(JsonString(row, "failure_reason"));
  return r;
}

}  // namespace

QueueCall BuildQueueCall(int api_version, const std::optional<std::vector<int64_t>>& job_ids,
                         const std::optional<std::string>& name_match) {
  QueueCall call;
  call.body = {{"refresh", false}, {"skip_finished", false}, {"all_users", true}};
  if (job_ids) call.body["job_ids"] = *job_ids;
  if (api_version >= kQueueV2ApiVersion) {
    call.route = "/jobs/queue/v2";
    call.body["fields"] = QueueFields();
    if (name_match) call.body["name_match"] = *name_match;
  } else {
    call.route = "/jobs/queue";
  }
  return call;
}

absl::StatusOr<std::vector<ManagedJobRecord>> ParseQueueResult(const nlohmann::json& value) {
  const nlohmann::json* rows = nullptr;
  if (value.is_array()) {
    rows = &value;
  } else if (const nlohmann::json* jobs = JsonField(value, "jobs"); jobs && jobs->is_array()) {
    rows = jobs;
  } else {
    return absl::InternalError(
        "managed job queue: expected a list or {\"jobs\": [...]} from the API server");
  }
  std::map<int64_t, ManagedJobRecord> by_job;
  for (const nlohmann::json& row : *rows) {
    if (!row.is_object()) continue;
    ManagedJobRecord r = ParseRecord(row);
    if (r.job_id < 0) continue;
    auto [it, inserted] = by_job.try_emplace(r.job_id, r);
    if (inserted) continue;
    // Several tasks of one job: report the task still in progress, else
    // the last one.
    ManagedJobRecord& kept = it->second;
    bool kept_live = !IsTerminal(MapManagedJobStatus(kept.status));
    bool row_live = !IsTerminal(MapManagedJobStatus(r.status));
    if ((!kept_live && row_live) ||
        (kept_live == row_live && !kept_live && r.task_id > kept.task_id) ||
        (kept_live && row_live && r.task_id < kept.task_id)) {
      int recoveries = std::max(kept.recovery_count, r.recovery_count);
      double submitted = kept.submitted_at;
      kept = r;
      kept.recovery_count = recoveries;
      if (submitted > 0) kept.submitted_at = submitted;
    }
  }
  std::vector<ManagedJobRecord> out;
  out.reserve(by_job.size());
  for (auto& [id, r] : by_job) out.push_back(std::move(r));
  return out;
}

JobObservation ToObservation(const ManagedJobRecord& record) {
  JobObservation obs;
  obs.backend_job_id = std::to_string(record.job_id);
  obs.name = record.name;
  obs.status = MapManagedJobStatus(record.status);
  obs.raw_status = record.status;
  obs.start_ms = SecondsToMs(record.start_at);
  obs.end_ms = SecondsToMs(record.end_at);
  obs.failure_reason = record.failure_reason;
  obs.recovery_count = record.recovery_count;
  if (record.job_duration && std::isfinite(*record.job_duration) && *record.job_duration >= 0 &&
      record.start_at > 0) {
    obs.run_ms = static_cast<int64_t>(*record.job_duration * 1000.0);
  }
  return obs;
}

}  // namespace skydeck::backend::skypilot
