#include "cli/seed_import.h"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include <sqlite3.h>
#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

#include "common/model/link_template.h"

namespace skydeck::cli {
namespace {

namespace pb = ::skydeck::v1;

using Db = std::unique_ptr<sqlite3, decltype(&sqlite3_close)>;
using Row = std::map<std::string, std::optional<std::string>>;

// The current row of `st`, columns by name; NULL as nullopt.
Row ReadRow(sqlite3_stmt* st) {
  Row row;
  for (int i = 0; i < sqlite3_column_count(st); ++i) {
    const unsigned char* text = sqlite3_column_text(st, i);
    row[sqlite3_column_name(st, i)] =
        text ? std::optional<std::string>(reinterpret_cast<const char*>(text)) : std::nullopt;
  }
  return row;
}

// Every row of `sql`.
absl::StatusOr<std::vector<Row>> Query(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* raw = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &raw, nullptr) != SQLITE_OK) {
    return absl::InvalidArgumentError(sqlite3_errmsg(db));
  }
  std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> st(raw, sqlite3_finalize);
  std::vector<Row> rows;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) rows.push_back(ReadRow(st.get()));
  if (rc != SQLITE_DONE) return absl::InvalidArgumentError(sqlite3_errmsg(db));
  return rows;
}

std::set<std::string> Columns(sqlite3* db, const std::string& table) {
  std::set<std::string> out;
  auto rows = Query(db, absl::StrCat("PRAGMA table_info(", table, ")"));
  if (rows.ok()) {
    for (const Row& r : *rows) out.insert(r.at("name").value_or(""));
  }
  return out;
}

std::string Text(const Row& row, const std::string& column) {
  auto it = row.find(column);
  return it == row.end() ? "" : it->second.value_or("");
}

int Int(const Row& row, const std::string& column, int fallback) {
  std::string text = Text(row, column);
  if (text.empty()) return fallback;
  try {
    return std::stoi(text);
  } catch (...) {
    return fallback;
  }
}

// The old dashboard wrote Python isoformat() of naive UTC times
// ("2025-01-02T03:04:05.123456"), sometimes with an offset. 0: unknown.
int64_t ParseSeedTime(const std::string& text) {
  if (text.empty()) return 0;
  absl::Time t;
  std::string err;
  for (const char* format : {"%Y-%m-%dT%H:%M:%E*S%Ez", "%Y-%m-%dT%H:%M:%E*S",
                             "%Y-%m-%d %H:%M:%E*S%Ez", "%Y-%m-%d %H:%M:%E*S"}) {
    if (absl::ParseTime(format, text, absl::UTCTimeZone(), &t, &err)) return absl::ToUnixMillis(t);
  }
  return 0;
}

void SetTime(int64_t ms, google::protobuf::Timestamp* out) {
  out->set_seconds(ms / 1000);
  out->set_nanos(static_cast<int32_t>(ms % 1000) * 1000000);
}

// Letters, digits and `_ . / -` stay; anything else becomes '-'.
std::string LabelKeyPart(absl::string_view text) {
  std::string out;
  for (char c : text) {
    out += absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-' ? c : '-';
  }
  return out.substr(0, 100);
}

std::string LabelValue(absl::string_view text) {
  std::string out;
  for (char c : text) {
    bool ok = absl::ascii_isprint(c) && c != ',' && c != '=' && c != '(' && c != ')' && c != '!';
    out += ok ? c : '-';
  }
  return out.substr(0, 256);
}

// JSON scalars keep their type, as `--flag` would type them.
absl::Status AddFlags(const std::string& json_text, pb::Experiment* e) {
  if (json_text.empty()) return absl::OkStatus();
  nlohmann::json flags = nlohmann::json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (!flags.is_object()) {
    return absl::InvalidArgumentError(absl::StrCat("flags are not a JSON object: ", json_text));
  }
  for (const auto& [key, value] : flags.items()) {
    pb::FlagValue v;
    if (value.is_boolean()) {
      v.set_bool_value(value.get<bool>());
    } else if (value.is_number_integer()) {
      v.set_int_value(value.get<int64_t>());
    } else if (value.is_number_float()) {
      v.set_double_value(value.get<double>());
    } else if (value.is_string()) {
      v.set_string_value(value.get<std::string>());
    } else {
      v.set_string_value(value.dump());
    }
    (*e->mutable_flags())[key] = v;
  }
  return absl::OkStatus();
}

void AddLabels(const Row& row, const std::vector<std::string>& groups, pb::Experiment* e) {
  auto& labels = *e->mutable_labels();
  labels["imported-from"] = "seed";
  if (std::string g = Text(row, "exp_group"); !g.empty()) labels["group"] = LabelValue(g);
  for (const std::string& g : groups) labels["group/" + LabelKeyPart(g)] = "";
  nlohmann::json tags = nlohmann::json::parse(Text(row, "tags"), nullptr, false);
  if (tags.is_array()) {
    for (const auto& tag : tags) {
      if (tag.is_string() && !tag.get<std::string>().empty()) {
        labels["tag/" + LabelKeyPart(tag.get<std::string>())] = "";
      }
    }
  }
  if (std::string b = Text(row, "git_branch"); !b.empty() && b != "-") {
    labels["git-branch"] = LabelValue(b);
  }
  if (Int(row, "starred", 0) != 0) {
    labels["starred"] = "true";  // kept for selectors written before stars existed
    e->set_starred(true);
  }
}

void AddJob(const Row& row, int64_t fallback_ms, pb::ImportedExperiment* out) {
  pb::Job* job = out->add_jobs();
  std::string status = Text(row, "status");
  if (status == "SUCCEEDED") {
    job->set_status(pb::JOB_STATUS_SUCCEEDED);
  } else if (status == "FAILED") {
    job->set_status(pb::JOB_STATUS_FAILED);
  } else if (status == "CANCELLED") {
    job->set_status(pb::JOB_STATUS_CANCELLED);
  } else {
    job->set_status(pb::JOB_STATUS_LOST);
    job->set_failure_reason(absl::StrCat("imported while ", status.empty() ? "?" : status,
                                         " in the earlier dashboard; SkyDeck does not follow it"));
  }
  job->set_backend_status(status);
  job->set_backend_name(Text(row, "cluster_name"));
  job->set_backend_job_id(Text(row, "sky_job_id"));
  job->set_command(Text(row, "command"));
  job->set_nodes(Int(row, "nodes", 1));
  job->set_gpus(Int(row, "gpus", 0));
  job->set_infra(Text(row, "cloud"));
  int64_t created = ParseSeedTime(Text(row, "created_at"));
  int64_t submitted = ParseSeedTime(Text(row, "submitted_at"));
  int64_t started = ParseSeedTime(Text(row, "started_at"));
  int64_t ended = ParseSeedTime(Text(row, "ended_at"));
  if (submitted == 0) submitted = created;
  if (ended == 0) ended = std::max({started, submitted, fallback_ms});
  if (submitted) SetTime(submitted, job->mutable_submit_time());
  if (started) SetTime(started, job->mutable_start_time());
  SetTime(ended, job->mutable_end_time());
  if (std::string code = Text(row, "exit_code"); !code.empty()) {
    job->set_exit_code(Int(row, "exit_code", 0));
  }
  if (std::string error = Text(row, "error_message"); !error.empty()) {
    job->set_failure_reason(error);
  }
}

}  // namespace

absl::StatusOr<SeedImport> ReadSeedDatabase(const std::string& path, bool keep_running) {
  struct stat info;
  if (stat(path.c_str(), &info) != 0) {
    return absl::NotFoundError(absl::StrCat(path, ": no such file"));
  }
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, SQLITE_OPEN_READONLY, nullptr);
  Db db(raw, sqlite3_close);
  std::set<std::string> experiment_columns = Columns(db.get(), "experiments");
  if (rc != SQLITE_OK || !experiment_columns.count("current_state") ||
      !experiment_columns.count("flags") || !Columns(db.get(), "jobs").count("cluster_name")) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        " is not a database of the earlier SkyDeck dashboard (expected its `experiments` "
        "table with current_state and flags, and `jobs` with cluster_name)"));
  }
  std::map<std::string, std::vector<std::string>> groups_of;  // experiment id -> group names
  if (Columns(db.get(), "experiment_group_members").count("group_id")) {
    auto members = Query(db.get(),
                         "SELECT m.experiment_id AS experiment_id, g.name AS name FROM "
                         "experiment_group_members m JOIN experiment_groups g ON g.id = m.group_id "
                         "ORDER BY m.member_order");
    if (members.ok()) {
      for (const Row& m : *members) groups_of[Text(m, "experiment_id")].push_back(Text(m, "name"));
    }
  }
  auto experiments = Query(db.get(), "SELECT * FROM experiments ORDER BY id");
  if (!experiments.ok()) return experiments.status();
  SeedImport out;
  out.request.set_source(path);
  for (const Row& row : *experiments) {
    if (Int(row, "deleted", 0) != 0) {
      ++out.skipped_deleted;
      continue;
    }
    pb::ImportedExperiment* imported = out.request.add_experiments();
    pb::Experiment* e = imported->mutable_experiment();
    std::string id = Text(row, "id"), name = Text(row, "name");
    e->set_name(name);
    e->set_description(Text(row, "description"));
    // Its W&B link becomes the experiment's link when it is an http(s) URL
    // (the earlier dashboard stored any text).
    if (std::string link = Text(row, "wandb_link"); ValidateLinkUrl("link", link).ok()) {
      e->set_link(link);
    }
    std::string command = Text(row, "base_command");
    if (std::string tool = Text(row, "tool_path"); !tool.empty()) {
      command = absl::StrCat(command, " ", tool);
    }
    e->set_base_command(command);
    std::string run_name = Text(row, "run_name");
    e->set_run_name(run_name.empty() ? name : run_name);
    e->set_nodes(Int(row, "nodes", 1));
    e->set_gpus(Int(row, "gpus", 0));
    e->set_spot(Int(row, "spot", 0) != 0);
    e->set_infra(Text(row, "cloud"));
    if (absl::Status s = AddFlags(Text(row, "flags"), e); !s.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("experiment \"", name, "\": ", s.message()));
    }
    AddLabels(row, groups_of[id], e);
    std::string desired = Text(row, "desired_state");
    if (desired == "TERMINATED") {
      e->set_desired_state(pb::DESIRED_STATE_TERMINATED);
    } else if (desired == "RUNNING" && keep_running) {
      e->set_desired_state(pb::DESIRED_STATE_RUNNING);
    } else {
      e->set_desired_state(pb::DESIRED_STATE_STOPPED);
      if (desired == "RUNNING") (*e->mutable_labels())["seed-desired"] = "RUNNING";
    }
    int64_t created = ParseSeedTime(Text(row, "created_at"));
    if (created) SetTime(created, e->mutable_create_time());
    // jobs.experiment_id holds the experiment's id, or (after the old
    // dashboard's id migration) its name.
    sqlite3_stmt* st = nullptr;
    std::string sql =
        "SELECT * FROM jobs WHERE experiment_id = ? OR experiment_id = ? "
        "ORDER BY created_at, rowid";
    if (sqlite3_prepare_v2(db.get(), sql.c_str(), -1, &st, nullptr) != SQLITE_OK) {
      return absl::InvalidArgumentError(sqlite3_errmsg(db.get()));
    }
    std::unique_ptr<sqlite3_stmt, decltype(&sqlite3_finalize)> jobs(st, sqlite3_finalize);
    sqlite3_bind_text(st, 1, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, name.c_str(), -1, SQLITE_TRANSIENT);
    int64_t updated = ParseSeedTime(Text(row, "updated_at"));
    int64_t fallback = std::max(updated, created);
    if (fallback == 0) fallback = absl::ToUnixMillis(absl::Now());
    while (sqlite3_step(st) == SQLITE_ROW) AddJob(ReadRow(st), fallback, imported);
  }
  return out;
}

}  // namespace skydeck::cli
