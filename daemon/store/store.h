// File: daemon/store/store.h
//
// The daemon's only state: experiments, jobs and events in one SQLite file
// (WAL, STRICT tables, foreign keys, versioned migrations). Invariants live
// in the schema (migrations.cc): names unique among live experiments, at most
// one live job per experiment. Every write that changes something appends an
// event in the same transaction; the event id is the revision Watch resumes
// from.
//
// Thread-safety: all methods are safe to call concurrently. There is one
// writer connection: writes are serialised on one absl::Mutex (its guarded
// state is annotated for clang's -Wthread-safety). Reads of a database file take a connection of a small
// pool of read-only ones (ReaderPool, WAL snapshots) and never wait for the
// writer, a write transaction or each other (only for a free connection);
// a read sees every write committed before it began. An in-memory database
// (":memory:", tests) cannot be shared between connections: there reads
// use the writer connection under the mutex, as writes do.
//
// Group commit: writes that arrive while another is being written share
// one `BEGIN IMMEDIATE` transaction. Each write (the body of Transaction)
// enqueues itself; the first waiting write with no batch in progress leads:
// it takes every queued write (at most kMaxBatch), and under the lock runs
// each body inside its own SAVEPOINT, in arrival order, then COMMITs once.
// A body that fails is rolled back to its savepoint and returns its own
// error; the others are unaffected (later bodies see the earlier ones'
// writes, as if each had committed alone). A dry run (WriteMode::kDryRun)
// is always rolled back to its savepoint. Every write of the batch returns
// only after the COMMIT succeeded (durability unchanged: an acknowledged
// write is committed, as before) and the commit listener was told the
// batch's newest event id, once; if COMMIT fails, or SQLite abandons the
// transaction under a body (e.g. disk full), every write of the batch
// fails with that error. Alone, a write is a batch of one: one
// transaction, as before. Bodies may run on the leading writer's thread,
// not their caller's: they must not depend on thread-local state or on
// locks asserted held by this thread (the caller waits, holding what it
// holds, while its body runs).
//
// Errors (besides INTERNAL for a broken database): NOT_FOUND for unknown ids,
// ALREADY_EXISTS for a live name in use, FAILED_PRECONDITION when a
// constraint or the current state refuses the change.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "common/model/flag_schema.h"
#include "common/model/label_selector.h"
#include "common/model/records.h"
#include "daemon/store/background_check.h"
#include "daemon/store/reader_pool.h"
#include "daemon/store/sqlite.h"

namespace skydeck::store {

struct ExperimentQuery {
  // Only ids greater than this (the page cursor).
  int64_t after_id = 0;
  // At most this many results.
  int limit = 100;
  bool include_deleted = false;
  // Empty: any.
  std::vector<DesiredState> desired_states;
  std::vector<ObservedState> observed_states;
  LabelSelector selector;
  std::string name_contains;
  // Only starred experiments.
  bool starred_only = false;
  // Search words (common/model/experiment_search.h), time-in-state words
  // counted to the store's clock; each must match.
  std::vector<std::string> words;
  // Also read the newest job of each listed experiment (latest_jobs).
  bool include_latest_jobs = false;
};

struct ExperimentPage {
  std::vector<ExperimentRecord> experiments;
  // Pass as after_id for the next page; 0 when this is the last page.
  int64_t next_after_id = 0;
  // Only with include_latest_jobs: the newest job of each experiment in
  // `experiments` that has any, in the same order.
  std::vector<JobRecord> latest_jobs;
};

// What Store::Open does besides opening and migrating.
struct OpenOptions {
  // Unix ms (tests inject one); null: now.
  std::function<int64_t()> clock;
  // Check an existing file with QuickCheck (integrity.h) before migrating
  // it, allowing at most this long (what it could not check is logged);
  // zero: no check.
  absl::Duration integrity_check_budget = absl::ZeroDuration();
  // With a check: check the history tables (kHistoryTables) after Open
  // returns, in the background and with no time limit (background_check.h),
  // instead of within the budget before. Damage found there makes the
  // store refuse every write (WriteProblem says why and how to restore).
  bool check_history_in_background = false;
  // Tests: called on the background check's thread before each table.
  std::function<void(const std::string& table)> before_history_table;
  // Read-only connections reads use (ReaderPool) for a database file; 0:
  // reads use the writer connection under the store's mutex, as they must
  // for ":memory:" (benchmarks compare the two).
  int reader_connections = 4;
};

// A consistent copy of the database, made by Store::Backup: a file already
// unlinked from its directory (so nothing is left behind whatever happens
// to the process), read through `fd`, closed by the destructor.
class BackupFile {
 public:
  BackupFile(int fd, int64_t size_bytes, int64_t revision)
      : fd_(fd), size_bytes_(size_bytes), revision_(revision) {}
  ~BackupFile();
  BackupFile(const BackupFile&) = delete;
  BackupFile& operator=(const BackupFile&) = delete;

  int fd() const { return fd_; }
  int64_t size_bytes() const { return size_bytes_; }
  // The newest event id in the copy: every write acknowledged before the
  // backup began is in it, and nothing committed after this revision.
  int64_t revision() const { return revision_; }

 private:
  const int fd_;
  const int64_t size_bytes_;
  const int64_t revision_;
};

// ---- Bulk changes (store_bulk.cc) -----------------------------------------

// Live experiments a bulk change addresses by what they are: every field
// that is set must hold.
struct ExperimentFilter {
  // Empty: any.
  std::vector<DesiredState> desired_states;
  std::vector<ObservedState> observed_states;
  LabelSelector selector;
  // Only names containing this.
  std::string name_contains;
  // Search words (common/model/experiment_search.h), time-in-state words
  // counted to the store's clock; each must match.
  std::vector<std::string> words;
  // Only starred experiments.
  bool starred_only = false;
};

// What a bulk change addresses: `ids`, plus every live experiment `filter`
// matches when it is set (an empty filter matches every live experiment).
struct ExperimentSelection {
  std::vector<int64_t> ids;
  std::optional<ExperimentFilter> filter;
};

struct BulkOptions {
  // Asked every few hundred experiments while the change is made; an error
  // (e.g. the caller's deadline is near) rolls everything back and is
  // returned. Null: never stop.
  std::function<absl::Status()> keep_going;
  // Records are returned when at most this many experiments are addressed.
  size_t max_records = 1000;
};

struct BulkResult {
  // Every experiment addressed, ascending.
  std::vector<int64_t> ids;
  // Those the change altered (each got an event), ascending.
  std::vector<int64_t> changed_ids;
  // Every addressed experiment after the change, by id, when there are at
  // most BulkOptions::max_records of them; empty otherwise.
  std::vector<ExperimentRecord> experiments;
};

// The experiments a selection addresses now, and those of them with a live
// job (a forced delete waits for these).
struct SelectedExperiments {
  std::vector<int64_t> ids;
  std::vector<int64_t> with_live_job;
};

// What Store::CountStates reads.
struct LiveStateCounts {
  std::map<ObservedState, int64_t> experiments_by_state;
  std::map<JobStatus, int64_t> live_jobs_by_status;
};

// How a write ends. kDryRun runs every statement and check of the write
// (constraints included), then rolls it back: the caller gets what would be
// stored, and nothing is written, announced or given an id.
enum class WriteMode { kCommit, kDryRun };

namespace internal_read {
// T for a Store::Read body returning T or absl::StatusOr<T>.
template <typename Body>
using ResultType =
    typename sqlite_internal::Unwrap<std::decay_t<std::invoke_result_t<Body&, Connection&>>>::type;
}  // namespace internal_read

class Store {
 public:
  // Called after each commit that appended events, with the newest event id.
  using CommitListener = std::function<void(int64_t revision)>;
  using Clock = std::function<int64_t()>;

  // Opens or creates the database at `path` (":memory:" for tests) and
  // migrates it. `clock` returns unix ms (tests inject one).
  // Errors: FAILED_PRECONDITION when the database cannot be written (the
  // file, or its "-shm" file, is read-only for this process: found before
  // anything is changed), or is newer than this binary; DATA_LOSS when
  // the integrity check finds damage.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     Clock clock = nullptr);
  static absl::StatusOr<std::unique_ptr<Store>> Open(const std::string& path,
                                                     const OpenOptions& options);
  // Stops the background check first.
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // REQUIRES: called before the store is shared between threads.
  void SetCommitListener(CommitListener listener) { listener_ = std::move(listener); }

  // ---- Experiments -------------------------------------------------------

  // Creates the experiment and appends a "Created" event, then `events`
  // (each defaulting to the new experiment, e.g. "FlagWarning"), all in
  // one transaction. Errors: ALREADY_EXISTS when a live experiment has the
  // name. A dry run returns the record with id 0.
  absl::StatusOr<ExperimentRecord> CreateExperiment(const ExperimentSpec& spec,
                                                    absl::string_view actor,
                                                    WriteMode mode = WriteMode::kCommit,
                                                    std::vector<NewEvent> events = {});
  // Creates an experiment together with its past jobs (store_import.cc),
  // in one transaction: attempts 1..n in `history` order, backend
  // "import". `created_ms` 0 means now. Every job must have ended (an
  // imported job is never polled). Errors: ALREADY_EXISTS when a live
  // experiment has the name (nothing written); INVALID_ARGUMENT for a job
  // that has not ended.
  absl::StatusOr<ExperimentRecord> ImportExperiment(const ExperimentSpec& spec, int64_t created_ms,
                                                    const std::vector<JobRecord>& history,
                                                    absl::string_view actor,
                                                    absl::string_view source);
  // Deleted experiments included. Errors: NOT_FOUND.
  absl::StatusOr<ExperimentRecord> GetExperiment(int64_t id);
  // Live experiments only. Errors: NOT_FOUND.
  absl::StatusOr<ExperimentRecord> FindExperimentByName(absl::string_view name);
  absl::StatusOr<ExperimentPage> ListExperiments(const ExperimentQuery& query);
  // Ids of live (not deleted) experiments, ascending.
  absl::StatusOr<std::vector<int64_t>> ListLiveExperimentIds();

  // Reads the spec, lets `mutate` change it, and when it changed writes it,
  // bumps generation and appends an event ("DesiredStateChanged" when the
  // desired state changed, else "Updated" naming the fields). An error from
  // `mutate` aborts with nothing written. A desired state that becomes
  // RUNNING starts a new run (a fresh restart budget).
  // Errors: NOT_FOUND (also for deleted experiments), ALREADY_EXISTS on a
  // rename onto a live name.
  using SpecMutation = std::function<absl::Status(ExperimentSpec&)>;
  absl::StatusOr<ExperimentRecord> UpdateSpec(int64_t id, const SpecMutation& mutate,
                                              absl::string_view actor,
                                              absl::string_view reason = "",
                                              WriteMode mode = WriteMode::kCommit);
  // UpdateSpec whose `mutate` may also append events (e.g. "FlagWarning";
  // each defaults to this experiment). They are written in the same
  // transaction, after UpdateSpec's own, even when the spec did not change;
  // nothing is written when `mutate` fails.
  using SpecMutationWithEvents =
      std::function<absl::Status(ExperimentSpec&, std::vector<NewEvent>* events)>;
  absl::StatusOr<ExperimentRecord> UpdateSpec(int64_t id, const SpecMutationWithEvents& mutate,
                                              absl::string_view actor,
                                              absl::string_view reason = "",
                                              WriteMode mode = WriteMode::kCommit);

  // Starts a new run of an experiment that has no live job: desired state
  // RUNNING, a fresh restart budget, even if it was RUNNING already (e.g. it
  // SUCCEEDED or is Stalled). With a live job, changes nothing.
  absl::StatusOr<ExperimentRecord> RequestRun(int64_t id, absl::string_view actor,
                                              absl::string_view reason = "");

  // The random tag of this database (see migrations.cc: meta).
  absl::StatusOr<std::string> InstallationId();
  // Daemon facts kept with the database (table meta), e.g. "backend": the
  // backend this database's jobs run on. No event is appended: these are
  // configuration, not history. GetMeta is nullopt for an unset key.
  absl::StatusOr<std::optional<std::string>> GetMeta(absl::string_view key);
  absl::Status SetMeta(absl::string_view key, absl::string_view value);

  // Reconciler side: reads the record, lets `mutate` change the observed
  // fields (observed_generation, observed_state, conditions, restart_count,
  // next_retry_ms) and append events, and writes only when a field changed
  // or an event was added, so a reconcile that finds nothing to do writes
  // nothing. Changes `mutate` makes to any other field (the spec above
  // all) are ignored: only the observed fields, state_since (when the
  // observed state changes) and updated_at are written.
  using StatusMutation =
      std::function<absl::Status(ExperimentRecord&, std::vector<NewEvent>* events)>;
  absl::StatusOr<ExperimentRecord> UpdateObserved(int64_t id, const StatusMutation& mutate);

  // Archives the experiment; jobs and events are kept. Errors:
  // FAILED_PRECONDITION while it has a live job; NOT_FOUND if already deleted.
  absl::StatusOr<ExperimentRecord> SoftDelete(int64_t id, absl::string_view actor);
  // Errors: FAILED_PRECONDITION when not deleted; ALREADY_EXISTS when its
  // name was taken meanwhile.
  absl::StatusOr<ExperimentRecord> Undelete(int64_t id, absl::string_view actor);
  // Removes the experiment with its jobs and events. Errors:
  // FAILED_PRECONDITION while it has a live job.
  absl::Status Purge(int64_t id, absl::string_view actor);

  // ---- Bulk changes (store_bulk.cc) ---------------------------------------
  //
  // Each is ONE transaction however many experiments it addresses: all of
  // them change, or (on any error, a refusal for one experiment included)
  // none; their events are appended in that transaction and announced by
  // one commit. The selection is evaluated inside the transaction.
  // Errors common to all: NOT_FOUND for an id that is unknown or deleted;
  // whatever BulkOptions::keep_going returns.

  // Sets the desired state of every selected experiment, each exactly as
  // UpdateSpec changing only desired_state would (generation, run
  // boundary, "DesiredStateChanged" event), except that RUNNING on an
  // experiment already RUNNING without a live job starts a new run, as
  // RequestRun does. Experiments already in that state are unchanged.
  absl::StatusOr<BulkResult> SetDesiredStates(const ExperimentSelection& selection,
                                              DesiredState desired, absl::string_view actor,
                                              absl::string_view reason,
                                              const BulkOptions& options = {});
  // Archives every selected experiment, as SoftDelete. Errors:
  // FAILED_PRECONDITION, naming (some of) them, when any has a live job.
  absl::StatusOr<BulkResult> SoftDeleteMany(const ExperimentSelection& selection,
                                            absl::string_view actor,
                                            const BulkOptions& options = {});
  // Removes every selected experiment with its jobs and events, as Purge
  // (a deleted experiment may be named by id). The result has no records.
  // Errors: FAILED_PRECONDITION when any has a live job.
  absl::StatusOr<BulkResult> PurgeMany(const ExperimentSelection& selection,
                                       absl::string_view actor, const BulkOptions& options = {});
  // Stars (or unstars) every selected experiment: a mark of the user, not
  // part of the spec (no generation bump, no relaunch, no Outdated). One
  // "Starred"/"Unstarred" event per experiment changed; those already so
  // are left alone (store_marks.cc).
  absl::StatusOr<BulkResult> SetStarred(const ExperimentSelection& selection, bool starred,
                                        absl::string_view actor, const BulkOptions& options = {});
  // Sets a live experiment's position (its order within a dashboard group,
  // ascending), one row and a "Moved" event; not part of the spec either.
  // Errors: NOT_FOUND (unknown or deleted); INVALID_ARGUMENT for a position
  // that is not finite.
  absl::StatusOr<ExperimentRecord> SetPosition(int64_t id, double position,
                                               absl::string_view actor);
  // Reads which experiments `selection` addresses (deleted ones allowed by
  // id when `allow_deleted`), writing nothing.
  absl::StatusOr<SelectedExperiments> SelectExperiments(const ExperimentSelection& selection,
                                                        bool allow_deleted = false);

  // Live experiments per observed state and live jobs per status, both
  // from one read snapshot (counted in SQL: no row is decoded). On a
  // database file it runs on a read connection: it never waits for the
  // writer nor holds the store's lock.
  absl::StatusOr<LiveStateCounts> CountStates();

  // ---- Jobs --------------------------------------------------------------

  // Renders what a launch intent will run once its id and attempt are
  // known (JobRecord.rendered_task). Runs inside the store's transaction:
  // it must be quick and must not call the store. An error aborts the write.
  using RenderIntent = std::function<absl::StatusOr<std::string>(const JobRecord&)>;

  // Writes a launch intent: `job` with status LAUNCHING and the next attempt
  // number (job.attempt is ignored), plus a "LaunchIntent" event. `finish`,
  // when given, fills rendered_task in the same transaction.
  // Errors: FAILED_PRECONDITION when the experiment already has a live job
  // (enforced by the schema's partial unique index); `finish`'s.
  absl::StatusOr<JobRecord> CreateLaunchIntent(const JobRecord& job, absl::string_view actor,
                                               const RenderIntent& finish = nullptr);
  // Errors: NOT_FOUND.
  absl::StatusOr<JobRecord> GetJob(int64_t id);
  absl::StatusOr<std::optional<JobRecord>> LiveJob(int64_t experiment_id);
  // Newest first; only ids below before_id when it is non-zero.
  absl::StatusOr<std::vector<JobRecord>> ListJobs(int64_t experiment_id, int64_t before_id,
                                                  int limit);
  // Every live job, oldest first.
  absl::StatusOr<std::vector<JobRecord>> ListLiveJobs();
  // GPU time of every job that started, by GPU type (upper case) and
  // spot, in GPU-milliseconds (nodes x gpus x RunningMs, gpu_usage.h),
  // live jobs counted up to `now_ms`: /metrics' GPU-hour counters. Ended
  // jobs come from sums the schema's triggers keep (gpu_time_ended), so a
  // scrape reads the live jobs only, not the whole history.
  struct GpuTime {
    std::string gpu_type;
    bool spot = false;
    int64_t gpu_ms = 0;
  };
  absl::StatusOr<std::vector<GpuTime>> SumGpuTime(int64_t now_ms);
  // Jobs that started and are live or ended after `after_ms` (unix ms; 0:
  // every job that ever started), by id: what GetCost adds up.
  absl::StatusOr<std::vector<JobRecord>> ListJobsRunningAfter(int64_t after_ms);
  // Replaces what a launch intent will run (command, flags, resources, run
  // name, template, envs, secret names, workdir and code version: the
  // fields of reconcile::LaunchSnapshot) while nothing can have run it,
  // i.e. it is LAUNCHING without a backend id; `finish` renders its task
  // again. Appends an IntentUpdated event. Errors: FAILED_PRECONDITION
  // otherwise (a job's snapshot is history once it reached the backend);
  // NOT_FOUND.
  absl::StatusOr<JobRecord> ReplaceIntentSnapshot(int64_t id, const JobRecord& snapshot,
                                                  absl::string_view actor,
                                                  const RenderIntent& finish = nullptr);
  // The backend of the most recent job, live or ended; nullopt without jobs.
  absl::StatusOr<std::optional<std::string>> NewestJobBackend();
  // Reads the job, lets `mutate` change it and append events, and writes
  // only when something changed. Events default to the job's experiment and
  // id. Errors: FAILED_PRECONDITION when the change would give the
  // experiment a second live job.
  using JobMutation = std::function<absl::Status(JobRecord&, std::vector<NewEvent>* events)>;
  absl::StatusOr<JobRecord> UpdateJob(int64_t id, const JobMutation& mutate);
  // UpdateJob for many jobs in ONE transaction (one commit however many
  // jobs; the poller's batch): `mutate` runs for each id in order (the job
  // tells which). A job whose mutation or write fails is left as it was,
  // and its error is in its slot; the other jobs are still written.
  // Returns one entry per id, in order. Errors: only for the transaction as
  // a whole (e.g. a broken database).
  absl::StatusOr<std::vector<absl::StatusOr<JobRecord>>> UpdateJobs(const std::vector<int64_t>& ids,
                                                                    const JobMutation& mutate);

  // ---- Events ------------------------------------------------------------

  absl::Status AppendEvent(const NewEvent& event);
  // Newest first. experiment_id 0: all; before_id 0: from the newest.
  absl::StatusOr<std::vector<EventRecord>> ListEvents(int64_t experiment_id, int64_t before_id,
                                                      int limit);
  // Oldest first, ids > revision. experiment_id 0: all.
  absl::StatusOr<std::vector<EventRecord>> EventsAfter(int64_t revision, int64_t experiment_id,
                                                       int limit);
  absl::StatusOr<int64_t> LatestRevision();

  // ---- Notification cursors (store_notify.cc) ----------------------------

  // The id of the newest event notification sink `sink` has dealt with;
  // nullopt for a sink never seen.
  absl::StatusOr<std::optional<int64_t>> GetNotifyCursor(absl::string_view sink);
  // Records that `sink` has dealt with every event up to `event_id`. No
  // event is appended (delivery is not a change of anything watched).
  absl::Status SetNotifyCursor(absl::string_view sink, int64_t event_id);

  // ---- Flag schemas (store_schemas.cc) -----------------------------------

  // Stores `schema` (validated with ValidateFlagSchema; defaults normalised)
  // as the next version for its base command: 1 for a new command, else one
  // more than any version before, deleted ones included. Returns it with
  // the version set; schema.version is ignored. Old versions are kept.
  // Errors: INVALID_ARGUMENT for a schema ValidateFlagSchema refuses.
  absl::StatusOr<FlagSchema> ApplyFlagSchema(const FlagSchema& schema, absl::string_view actor);
  // The current schema of `base_command`; nullopt when none is declared or
  // the last one was deleted.
  absl::StatusOr<std::optional<FlagSchema>> GetFlagSchema(absl::string_view base_command);
  // One stored version. Errors: NOT_FOUND (also for a deletion marker).
  absl::StatusOr<FlagSchema> GetFlagSchemaVersion(absl::string_view base_command, int64_t version);
  // The current schema of every command that has one, by base command.
  absl::StatusOr<std::vector<FlagSchema>> ListFlagSchemas();
  // Records a deletion as the next version and returns that version; old
  // versions stay readable and a later apply continues the numbering.
  // Errors: NOT_FOUND when no schema is declared.
  absl::StatusOr<int64_t> DeleteFlagSchema(absl::string_view base_command, absl::string_view actor);

  // ---- Task templates (store_templates.cc) -------------------------------

  // Stores `yaml` with the code snapshots of its local file mounts
  // (`mounts`, by source) as the next version of template `name` (1 for a
  // new name, else one more than any version before, deleted ones
  // included), unless it equals the current version's text and snapshot
  // ids: then nothing is written and `changed` is false. The caller has
  // checked the YAML (common/model/task_template.h) and that the snapshots
  // exist. A dry run returns the version it would get.
  struct AppliedTemplate {
    TaskTemplateRecord record;
    bool changed = false;
  };
  absl::StatusOr<AppliedTemplate> ApplyTaskTemplate(
      absl::string_view name, absl::string_view yaml, absl::string_view actor,
      WriteMode mode = WriteMode::kCommit,
      const std::map<std::string, CodeSnapshotRef>& mounts = {});
  // The current version; nullopt when none exists or the last was deleted.
  absl::StatusOr<std::optional<TaskTemplateRecord>> GetTaskTemplate(absl::string_view name);
  // One stored version. Errors: NOT_FOUND (also for a deletion marker).
  absl::StatusOr<TaskTemplateRecord> GetTaskTemplateVersion(absl::string_view name,
                                                            int64_t version);
  // The current version of every template, by name.
  absl::StatusOr<std::vector<TaskTemplateRecord>> ListTaskTemplates();
  // Records a deletion as the next version and returns that version.
  // Errors: NOT_FOUND when no such template exists; FAILED_PRECONDITION
  // while experiments that are not deleted name it (the message lists up
  // to five).
  absl::StatusOr<int64_t> DeleteTaskTemplate(absl::string_view name, absl::string_view actor);

  // ---- Code snapshots -----------------------------------------------------

  // Every code snapshot id an experiment (deleted ones included: they can
  // be restored), a job or a template version names: what the snapshot
  // collector must keep (daemon/snapshots/snapshot_gc.h).
  absl::StatusOr<std::set<std::string>> ReferencedCodeSnapshots();

  // Runs SQLite's integrity check; OK when the file is sound.
  absl::Status CheckIntegrity();

  // ---- Availability -------------------------------------------------------

  // Why writes fail right now, "" when they work. A write that SQLite
  // refuses as read-only (SQLITE_READONLY: e.g. the file system went
  // read-only) puts the store in this state: every later write first opens
  // a fresh connection and takes over when that one can write to the same
  // database (same installation id), so the store recovers without a
  // restart once the cause is fixed; until then writes fail at once with
  // FAILED_PRECONDITION and this message, and reads are served. Asking
  // tries that recovery too. Damage (the background check found some, or
  // a write met SQLITE_CORRUPT) refuses writes for good: writes fail with
  // DATA_LOSS and this message, which says how to restore. Answers without
  // the store's lock while writes work (health asks on every call).
  std::string WriteProblem();
  // The background check of the history (OpenOptions::
  // check_history_in_background), null without one: Pending() says which
  // tables it has yet to check.
  BackgroundCheck* history_check() { return history_check_.get(); }

  // ---- Backups (store_backup.cc) -----------------------------------------

  // Store::Backup()
  //
  // Copies the database with SQLite's online backup API, in one read
  // transaction on a connection of its own: the copy is one consistent
  // snapshot, and writers are not blocked meanwhile (WAL; only the
  // checkpoint waits for the copy). The copy is written next to the
  // database (same file system and permissions: it needs as much free
  // space as the database) and unlinked once complete. One backup at a
  // time.
  // Errors: UNAVAILABLE while another backup runs; RESOURCE_EXHAUSTED when
  // the disk is full; the store's.
  absl::StatusOr<std::unique_ptr<BackupFile>> Backup();

  // Runs `sql` on the store's writer connection, e.g. "PRAGMA
  // query_only=1", which makes SQLite refuse writes as read-only.
  absl::Status ExecForTesting(absl::string_view sql);

  // The query plan of every statement this store has prepared so far, by
  // its SQL: tests assert that per-experiment reads use an index.
  absl::StatusOr<std::map<std::string, std::string>> QueryPlansForTesting();

  // Waits until at least `n` writes are queued behind the batch being
  // written (tests line writes up for one batch); false after `timeout`.
  bool AwaitQueuedWritesForTesting(size_t n, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(queue_mu_);
  // While `fail`, every COMMIT fails (SQLite's commit hook vetoes it and
  // the transaction is rolled back).
  void FailCommitsForTesting(bool fail) ABSL_LOCKS_EXCLUDED(mu_);

  // Write transactions begun so far (committed, rolled back or dry runs;
  // a batch of concurrent writes is one): what a caller that batches
  // writes saves (tests count them).
  int64_t TransactionCountForTesting() const { return transactions_.load(); }

  // The single writer's work so far, for /metrics: how many transactions
  // it ran, how many writes they carried (each write one savepoint of a
  // group-commit batch), and how long it held the writer doing so. A
  // `busy` that grows nearly as fast as the clock means writes queue
  // behind each other: more clients will not write faster.
  struct WriteStats {
    int64_t transactions = 0;
    int64_t writes = 0;
    absl::Duration busy;
  };
  WriteStats write_stats() const;

 private:
  Store(std::string path, std::unique_ptr<Connection> db, std::unique_ptr<ReaderPool> readers,
        Clock clock, std::string installation_id);
  // Runs the start-up check of an existing file (OpenOptions) on `db`;
  // returns the tables left for the background check.
  static absl::StatusOr<std::vector<std::string>> CheckAtOpen(Connection& db,
                                                              const std::string& path,
                                                              const OpenOptions& options);

  // Store::Read()
  //
  // Runs `body` (returning T or absl::StatusOr<T>) on a read connection in
  // one read transaction (one snapshot for all its statements) and returns
  // its result: on a connection of readers_ without the store's lock, or,
  // without readers_, on the writer connection under mu_. `body` must only
  // use the connection it is given (never db_) and must not call a public
  // method of the store.
  template <typename Body>
  auto Read(Body&& body) -> absl::StatusOr<internal_read::ResultType<Body>>;
  absl::Status ReadWith(const std::function<absl::Status(Connection&)>& body)
      ABSL_LOCKS_EXCLUDED(mu_);

  // Runs `body` under the lock in an IMMEDIATE transaction, possibly
  // shared with concurrent writes (group commit, above): its changes are
  // kept when it returns OK, rolled back otherwise (and always for a dry
  // run). Returns once that transaction committed and the listener was
  // notified of its events: `body`'s error, or the transaction's.
  // Bodies are lambdas marked ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) (they run
  // under the lock; clang's -Wthread-safety checks them), possibly on
  // another writer's thread.
  absl::Status Transaction(const std::function<absl::Status()>& body,
                           WriteMode mode = WriteMode::kCommit)
      ABSL_LOCKS_EXCLUDED(mu_, queue_mu_);
  // One write waiting in Transaction.
  struct PendingWrite {
    const std::function<absl::Status()>* body = nullptr;
    WriteMode mode = WriteMode::kCommit;
    // Set by the batch's leader before `done`.
    absl::Status status;
    // Guarded by queue_mu_: the write has its final status.
    bool done = false;
  };
  // What RunBatch did: the writes that ran (each has its status), the
  // batch's newest event id when it committed (0: none or failed), and the
  // writes it did not get to (the next batch runs them first).
  struct BatchOutcome {
    std::vector<PendingWrite*> ran;
    std::vector<PendingWrite*> not_run;
    int64_t revision = 0;
  };
  // Writes `batch` in one transaction (group commit, above).
  BatchOutcome RunBatch(const std::vector<PendingWrite*>& batch) ABSL_LOCKS_EXCLUDED(mu_);
  // Runs one body of a batch inside its own savepoint; returns its status.
  // The update time of a row written now that was last written at
  // `previous`: the clock, or just after `previous` when the clock has not
  // moved on (writes in the same millisecond), so an experiment's
  // update_time increases with every write and a client can tell the
  // newer of two copies by it (the dashboard keeps the newer of a write's
  // answer and the Watch message of a later write).
  int64_t NextUpdateMs(int64_t previous) const { return std::max(clock_(), previous + 1); }
  absl::Status RunInSavepointLocked(const PendingWrite& write) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status InsertEvent(const NewEvent& event) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inserts `events` (after the write's own), each defaulting to
  // experiment `experiment_id`.
  absl::Status InsertEvents(std::vector<NewEvent> events, int64_t experiment_id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // What ListEvents and EventsAfter read: oldest first the ids above
  // `bound`, or newest first the ids below it (0: any).
  struct EventRange {
    int64_t experiment_id = 0;  // 0: all
    bool oldest_first = false;
    int64_t bound = 0;
    int limit = 0;
  };
  absl::StatusOr<std::vector<EventRecord>> ReadEvents(const EventRange& range)
      ABSL_LOCKS_EXCLUDED(mu_);
  // Errors: NOT_FOUND.
  // Readers take the connection to read from: the writer's (under mu_,
  // inside a Transaction) or a Read's.
  absl::StatusOr<ExperimentRecord> LoadExperiment(Connection& db, int64_t id);
  absl::Status WriteExperiment(const ExperimentRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes only the observed fields, state_since and updated_at
  // (UpdateObserved's).
  absl::Status WriteObserved(const ExperimentRecord& record) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Errors: NOT_FOUND.
  absl::StatusOr<JobRecord> LoadJob(Connection& db, int64_t id);
  absl::Status WriteJob(const JobRecord& job) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // UpdateJob's body. REQUIRES: inside Transaction.
  absl::StatusOr<JobRecord> MutateJobLocked(int64_t id, const JobMutation& mutate)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<int64_t> MaxJobId(int64_t experiment_id) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The newest job of each of `experiments` that has any, in their order:
  // one query over the ids' range on jobs_by_experiment (not one per
  // experiment). REQUIRES: `experiments` ascending by id.
  absl::StatusOr<std::vector<JobRecord>> LatestJobs(
      Connection& db, const std::vector<ExperimentRecord>& experiments);
  // The experiments a selection addresses, by id.
  struct BulkCandidate;
  absl::StatusOr<std::vector<BulkCandidate>> SelectCandidates(Connection& db,
                                                              const ExperimentSelection& selection,
                                                              bool allow_deleted,
                                                              const BulkOptions& options);
  // BulkResult::experiments for `ids`. REQUIRES: inside Transaction.
  absl::Status LoadBulkRecords(BulkResult* result, const BulkOptions& options)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The same from `candidates` (result->ids, in order), using the records
  // SelectCandidates already read (named by id) instead of reading them
  // again; those must be up to date. REQUIRES: inside Transaction.
  absl::Status BulkRecordsFrom(std::vector<BulkCandidate>& candidates, BulkResult* result,
                               const BulkOptions& options) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The version after the highest (deleted ones included) that
  // `versioned_sql` (a `SELECT coalesce(max(version), 0) ... WHERE key = ?`)
  // finds for `key`: 1 for a new key.
  absl::StatusOr<int64_t> NextVersionLocked(const std::string& versioned_sql, absl::string_view key)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Inserts a deletion marker with `insert_sql` (?1 key, ?2 version,
  // ?3 actor, ?4 time) as the next version of `key` and appends a
  // daemon-wide event `type` / `reason` saying `what` was deleted. Returns
  // the marker's version. REQUIRES: inside Transaction.
  struct DeletionMarker {
    std::string max_version_sql;
    std::string insert_sql;
    std::string type;
    std::string reason;
    std::string what;
  };
  absl::StatusOr<int64_t> InsertDeletionMarkerLocked(const DeletionMarker& marker,
                                                     absl::string_view key, absl::string_view actor)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<std::optional<TaskTemplateRecord>> CurrentTaskTemplate(Connection& db,
                                                                        absl::string_view name);
  // REQUIRES: inside Transaction.
  absl::Status SetRenderedTask(int64_t id, const std::string& rendered)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Deletes the copies an interrupted Backup left next to `db_path`.
  static void RemoveBackupLeftovers(const std::string& db_path);
  // OK when a write may be tried: after a read-only failure, first swaps in
  // a fresh connection that can write (see WriteProblem).
  absl::Status RecoverWritesLocked() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Puts the store in the read-only state when `status` is SQLite's
  // READONLY, in the damaged state when it is CORRUPT.
  void NoteWriteFailureLocked(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Refuses every later write because of `damage` (DATA_LOSS).
  void NoteDamage(const absl::Status& damage) ABSL_LOCKS_EXCLUDED(mu_);
  void NoteDamageLocked(const absl::Status& damage) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Constant after construction.
  const std::string path_;
  const std::string installation_id_;
  Clock clock_;
  CommitListener listener_;
  std::atomic<int64_t> transactions_{0};
  std::atomic<int64_t> batched_writes_{0};
  std::atomic<int64_t> writer_busy_ns_{0};
  // True while a backup runs: a flag, not a lock (a second Backup is
  // refused, never made to wait).
  std::atomic<bool> backup_running_{false};

  // Writes waiting for a batch, oldest first, and whether a batch is
  // being written (by its leader). Never held together with mu_.
  static constexpr size_t kMaxBatch = 256;
  absl::Mutex queue_mu_;
  std::deque<PendingWrite*> queue_ ABSL_GUARDED_BY(queue_mu_);
  bool leading_ ABSL_GUARDED_BY(queue_mu_) = false;

  // State below is protected by mu_.
  absl::Mutex mu_;
  // The writer connection (and the reader without readers_).
  std::unique_ptr<Connection> db_ ABSL_GUARDED_BY(mu_);
  // Newest event id of the open transaction.
  int64_t pending_revision_ ABSL_GUARDED_BY(mu_) = 0;
  // Non-empty: writes are refused (read-only).
  std::string write_problem_ ABSL_GUARDED_BY(mu_);
  // Non-empty: the database is damaged; writes are refused for good.
  std::string damage_ ABSL_GUARDED_BY(mu_);
  // Whether write_problem_ or damage_ is set: read without mu_, so asking
  // about a store that writes never waits for a write in progress.
  std::atomic<bool> writes_refused_{false};

  // Read-only connections for Read; null for ":memory:" (or when
  // OpenOptions::reader_connections is 0). Constant after construction.
  // Declared after db_ so it closes first: the writer, closing last, still
  // checkpoints the WAL into the database file as it did alone.
  const std::unique_ptr<ReaderPool> readers_;
  // Set once by Open; stopped first by ~Store (it calls NoteDamage).
  std::unique_ptr<BackgroundCheck> history_check_;
};

template <typename Body>
auto Store::Read(Body&& body) -> absl::StatusOr<internal_read::ResultType<Body>> {
  std::optional<internal_read::ResultType<Body>> out;
  absl::Status status = ReadWith([&](Connection& db) -> absl::Status {
    auto result = sqlite_internal::AsStatusOr(body(db));
    if (!result.ok()) return result.status();
    out = *std::move(result);
    return absl::OkStatus();
  });
  if (!status.ok()) return status;
  return *std::move(out);
}

}  // namespace skydeck::store
