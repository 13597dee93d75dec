// File: daemon/store/rows.h
//
// Column lists and row <-> record conversions shared by the store's query
// files. Internal to daemon/store.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

#include "common/model/experiment_search.h"
#include "common/model/records.h"
#include "daemon/store/sqlite.h"

namespace skydeck::store::internal {

// SELECT list for experiments aliased `e`, in the order ReadExperiment reads.
extern const char kExperimentColumns[];
// SELECT list for jobs, in the order ReadJob reads.
extern const char kJobColumns[];
extern const char kEventColumns[];

absl::StatusOr<ExperimentRecord> ReadExperiment(const Statement& st);

// The columns of an experiment row (read with kExperimentColumns) that list
// filters test. Reading only these lets a filter reject a row without
// decoding its flags and conditions, which dominate a full read.
struct ExperimentFilterFields {
  std::string name;
  Labels labels;
  DesiredState desired_state = DesiredState::kStopped;
  ObservedState observed_state = ObservedState::kIdle;
  int64_t state_since_ms = 0;
  bool starred = false;
};
absl::StatusOr<ExperimentFilterFields> ReadExperimentFilterFields(const Statement& st);
absl::StatusOr<JobRecord> ReadJob(const Statement& st);

// What the search (common/model/experiment_search.h) looks at in `r`, its
// time in state counted to `now_ms`. Views into `r`: keep it alive.
SearchableExperiment Searchable(const ExperimentRecord& r, int64_t now_ms);
EventRecord ReadEvent(const Statement& st);

// ReadById()
//
// The row `sql` (one parameter: the id) finds, as `read` returns it.
// Errors: NOT_FOUND ("<what> <id> not found"); SQLite's; `read`'s.
//   return ReadById(db, kJobById, id, ReadJob, "job");
template <typename Read>
absl::StatusOr<sqlite_internal::RowType<Read>> ReadById(Connection& db, const std::string& sql,
                                                        int64_t id, Read&& read,
                                                        absl::string_view what) {
  absl::StatusOr<Statement*> st = db.Prepare(sql);
  if (!st.ok()) return st.status();
  (*st)->Bind(1, id);
  absl::StatusOr<std::optional<sqlite_internal::RowType<Read>>> row =
      (*st)->ReadFirst(std::forward<Read>(read));
  if (!row.ok()) return row.status();
  if (!*row) return absl::NotFoundError(absl::StrCat(what, " ", id, " not found"));
  return **std::move(row);
}

// ReadCounts()
//
// Counts by state from rows of (state name, count), e.g. a GROUP BY;
// names `parse` refuses (written by a newer binary) are left out.
template <typename State, typename Parse>
absl::StatusOr<std::map<State, int64_t>> ReadCounts(Statement& st, Parse&& parse) {
  std::map<State, int64_t> out;
  absl::Status status = st.ForEachRow([&](const Statement& row) {
    absl::StatusOr<State> state = parse(row.ColumnText(0));
    if (state.ok()) out[*state] = row.ColumnInt(1);
  });
  if (!status.ok()) return status;
  return out;
}

// Compact JSON text; invalid UTF-8 is replaced rather than thrown on.
std::string DumpJson(const nlohmann::json& json);

std::string LabelsToJson(const Labels& labels);
std::string FlagsToJson(const FlagMap& flags);
std::string ConditionsToJson(const std::vector<Condition>& conditions);
std::string EnvsToJson(const std::map<std::string, std::string>& envs);
std::string NamesToJson(const std::vector<std::string>& names);
// '' for no snapshot, else a JSON object (migrations.cc, v5).
std::string CodeSnapshotRefToJson(const CodeSnapshotRef& code);
absl::StatusOr<CodeSnapshotRef> ReadCodeSnapshotRef(const std::string& text);
std::string MountSnapshotsToJson(const std::map<std::string, CodeSnapshotRef>& mounts);
absl::StatusOr<std::map<std::string, CodeSnapshotRef>> ReadMountSnapshots(const std::string& text);

}  // namespace skydeck::store::internal
