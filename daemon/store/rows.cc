#include "daemon/store/rows.h"

#include <cstdint>
#include <type_traits>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "nlohmann/json.hpp"

#include "common/status_macros.h"

namespace skydeck::store::internal {
namespace {

// A stored JSON column of the expected shape. Rows are written by this
// code, but a file edited by hand or by another tool must fail the one read
// with DATA_LOSS, not throw (nlohmann throws on a type mismatch) and take
// the daemon down.
absl::StatusOr<nlohmann::json> ParseJsonColumn(const Statement& st, int col,
                                               absl::string_view what,
                                               nlohmann::json::value_t shape) {
  // Most rows hold an empty map or list in most JSON columns (envs,
  // secrets, often conditions): those need no parser.
  const std::string text = st.ColumnText(col);
  if (text == "{}" && shape == nlohmann::json::value_t::object) return nlohmann::json::object();
  if (text == "[]" && shape == nlohmann::json::value_t::array) return nlohmann::json::array();
  nlohmann::json json = nlohmann::json::parse(text, nullptr,
                                              /*allow_exceptions=*/false);
  if (json.is_discarded()) {
    return absl::DataLossError(absl::StrCat("stored ", what, " is not valid JSON"));
  }
  if (json.type() != shape) {
    return absl::DataLossError(absl::StrCat("stored ", what, " is a JSON ", json.type_name(),
                                            ", not ", nlohmann::json(shape).type_name()));
  }
  return json;
}

absl::StatusOr<Labels> ReadLabels(const Statement& st, int col) {
  ASSIGN_OR_RETURN(nlohmann::json json,
                   ParseJsonColumn(st, col, "labels", nlohmann::json::value_t::object));
  Labels labels;
  for (const auto& [k, v] : json.items()) {
    if (!v.is_string()) return absl::DataLossError("stored label is not a string");
    labels[k] = v.get<std::string>();
  }
  return labels;
}

absl::StatusOr<FlagMap> ReadFlags(const Statement& st, int col) {
  ASSIGN_OR_RETURN(nlohmann::json json,
                   ParseJsonColumn(st, col, "flags", nlohmann::json::value_t::object));
  absl::StatusOr<FlagMap> flags = FlagMapFromJson(json);
  if (!flags.ok()) return absl::DataLossError(absl::StrCat("stored ", flags.status().message()));
  return flags;
}

// One field of a stored condition, or `fallback` when absent.
template <typename T>
absl::StatusOr<T> ConditionField(const nlohmann::json& c, const char* key, T fallback) {
  auto it = c.find(key);
  if (it == c.end()) return fallback;
  bool fits;
  if constexpr (std::is_same_v<T, bool>) {
    fits = it->is_boolean();
  } else if constexpr (std::is_same_v<T, int64_t>) {
    fits = it->is_number_integer();
  } else {
    fits = it->is_string();
  }
  if (!fits) return absl::DataLossError(absl::StrCat("stored condition's ", key, " is mistyped"));
  return it->template get<T>();
}

absl::StatusOr<std::vector<Condition>> ReadConditions(const Statement& st, int col) {
  ASSIGN_OR_RETURN(nlohmann::json json,
                   ParseJsonColumn(st, col, "conditions", nlohmann::json::value_t::array));
  std::vector<Condition> out;
  for (const auto& c : json) {
    if (!c.is_object()) return absl::DataLossError("stored condition is not a JSON object");
    Condition condition;
    ASSIGN_OR_RETURN(condition.type, ConditionField<std::string>(c, "type", ""));
    ASSIGN_OR_RETURN(condition.status, ConditionField<bool>(c, "status", false));
    ASSIGN_OR_RETURN(condition.reason, ConditionField<std::string>(c, "reason", ""));
    ASSIGN_OR_RETURN(condition.message, ConditionField<std::string>(c, "message", ""));
    ASSIGN_OR_RETURN(condition.last_transition_ms,
                     ConditionField<int64_t>(c, "last_transition_ms", 0));
    out.push_back(std::move(condition));
  }
  return out;
}

absl::StatusOr<std::vector<std::string>> ReadNames(const Statement& st, int col) {
  ASSIGN_OR_RETURN(nlohmann::json json,
                   ParseJsonColumn(st, col, "names", nlohmann::json::value_t::array));
  std::vector<std::string> out;
  for (const auto& v : json) {
    if (!v.is_string()) return absl::DataLossError("stored name is not a string");
    out.push_back(v.get<std::string>());
  }
  return out;
}

}  // namespace

const char kExperimentColumns[] =
    "e.id, e.name, e.description, e.base_command, e.flags, e.run_name, e.nodes, "
    "e.gpus, e.gpu_type, e.infra, e.spot, e.labels, e.max_restarts, "
    "e.desired_state, e.generation, e.observed_generation, e.observed_state, "
    "e.conditions, e.restart_count, e.next_retry_at, e.created_at, e.updated_at, "
    "e.deleted_at, e.run_after_job_id, "
    "(SELECT j.id FROM jobs j WHERE j.experiment_id = e.id AND j.ended_at IS NULL), "
    "(SELECT count(*) FROM jobs j WHERE j.experiment_id = e.id), "
    "e.template, e.envs, e.secrets, e.workdir, e.code_snapshot, e.link, "
    "e.state_since, e.starred, coalesce(e.position, e.id)";

const char kJobColumns[] =
    "id, experiment_id, attempt, backend, backend_name, backend_job_id, status, "
    "backend_status, command, flags, nodes, gpus, gpu_type, infra, spot, run_name, "
    "submitted_at, started_at, ended_at, exit_code, failure_reason, recovery_count, "
    "outcome_unknown, template, template_version, envs, secrets, workdir, code_commit, "
    "code_dirty, rendered_task, code_snapshot, paused_ms, paused_since, status_since";

const char kEventColumns[] = "id, time, experiment_id, job_id, type, reason, message, actor";

absl::StatusOr<ExperimentRecord> ReadExperiment(const Statement& st) {
  ExperimentRecord r;
  r.id = st.ColumnInt(0);
  r.spec.name = st.ColumnText(1);
  r.spec.description = st.ColumnText(2);
  r.spec.base_command = st.ColumnText(3);
  ASSIGN_OR_RETURN(r.spec.flags, ReadFlags(st, 4));
  r.spec.run_name = st.ColumnText(5);
  r.spec.nodes = static_cast<int>(st.ColumnInt(6));
  r.spec.gpus = static_cast<int>(st.ColumnInt(7));
  r.spec.gpu_type = st.ColumnText(8);
  r.spec.infra = st.ColumnText(9);
  r.spec.spot = st.ColumnInt(10) != 0;
  ASSIGN_OR_RETURN(r.spec.labels, ReadLabels(st, 11));
  r.spec.max_restarts = static_cast<int>(st.ColumnInt(12));
  ASSIGN_OR_RETURN(r.spec.desired_state, ParseDesiredState(st.ColumnText(13)));
  r.generation = st.ColumnInt(14);
  r.observed_generation = st.ColumnInt(15);
  ASSIGN_OR_RETURN(r.observed_state, ParseObservedState(st.ColumnText(16)));
  ASSIGN_OR_RETURN(r.conditions, ReadConditions(st, 17));
  r.restart_count = static_cast<int>(st.ColumnInt(18));
  r.next_retry_ms = st.ColumnOptionalInt(19).value_or(0);
  r.created_ms = st.ColumnInt(20);
  r.updated_ms = st.ColumnInt(21);
  r.deleted_ms = st.ColumnOptionalInt(22).value_or(0);
  r.run_after_job_id = st.ColumnInt(23);
  r.current_job_id = st.ColumnOptionalInt(24).value_or(0);
  r.job_count = static_cast<int>(st.ColumnInt(25));
  r.spec.template_name = st.ColumnText(26);
  ASSIGN_OR_RETURN(r.spec.envs, ReadLabels(st, 27));
  ASSIGN_OR_RETURN(r.spec.secrets, ReadNames(st, 28));
  r.spec.workdir = st.ColumnText(29);
  ASSIGN_OR_RETURN(r.spec.code, ReadCodeSnapshotRef(st.ColumnText(30)));
  r.spec.link = st.ColumnText(31);
  r.state_since_ms = st.ColumnInt(32);
  r.starred = st.ColumnInt(33) != 0;
  r.position = st.ColumnDouble(34);
  return r;
}

absl::StatusOr<ExperimentFilterFields> ReadExperimentFilterFields(const Statement& st) {
  ExperimentFilterFields f;
  f.name = st.ColumnText(1);
  ASSIGN_OR_RETURN(f.labels, ReadLabels(st, 11));
  ASSIGN_OR_RETURN(f.desired_state, ParseDesiredState(st.ColumnText(13)));
  ASSIGN_OR_RETURN(f.observed_state, ParseObservedState(st.ColumnText(16)));
  f.state_since_ms = st.ColumnInt(32);
  f.starred = st.ColumnInt(33) != 0;
  return f;
}

absl::StatusOr<JobRecord> ReadJob(const Statement& st) {
  JobRecord j;
  j.id = st.ColumnInt(0);
  j.experiment_id = st.ColumnInt(1);
  j.attempt = static_cast<int>(st.ColumnInt(2));
  j.backend = st.ColumnText(3);
  j.backend_name = st.ColumnText(4);
  j.backend_job_id = st.ColumnText(5);
  auto status = ParseJobStatus(st.ColumnText(6));
  j.status = status.ok() ? *status : JobStatus::kUnknown;
  j.backend_status = st.ColumnText(7);
  j.command = st.ColumnText(8);
  ASSIGN_OR_RETURN(j.flags, ReadFlags(st, 9));
  j.nodes = static_cast<int>(st.ColumnInt(10));
  j.gpus = static_cast<int>(st.ColumnInt(11));
  j.gpu_type = st.ColumnText(12);
  j.infra = st.ColumnText(13);
  j.spot = st.ColumnInt(14) != 0;
  j.run_name = st.ColumnText(15);
  j.submitted_ms = st.ColumnInt(16);
  j.started_ms = st.ColumnOptionalInt(17).value_or(0);
  j.ended_ms = st.ColumnOptionalInt(18).value_or(0);
  if (auto code = st.ColumnOptionalInt(19)) j.exit_code = static_cast<int>(*code);
  j.failure_reason = st.ColumnText(20);
  j.recovery_count = static_cast<int>(st.ColumnInt(21));
  j.outcome_unknown = st.ColumnInt(22) != 0;
  j.template_name = st.ColumnText(23);
  j.template_version = st.ColumnInt(24);
  ASSIGN_OR_RETURN(j.envs, ReadLabels(st, 25));
  ASSIGN_OR_RETURN(j.secrets, ReadNames(st, 26));
  j.workdir = st.ColumnText(27);
  j.code_commit = st.ColumnText(28);
  j.code_dirty = st.ColumnInt(29) != 0;
  j.rendered_task = st.ColumnText(30);
  j.code_snapshot = st.ColumnText(31);
  j.paused_ms = st.ColumnInt(32);
  j.paused_since_ms = st.ColumnOptionalInt(33).value_or(0);
  j.status_since_ms = st.ColumnInt(34);
  return j;
}

SearchableExperiment Searchable(const ExperimentRecord& r, int64_t now_ms) {
  return SearchableExperiment{r.id,
                              r.spec.name,
                              r.spec.description,
                              r.spec.base_command,
                              &r.spec.labels,
                              &r.spec.flags,
                              Name(r.observed_state),
                              r.state_since_ms,
                              now_ms};
}

EventRecord ReadEvent(const Statement& st) {
  return EventRecord{st.ColumnInt(0),
                     st.ColumnInt(1),
                     st.ColumnOptionalInt(2).value_or(0),
                     st.ColumnOptionalInt(3).value_or(0),
                     st.ColumnText(4),
                     st.ColumnText(5),
                     st.ColumnText(6),
                     st.ColumnText(7)};
}

std::string DumpJson(const nlohmann::json& json) {
  // Text was validated as UTF-8 at the edge; never throw on a stray byte.
  return json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string LabelsToJson(const Labels& labels) { return DumpJson(nlohmann::json(labels)); }

std::string FlagsToJson(const FlagMap& flags) { return DumpJson(FlagMapToJson(flags)); }

std::string EnvsToJson(const std::map<std::string, std::string>& envs) {
  return DumpJson(nlohmann::json(envs));
}

std::string NamesToJson(const std::vector<std::string>& names) {
  return DumpJson(nlohmann::json(names));
}

nlohmann::json CodeSnapshotRefToJsonValue(const CodeSnapshotRef& c) {
  return {{"id", c.id},
          {"size_bytes", c.size_bytes},
          {"file_count", c.file_count},
          {"file_name", c.file_name},
          {"git_commit", c.git_commit},
          {"git_dirty", c.git_dirty}};
}

CodeSnapshotRef CodeSnapshotRefFromJsonValue(const nlohmann::json& j) {
  CodeSnapshotRef c;
  c.id = j.value("id", "");
  c.size_bytes = j.value("size_bytes", int64_t{0});
  c.file_count = j.value("file_count", 0);
  c.file_name = j.value("file_name", "");
  c.git_commit = j.value("git_commit", "");
  c.git_dirty = j.value("git_dirty", false);
  return c;
}

std::string CodeSnapshotRefToJson(const CodeSnapshotRef& code) {
  if (code.empty()) return "";
  return DumpJson(CodeSnapshotRefToJsonValue(code));
}

absl::StatusOr<CodeSnapshotRef> ReadCodeSnapshotRef(const std::string& text) {
  if (text.empty()) return CodeSnapshotRef{};
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) return absl::DataLossError("experiments.code_snapshot is not a JSON object");
  try {
    return CodeSnapshotRefFromJsonValue(j);
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("experiments.code_snapshot: ", e.what()));
  }
}

std::string MountSnapshotsToJson(const std::map<std::string, CodeSnapshotRef>& mounts) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [source, ref] : mounts) out[source] = CodeSnapshotRefToJsonValue(ref);
  return DumpJson(out);
}

absl::StatusOr<std::map<std::string, CodeSnapshotRef>> ReadMountSnapshots(const std::string& text) {
  std::map<std::string, CodeSnapshotRef> out;
  if (text.empty()) return out;
  nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
  if (!j.is_object()) {
    return absl::DataLossError("task_templates.mount_snapshots is not a JSON object");
  }
  try {
    for (const auto& [source, value] : j.items()) {
      out[source] = CodeSnapshotRefFromJsonValue(value);
    }
  } catch (const nlohmann::json::exception& e) {
    return absl::DataLossError(absl::StrCat("task_templates.mount_snapshots: ", e.what()));
  }
  return out;
}

std::string ConditionsToJson(const std::vector<Condition>& conditions) {
  nlohmann::json out = nlohmann::json::array();
  for (const Condition& c : conditions) {
    out.push_back({{"type", c.type},
                   {"status", c.status},
                   {"reason", c.reason},
                   {"message", c.message},
                   {"last_transition_ms", c.last_transition_ms}});
  }
  return DumpJson(out);
}

}  // namespace skydeck::store::internal
