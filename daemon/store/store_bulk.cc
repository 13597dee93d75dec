// Store methods that change many experiments in one transaction. See
// store.h ("Bulk changes") for the contracts.
//
// Why not a loop over UpdateSpec: each of those is its own transaction
// (one commit, one fsync, one Watch wake-up per experiment: 8-33 s for
// 10,000 experiments, bench/README.md), and a failure or a deadline half
// way leaves a partial change the caller cannot see. Here the rows are
// selected and changed under one BEGIN IMMEDIATE with narrow UPDATEs that
// touch only the columns the change owns.
#include <algorithm>
#include <optional>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/model/event_types.h"
#include "common/model/experiment_search.h"
#include "common/status_macros.h"
#include "daemon/store/rows.h"
#include "daemon/store/store.h"

namespace skydeck::store {

using internal::ExperimentFilterFields;
using internal::kExperimentColumns;
using internal::ReadExperiment;
using internal::ReadExperimentFilterFields;
using internal::Searchable;

// What a bulk change needs to know about one addressed experiment.
struct Store::BulkCandidate {
  int64_t id = 0;
  std::string name;
  DesiredState desired_state = DesiredState::kStopped;
  int64_t live_job_id = 0;
  bool deleted = false;
  bool starred = false;
  // The whole row, when it was read (experiments named by id): a change
  // that keeps it up to date answers with it instead of reading it again.
  std::optional<ExperimentRecord> record;
};

namespace {

// keep_going is asked once per this many rows.
constexpr size_t kCheckEvery = 256;
// A refusal names at most this many experiments.
constexpr size_t kNamedInError = 10;
// Column of kExperimentColumns holding the live job's id.
constexpr int kLiveJobColumn = 24;

bool Contains(const auto& values, const auto& value) {
  return values.empty() || std::find(values.begin(), values.end(), value) != values.end();
}

absl::Status KeepGoing(const BulkOptions& options, size_t done) {
  if (!options.keep_going || done % kCheckEvery != 0) return absl::OkStatus();
  return options.keep_going();
}

// Asked once more right before the commit: whatever time the last rows,
// the records or the commit take comes after it.
absl::Status KeepGoingToCommit(const BulkOptions& options) {
  return options.keep_going ? options.keep_going() : absl::OkStatus();
}

// FAILED_PRECONDITION naming (up to kNamedInError of) the candidates with a
// live job, if any; OK otherwise. `candidates` are Store::BulkCandidate
// (deduced: the type is private to Store).
absl::Status RefuseLiveJobs(const auto& candidates, absl::string_view what) {
  std::vector<std::string> names;
  size_t count = 0;
  for (const auto& c : candidates) {
    if (c.live_job_id == 0) continue;
    if (names.size() < kNamedInError) names.push_back(c.name);
    count++;
  }
  if (count == 0) return absl::OkStatus();
  std::string listed = absl::StrJoin(names, ", ");
  if (count > names.size()) absl::StrAppend(&listed, " and ", count - names.size(), " more");
  return absl::FailedPreconditionError(
      absl::StrCat(count, count == 1 ? " experiment has" : " experiments have", " a live job (",
                   listed, "); stop them first or ", what, " with force; nothing was changed"));
}

}  // namespace

absl::StatusOr<std::vector<Store::BulkCandidate>> Store::SelectCandidates(
    Connection& db, const ExperimentSelection& selection, bool allow_deleted,
    const BulkOptions& options) {
  std::vector<BulkCandidate> out;
  for (int64_t id : selection.ids) {
    ASSIGN_OR_RETURN(ExperimentRecord r, LoadExperiment(db, id));
    if (r.deleted() && !allow_deleted) {
      return absl::NotFoundError(absl::StrCat("experiment ", id, " is deleted"));
    }
    out.push_back(
        {r.id, r.spec.name, r.spec.desired_state, r.current_job_id, r.deleted(), r.starred, r});
    RETURN_IF_ERROR(KeepGoing(options, out.size()));
  }
  if (selection.filter) {
    const ExperimentFilter& f = *selection.filter;
    // The same scan as ListExperiments: reject a row on its cheap columns
    // before decoding the rest (only the search words need the rest).
    ASSIGN_OR_RETURN(Statement * st,
                     db.Prepare(absl::StrCat("SELECT ", kExperimentColumns,
                                             " FROM experiments e WHERE e.deleted_at IS NULL "
                                             "ORDER BY e.id")));
    size_t scanned = 0;
    int64_t now = clock_();
    RETURN_IF_ERROR(st->ForEachRow([&](const Statement& row) -> absl::Status {
      RETURN_IF_ERROR(KeepGoing(options, ++scanned));
      ASSIGN_OR_RETURN(ExperimentFilterFields fields, ReadExperimentFilterFields(row));
      if (!Contains(f.desired_states, fields.desired_state) ||
          !Contains(f.observed_states, fields.observed_state) ||
          !absl::StrContains(fields.name, f.name_contains) ||
          !f.selector.Matches(fields.labels) || (f.starred_only && !fields.starred)) {
        return absl::OkStatus();
      }
      if (!f.words.empty()) {
        ASSIGN_OR_RETURN(ExperimentRecord r, ReadExperiment(row));
        if (!MatchesSearch(f.words, Searchable(r, now))) return absl::OkStatus();
      }
      out.push_back({row.ColumnInt(0), fields.name, fields.desired_state,
                     row.ColumnOptionalInt(kLiveJobColumn).value_or(0), false, fields.starred,
                     std::nullopt});
      return absl::OkStatus();
    }));
  }
  // By id, once each: an id named and also matched by the filter counts once.
  std::sort(out.begin(), out.end(),
            [](const BulkCandidate& a, const BulkCandidate& b) { return a.id < b.id; });
  out.erase(
      std::unique(out.begin(), out.end(),
                  [](const BulkCandidate& a, const BulkCandidate& b) { return a.id == b.id; }),
      out.end());
  return out;
}

absl::Status Store::LoadBulkRecords(BulkResult* result, const BulkOptions& options) {
  if (result->ids.size() > options.max_records) return absl::OkStatus();
  for (int64_t id : result->ids) {
    ASSIGN_OR_RETURN(ExperimentRecord r, LoadExperiment(*db_, id));
    result->experiments.push_back(std::move(r));
  }
  return absl::OkStatus();
}

absl::Status Store::BulkRecordsFrom(std::vector<BulkCandidate>& candidates, BulkResult* result,
                                    const BulkOptions& options) {
  if (result->ids.size() > options.max_records) return absl::OkStatus();
  for (BulkCandidate& c : candidates) {
    if (c.record) {
      result->experiments.push_back(*std::move(c.record));
      continue;
    }
    ASSIGN_OR_RETURN(ExperimentRecord r, LoadExperiment(*db_, c.id));
    result->experiments.push_back(std::move(r));
  }
  return absl::OkStatus();
}

absl::StatusOr<BulkResult> Store::SetDesiredStates(const ExperimentSelection& selection,
                                                   DesiredState desired, absl::string_view actor,
                                                   absl::string_view reason,
                                                   const BulkOptions& options) {
  BulkResult result;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    result = BulkResult();
    ASSIGN_OR_RETURN(std::vector<BulkCandidate> candidates,
                     SelectCandidates(*db_, selection, /*allow_deleted=*/false, options));
    int64_t now = clock_();
    // A plain UPDATE by rowid: a subquery in SET (for the run boundary)
    // made SQLite stage every row in a temporary table, which doubled the
    // cost of the whole change.
    ASSIGN_OR_RETURN(
        Statement * update,
        db_->Prepare("UPDATE experiments SET desired_state = ?2, generation = generation + 1, "
                     "updated_at = max(?3, updated_at + 1), "
                     "run_after_job_id = coalesce(?4, run_after_job_id) "
                     "WHERE id = ?1"));
    for (BulkCandidate& c : candidates) {
      result.ids.push_back(c.id);
      RETURN_IF_ERROR(KeepGoing(options, result.ids.size()));
      bool new_run = desired == DesiredState::kRunning &&
                     c.desired_state == DesiredState::kRunning && c.live_job_id == 0;
      if (c.desired_state == desired && !new_run) continue;
      // A desired state that becomes RUNNING (or a new run of a RUNNING
      // one) starts a run after every job so far.
      std::optional<int64_t> run_after;
      if (desired == DesiredState::kRunning) {
        ASSIGN_OR_RETURN(run_after, MaxJobId(c.id));
      }
      update->Reset();  // a statement run to the end keeps its bindings
      update->Bind(1, c.id);
      update->Bind(2, Name(desired));
      update->Bind(3, now);
      update->Bind(4, run_after);
      RETURN_IF_ERROR(update->Run());
      if (c.record) {  // as the UPDATE left the row
        c.record->spec.desired_state = desired;
        c.record->generation++;
        c.record->updated_ms = std::max(now, c.record->updated_ms + 1);
        if (run_after) c.record->run_after_job_id = *run_after;
      }
      // The same events UpdateSpec and RequestRun append.
      std::string message = new_run ? absl::StrCat(Name(c.desired_state), " -> RUNNING (new run)")
                                    : absl::StrCat(Name(c.desired_state), " -> ", Name(desired));
      if (!reason.empty()) absl::StrAppend(&message, ": ", reason);
      RETURN_IF_ERROR(InsertEvent(NewEvent{c.id, 0, model::event::kDesiredStateChanged,
                                           new_run ? "RunRequested" : std::string(Name(desired)),
                                           message, std::string(actor)}));
      result.changed_ids.push_back(c.id);
    }
    RETURN_IF_ERROR(BulkRecordsFrom(candidates, &result, options));
    return KeepGoingToCommit(options);
  }));
  return result;
}

absl::StatusOr<BulkResult> Store::SoftDeleteMany(const ExperimentSelection& selection,
                                                 absl::string_view actor,
                                                 const BulkOptions& options) {
  BulkResult result;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    result = BulkResult();
    ASSIGN_OR_RETURN(std::vector<BulkCandidate> candidates,
                     SelectCandidates(*db_, selection, /*allow_deleted=*/false, options));
    RETURN_IF_ERROR(RefuseLiveJobs(candidates, "delete"));
    int64_t now = clock_();
    ASSIGN_OR_RETURN(Statement * update,
                     db_->Prepare("UPDATE experiments SET deleted_at = ?2, updated_at = max(?2, updated_at + 1) "
                                  "WHERE id = ?1"));
    for (const BulkCandidate& c : candidates) {
      result.ids.push_back(c.id);
      RETURN_IF_ERROR(KeepGoing(options, result.ids.size()));
      update->Reset();
      update->Bind(1, c.id);
      update->Bind(2, now);
      RETURN_IF_ERROR(update->Run());
      RETURN_IF_ERROR(
          InsertEvent(NewEvent{c.id, 0, model::event::kDeleted, "Archived",
                               "archived; jobs and events are kept", std::string(actor)}));
    }
    result.changed_ids = result.ids;
    RETURN_IF_ERROR(LoadBulkRecords(&result, options));
    return KeepGoingToCommit(options);
  }));
  return result;
}

absl::StatusOr<BulkResult> Store::PurgeMany(const ExperimentSelection& selection,
                                            absl::string_view actor, const BulkOptions& options) {
  BulkResult result;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    result = BulkResult();
    ASSIGN_OR_RETURN(std::vector<BulkCandidate> candidates,
                     SelectCandidates(*db_, selection, /*allow_deleted=*/true, options));
    RETURN_IF_ERROR(RefuseLiveJobs(candidates, "purge"));
    ASSIGN_OR_RETURN(Statement * remove, db_->Prepare("DELETE FROM experiments WHERE id = ?"));
    for (const BulkCandidate& c : candidates) {
      result.ids.push_back(c.id);
      RETURN_IF_ERROR(KeepGoing(options, result.ids.size()));
      remove->Reset();
      remove->Bind(1, c.id);
      RETURN_IF_ERROR(remove->Run());
      // Daemon-wide, as Purge: watchers learn the experiment is gone.
      RETURN_IF_ERROR(InsertEvent(NewEvent{
          0, 0, model::event::kPurged, "Purged",
          absl::StrCat("experiment ", c.id, " (", c.name, ") and its history were removed"),
          std::string(actor)}));
    }
    result.changed_ids = result.ids;
    return KeepGoingToCommit(options);
  }));
  return result;
}

// A mark of the user, not the spec: only the starred column is written
// (no generation, no updated_at), so nothing is relaunched or Outdated.
absl::StatusOr<BulkResult> Store::SetStarred(const ExperimentSelection& selection, bool starred,
                                             absl::string_view actor,
                                             const BulkOptions& options) {
  BulkResult result;
  RETURN_IF_ERROR(Transaction([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) -> absl::Status {
    result = BulkResult();
    ASSIGN_OR_RETURN(std::vector<BulkCandidate> candidates,
                     SelectCandidates(*db_, selection, /*allow_deleted=*/false, options));
    ASSIGN_OR_RETURN(Statement * update,
                     db_->Prepare("UPDATE experiments SET starred = ?2 WHERE id = ?1"));
    for (const BulkCandidate& c : candidates) {
      result.ids.push_back(c.id);
      RETURN_IF_ERROR(KeepGoing(options, result.ids.size()));
      if (c.starred == starred) continue;
      update->Reset();
      update->Bind(1, c.id);
      update->Bind(2, starred);
      RETURN_IF_ERROR(update->Run());
      RETURN_IF_ERROR(InsertEvent(NewEvent{
          c.id, 0, starred ? model::event::kStarred : model::event::kUnstarred,
          starred ? "Starred" : "Unstarred", starred ? "starred" : "unstarred",
          std::string(actor)}));
      result.changed_ids.push_back(c.id);
    }
    RETURN_IF_ERROR(LoadBulkRecords(&result, options));
    return KeepGoingToCommit(options);
  }));
  return result;
}

absl::StatusOr<SelectedExperiments> Store::SelectExperiments(const ExperimentSelection& selection,
                                                             bool allow_deleted) {
  return Read([&](Connection& db) -> absl::StatusOr<SelectedExperiments> {
    ASSIGN_OR_RETURN(std::vector<BulkCandidate> candidates,
                     SelectCandidates(db, selection, allow_deleted, BulkOptions()));
    SelectedExperiments out;
    for (const BulkCandidate& c : candidates) {
      out.ids.push_back(c.id);
      if (c.live_job_id != 0) out.with_live_job.push_back(c.id);
    }
    return out;
  });
}

}  // namespace skydeck::store
