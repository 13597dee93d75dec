#include "daemon/store/migrations.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace skydeck::store {
namespace {

// Times are UTC unix milliseconds. Text-encoded JSON columns: flags (object of
// typed scalars, see common/model/flag_value.h), labels (object of strings),
// conditions (array of objects).
constexpr absl::string_view kV1 = R"sql(
CREATE TABLE experiments (
  id                  INTEGER PRIMARY KEY AUTOINCREMENT,
  name                TEXT NOT NULL,
  description         TEXT NOT NULL DEFAULT '',
  base_command        TEXT NOT NULL,
  flags               TEXT NOT NULL DEFAULT '{}',
  run_name            TEXT NOT NULL DEFAULT '',
  nodes               INTEGER NOT NULL DEFAULT 1 CHECK (nodes >= 1),
  gpus                INTEGER NOT NULL DEFAULT 0 CHECK (gpus >= 0),
  gpu_type            TEXT NOT NULL DEFAULT '',
  infra               TEXT NOT NULL DEFAULT '',
  spot                INTEGER NOT NULL DEFAULT 0 CHECK (spot IN (0, 1)),
  labels              TEXT NOT NULL DEFAULT '{}',
  max_restarts        INTEGER NOT NULL DEFAULT 3 CHECK (max_restarts >= 0),
  desired_state       TEXT NOT NULL
                      CHECK (desired_state IN ('RUNNING', 'STOPPED', 'TERMINATED')),
  generation          INTEGER NOT NULL DEFAULT 1,
  observed_generation INTEGER NOT NULL DEFAULT 0,
  observed_state      TEXT NOT NULL DEFAULT 'IDLE',
  conditions          TEXT NOT NULL DEFAULT '[]',
  restart_count       INTEGER NOT NULL DEFAULT 0,
  next_retry_at       INTEGER,
  -- The current run (since desired state last became RUNNING) consists of
  -- the jobs with id > run_after_job_id; restart budgets count those only.
  run_after_job_id    INTEGER NOT NULL DEFAULT 0,
  created_at          INTEGER NOT NULL,
  updated_at          INTEGER NOT NULL,
  deleted_at          INTEGER
) STRICT;

-- Names are unique among live experiments only: a deleted name can be reused.
CREATE UNIQUE INDEX experiments_live_name ON experiments (name)
  WHERE deleted_at IS NULL;

CREATE TABLE jobs (
  id              INTEGER PRIMARY KEY AUTOINCREMENT,
  experiment_id   INTEGER NOT NULL REFERENCES experiments (id) ON DELETE CASCADE,
  attempt         INTEGER NOT NULL CHECK (attempt >= 1),
  backend         TEXT NOT NULL,
  backend_name    TEXT NOT NULL,
  backend_job_id  TEXT NOT NULL DEFAULT '',
  status          TEXT NOT NULL,
  backend_status  TEXT NOT NULL DEFAULT '',
  command         TEXT NOT NULL,
  flags           TEXT NOT NULL DEFAULT '{}',
  nodes           INTEGER NOT NULL,
  gpus            INTEGER NOT NULL,
  gpu_type        TEXT NOT NULL DEFAULT '',
  infra           TEXT NOT NULL DEFAULT '',
  spot            INTEGER NOT NULL DEFAULT 0,
  run_name        TEXT NOT NULL DEFAULT '',
  submitted_at    INTEGER NOT NULL,
  started_at      INTEGER,
  ended_at        INTEGER,
  exit_code       INTEGER,
  failure_reason  TEXT NOT NULL DEFAULT '',
  recovery_count  INTEGER NOT NULL DEFAULT 0,
  UNIQUE (experiment_id, attempt)
) STRICT;

-- At most one live job per experiment: a job is live until its end time is
-- recorded. This is the last guard against double launches.
CREATE UNIQUE INDEX jobs_one_live_per_experiment ON jobs (experiment_id)
  WHERE ended_at IS NULL;
CREATE INDEX jobs_live ON jobs (id) WHERE ended_at IS NULL;
CREATE INDEX jobs_by_backend_name ON jobs (backend_name);

-- The change log. `id` is the revision Watch resumes from.
CREATE TABLE events (
  id             INTEGER PRIMARY KEY AUTOINCREMENT,
  time           INTEGER NOT NULL,
  experiment_id  INTEGER REFERENCES experiments (id) ON DELETE CASCADE,
  job_id         INTEGER,
  type           TEXT NOT NULL,
  reason         TEXT NOT NULL DEFAULT '',
  message        TEXT NOT NULL DEFAULT '',
  actor          TEXT NOT NULL
) STRICT;
CREATE INDEX events_by_experiment ON events (experiment_id, id);

-- Facts about this database, e.g. installation_id: a random tag put into
-- backend job names so two SkyDeck databases never claim each other's jobs.
CREATE TABLE meta (
  key    TEXT PRIMARY KEY,
  value  TEXT NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('installation_id', lower(hex(randomblob(4))));
)sql";

// Declared flag schemas (common/model/flag_schema.h). Every apply adds a row with
// the next version, so old versions stay readable; a delete adds a row with
// deleted = 1, so versions keep increasing across delete and re-apply. The
// current schema of a command is its highest version, unless deleted.
constexpr absl::string_view kV2 = R"sql(
CREATE TABLE flag_schemas (
  base_command  TEXT NOT NULL,
  version       INTEGER NOT NULL CHECK (version >= 1),
  -- The native JSON form (FlagSchemaToJson), without version.
  schema        TEXT NOT NULL,
  deleted       INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  actor         TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  PRIMARY KEY (base_command, version)
) STRICT;
)sql";

// A live job the backend stopped reporting: it may have ended in any way
// (e.g. SUCCEEDED while nobody watched, then SkyPilot's jobs controller
// stopped and forgot it), so the reconciler must not relaunch it on its own.
// Jobs the poller of v2 marked LOST for that reason (its exact message)
// are such jobs too.
constexpr absl::string_view kV3 = R"sql(
ALTER TABLE jobs ADD COLUMN outcome_unknown INTEGER NOT NULL DEFAULT 0
  CHECK (outcome_unknown IN (0, 1));
UPDATE jobs SET outcome_unknown = 1
  WHERE status = 'LOST' AND failure_reason = 'the backend no longer reports this job';
)sql";

// Workloads: an experiment names a task template and has envs, secret
// names (never values) and a workdir; a job records what it ran with, the
// template version, the code's git commit and the rendered task (secrets
// redacted). Task templates are versioned like flag schemas (v2): every
// changed apply adds a row, a delete adds a row with deleted = 1, and the
// current template is the highest version unless deleted. envs is a JSON
// object of strings, secrets a JSON array of names.
constexpr absl::string_view kV4 = R"sql(
ALTER TABLE experiments ADD COLUMN template TEXT NOT NULL DEFAULT '';
ALTER TABLE experiments ADD COLUMN envs TEXT NOT NULL DEFAULT '{}';
ALTER TABLE experiments ADD COLUMN secrets TEXT NOT NULL DEFAULT '[]';
ALTER TABLE experiments ADD COLUMN workdir TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN template TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN template_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE jobs ADD COLUMN envs TEXT NOT NULL DEFAULT '{}';
ALTER TABLE jobs ADD COLUMN secrets TEXT NOT NULL DEFAULT '[]';
ALTER TABLE jobs ADD COLUMN workdir TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN code_commit TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN code_dirty INTEGER NOT NULL DEFAULT 0 CHECK (code_dirty IN (0, 1));
ALTER TABLE jobs ADD COLUMN rendered_task TEXT NOT NULL DEFAULT '';
CREATE TABLE task_templates (
  name        TEXT NOT NULL,
  version     INTEGER NOT NULL CHECK (version >= 1),
  -- The task YAML as applied; '' for a deletion marker.
  yaml        TEXT NOT NULL,
  deleted     INTEGER NOT NULL DEFAULT 0 CHECK (deleted IN (0, 1)),
  actor       TEXT NOT NULL,
  created_at  INTEGER NOT NULL,
  PRIMARY KEY (name, version)
) STRICT;
CREATE INDEX experiments_by_template ON experiments (template) WHERE template != '';
)sql";

// Code snapshots (daemon/snapshots/): an experiment's local workdir is run
// from a snapshot taken when the workdir was set; a job records the one it
// ran; a template version records one per local file mount source. The
// snapshots themselves live in DATA_DIR/snapshots, not here: these columns
// are what the collector keeps them for. experiments.code_snapshot is ''
// or a JSON object {id, size_bytes, file_count, file_name, git_commit,
// git_dirty}; task_templates.mount_snapshots an object of those by source.
constexpr absl::string_view kV5 = R"sql(
ALTER TABLE experiments ADD COLUMN code_snapshot TEXT NOT NULL DEFAULT '';
ALTER TABLE jobs ADD COLUMN code_snapshot TEXT NOT NULL DEFAULT '';
ALTER TABLE task_templates ADD COLUMN mount_snapshots TEXT NOT NULL DEFAULT '{}';
)sql";

// An experiment's jobs, newest last: its job page (ListJobs) and the newest
// job of every experiment on a list page (ListExperiments with
// include_latest_jobs, one max per group) read this index instead of the
// whole table.
constexpr absl::string_view kV6 = R"sql(
CREATE INDEX IF NOT EXISTS jobs_by_experiment ON jobs (experiment_id, id);
)sql";

// GPU-hours and links (common/model/gpu_usage.h, link_template.h): the
// time a job was paused between start and end (preemption gaps the backend
// reported) and since when the current pause lasts (NULL: none); the link
// a user attached to an experiment (the seed's wandb_link). The index
// serves GetCost's "jobs that ran after T".
constexpr absl::string_view kV7 = R"sql(
ALTER TABLE jobs ADD COLUMN paused_ms INTEGER NOT NULL DEFAULT 0 CHECK (paused_ms >= 0);
ALTER TABLE jobs ADD COLUMN paused_since INTEGER;
ALTER TABLE experiments ADD COLUMN link TEXT NOT NULL DEFAULT '';
CREATE INDEX IF NOT EXISTS jobs_by_end ON jobs (ended_at) WHERE started_at IS NOT NULL;
)sql";

// Stars, order and time in state (issue 20). `starred` and `position` are
// the user's marks, outside the spec (no generation bump). `position` is a
// sparse order within a dashboard group: NULL means "the id", so a drag
// writes one row (the midpoint of its new neighbours). `state_since` and
// `status_since` are when observed_state / status last changed; rows
// older than this version get their best known time: an experiment's last
// update, a job's end, start or submission.
constexpr absl::string_view kV8 = R"sql(
ALTER TABLE experiments ADD COLUMN starred INTEGER NOT NULL DEFAULT 0 CHECK (starred IN (0, 1));
ALTER TABLE experiments ADD COLUMN position REAL;
ALTER TABLE experiments ADD COLUMN state_since INTEGER NOT NULL DEFAULT 0;
UPDATE experiments SET state_since = updated_at;
ALTER TABLE jobs ADD COLUMN status_since INTEGER NOT NULL DEFAULT 0;
UPDATE jobs SET status_since = coalesce(ended_at, started_at, submitted_at);
)sql";

// Notifications (daemon/notify/): the events table is the outbox, written
// in the same transaction as every change; each sink of --notify keeps here
// the id of the newest event it has dealt with (delivered, or not wanted).
// A sink seen for the first time starts at the newest event, so it is not
// sent the history before it existed. IF NOT EXISTS: like kV6, so a
// database whose version was set back (tests undo earlier migrations)
// migrates forward again.
constexpr absl::string_view kV9 = R"sql(
CREATE TABLE IF NOT EXISTS notify_cursors (
  sink        TEXT PRIMARY KEY,
  event_id    INTEGER NOT NULL,
  updated_at  INTEGER NOT NULL
) STRICT;
)sql";

// GPU time of the jobs that ended, by GPU type (upper case) and spot, in
// GPU-milliseconds: /metrics' GPU-hour counters read this and add the live
// jobs, instead of summing every job that ever ran on each scrape (126 ms
// at 1,000,000 jobs, and growing with the history). An ended job's time
// no longer changes, so triggers keep the sums exact in the transaction
// that ends, edits, imports or purges a job. The formula is RunningMs
// (common/model/gpu_usage.cc) with the job's end as "now"; store_cost_test
// keeps the sums equal to it. Rebuilt from the jobs when run again (a
// database whose version was set back).
constexpr absl::string_view kV10 = R"sql(
CREATE TABLE IF NOT EXISTS gpu_time_ended (
  gpu_type  TEXT NOT NULL,
  spot      INTEGER NOT NULL,
  gpu_ms    INTEGER NOT NULL,
  PRIMARY KEY (gpu_type, spot)
) STRICT, WITHOUT ROWID;
DELETE FROM gpu_time_ended;
INSERT INTO gpu_time_ended (gpu_type, spot, gpu_ms)
  SELECT upper(j.gpu_type), j.spot, sum(j.nodes * j.gpus * max(0, max(j.ended_at, j.started_at) - j.started_at - j.paused_ms - CASE WHEN j.paused_since IS NULL THEN 0 ELSE max(0, max(j.ended_at, j.started_at) - j.paused_since) END))
  FROM jobs j WHERE j.ended_at IS NOT NULL AND j.started_at IS NOT NULL AND j.gpus > 0 AND j.nodes > 0 GROUP BY 1, 2;
CREATE TRIGGER IF NOT EXISTS gpu_time_ended_insert AFTER INSERT ON jobs
WHEN NEW.ended_at IS NOT NULL AND NEW.started_at IS NOT NULL AND NEW.gpus > 0 AND NEW.nodes > 0
BEGIN
  INSERT INTO gpu_time_ended (gpu_type, spot, gpu_ms)
    VALUES (upper(NEW.gpu_type), NEW.spot, NEW.nodes * NEW.gpus * max(0, max(NEW.ended_at, NEW.started_at) - NEW.started_at - NEW.paused_ms - CASE WHEN NEW.paused_since IS NULL THEN 0 ELSE max(0, max(NEW.ended_at, NEW.started_at) - NEW.paused_since) END))
    ON CONFLICT (gpu_type, spot) DO UPDATE SET gpu_ms = gpu_ms + excluded.gpu_ms;
END;
CREATE TRIGGER IF NOT EXISTS gpu_time_ended_delete AFTER DELETE ON jobs
WHEN OLD.ended_at IS NOT NULL AND OLD.started_at IS NOT NULL AND OLD.gpus > 0 AND OLD.nodes > 0
BEGIN
  UPDATE gpu_time_ended SET gpu_ms = gpu_ms - OLD.nodes * OLD.gpus * max(0, max(OLD.ended_at, OLD.started_at) - OLD.started_at - OLD.paused_ms - CASE WHEN OLD.paused_since IS NULL THEN 0 ELSE max(0, max(OLD.ended_at, OLD.started_at) - OLD.paused_since) END)
    WHERE gpu_type = upper(OLD.gpu_type) AND spot = OLD.spot;
END;
CREATE TRIGGER IF NOT EXISTS gpu_time_ended_update AFTER UPDATE ON jobs
WHEN (OLD.ended_at IS NOT NULL AND OLD.started_at IS NOT NULL AND OLD.gpus > 0 AND OLD.nodes > 0) OR (NEW.ended_at IS NOT NULL AND NEW.started_at IS NOT NULL AND NEW.gpus > 0 AND NEW.nodes > 0)
BEGIN
  UPDATE gpu_time_ended SET gpu_ms = gpu_ms - OLD.nodes * OLD.gpus * max(0, max(OLD.ended_at, OLD.started_at) - OLD.started_at - OLD.paused_ms - CASE WHEN OLD.paused_since IS NULL THEN 0 ELSE max(0, max(OLD.ended_at, OLD.started_at) - OLD.paused_since) END)
    WHERE OLD.ended_at IS NOT NULL AND OLD.started_at IS NOT NULL AND OLD.gpus > 0 AND OLD.nodes > 0 AND gpu_type = upper(OLD.gpu_type) AND spot = OLD.spot;
  INSERT INTO gpu_time_ended (gpu_type, spot, gpu_ms)
    SELECT upper(NEW.gpu_type), NEW.spot, NEW.nodes * NEW.gpus * max(0, max(NEW.ended_at, NEW.started_at) - NEW.started_at - NEW.paused_ms - CASE WHEN NEW.paused_since IS NULL THEN 0 ELSE max(0, max(NEW.ended_at, NEW.started_at) - NEW.paused_since) END) WHERE NEW.ended_at IS NOT NULL AND NEW.started_at IS NOT NULL AND NEW.gpus > 0 AND NEW.nodes > 0
    ON CONFLICT (gpu_type, spot) DO UPDATE SET gpu_ms = gpu_ms + excluded.gpu_ms;
END;
)sql";

constexpr std::array<absl::string_view, 10> kMigrations = {kV1, kV2, kV3, kV4, kV5,
                                                           kV6, kV7, kV8, kV9, kV10};

absl::StatusOr<int> UserVersion(Connection& db) {
  auto st = db.Prepare("PRAGMA user_version");
  if (!st.ok()) return st.status();
  absl::StatusOr<std::optional<int64_t>> version = (*st)->ReadFirst(IntColumn(0));
  if (!version.ok()) return version.status();
  return static_cast<int>(version->value_or(0));
}

}  // namespace

int LatestSchemaVersion() { return static_cast<int>(kMigrations.size()); }

absl::Status Migrate(Connection& db) {
  auto version = UserVersion(db);
  if (!version.ok()) return version.status();
  if (*version > LatestSchemaVersion()) {
    return absl::FailedPreconditionError(
        absl::StrCat("database schema version ", *version, " is newer than this skydeckd (",
                     LatestSchemaVersion(), "); upgrade skydeckd"));
  }
  for (int v = *version; v < LatestSchemaVersion(); ++v) {
    std::string sql = absl::StrCat("BEGIN IMMEDIATE;\n", kMigrations[v],
                                   "\nPRAGMA user_version = ", v + 1, ";\nCOMMIT;");
    if (absl::Status s = db.Exec(sql); !s.ok()) {
      (void)db.Exec("ROLLBACK");
      return absl::Status(s.code(),
                          absl::StrCat("migrating to schema version ", v + 1, ": ", s.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace skydeck::store
