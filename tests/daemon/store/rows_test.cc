// Contracts of daemon/store/rows.h: rows read into records (NULLs, damaged
// JSON, unknown states), the JSON columns' round trips, and ReadById.
#include "daemon/store/rows.h"

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"

#include "daemon/store/migrations.h"

namespace skydeck::store::internal {
namespace {

// A migrated in-memory database with one experiment (id 1, "exp") as
// CreateExperiment inserts it: every optional column at its default.
struct RowsFixture {
  std::unique_ptr<Connection> db;

  RowsFixture() {
    auto opened = Connection::Open(":memory:");
    REQUIRE(opened.ok());
    db = *std::move(opened);
    REQUIRE(Migrate(*db).ok());
    REQUIRE(db->Exec("INSERT INTO experiments (name, base_command, desired_state, created_at, "
                     "updated_at) VALUES ('exp', 'python train.py', 'STOPPED', 10, 20)")
                .ok());
  }

  // Sets experiment 1's `column` to the SQL expression `value`.
  void SetExperiment(const std::string& column, const std::string& value) {
    REQUIRE(db->Exec(absl::StrCat("UPDATE experiments SET ", column, " = ", value, " WHERE id = 1"))
                .ok());
  }

  absl::StatusOr<ExperimentRecord> Experiment() {
    return ReadById(
        *db, absl::StrCat("SELECT ", kExperimentColumns, " FROM experiments e WHERE e.id = ?"), 1,
        ReadExperiment, "experiment");
  }

  // Inserts a job of experiment 1 and returns its id.
  int64_t InsertJob(const std::string& status, const std::string& ended_at) {
    REQUIRE(db->Exec(absl::StrCat(
                         "INSERT INTO jobs (experiment_id, attempt, backend, backend_name, status, "
                         "command, nodes, gpus, submitted_at, ended_at) VALUES (1, "
                         "(SELECT coalesce(max(attempt), 0) + 1 FROM jobs), 'local', 'n', '",
                         status, "', 'cmd', 1, 0, 30, ", ended_at, ")"))
                .ok());
    return db->LastInsertRowId();
  }

  absl::StatusOr<JobRecord> Job(int64_t id) {
    return ReadById(*db, absl::StrCat("SELECT ", kJobColumns, " FROM jobs WHERE id = ?"), id,
                    ReadJob, "job");
  }
};

TEST_CASE("an experiment as inserted reads with NULL columns as unset", "[store][rows]") {
  RowsFixture f;
  auto r = f.Experiment();
  REQUIRE(r.ok());
  CHECK(r->id == 1);
  CHECK(r->spec.name == "exp");
  CHECK(r->spec.base_command == "python train.py");
  CHECK(r->spec.desired_state == DesiredState::kStopped);
  CHECK(r->spec.flags.empty());
  CHECK(r->spec.labels.empty());
  CHECK(r->spec.code.empty());
  CHECK(r->created_ms == 10);
  CHECK(r->updated_ms == 20);
  CHECK(r->next_retry_ms == 0);   // NULL
  CHECK(r->deleted_ms == 0);      // NULL
  CHECK(r->current_job_id == 0);  // no live job: NULL from the subquery
  CHECK(r->job_count == 0);
  CHECK(r->conditions.empty());
}

TEST_CASE("an experiment's JSON columns round-trip", "[store][rows]") {
  RowsFixture f;
  FlagMap flags{{"lr", 3e-4}, {"layers", int64_t{4}}, {"name", std::string("x")}};
  std::vector<Condition> conditions{{"Ready", true, "Launched", "ok", 55}};
  CodeSnapshotRef code{"snap1", 100, 3, "", "abc", true};
  Statement* st = *f.db->Prepare(
      "UPDATE experiments SET flags = ?, labels = ?, conditions = ?, envs = ?, secrets = ?, "
      "code_snapshot = ?, next_retry_at = ?, deleted_at = ? WHERE id = 1");
  st->Bind(1, FlagsToJson(flags));
  st->Bind(2, LabelsToJson({{"team", "a"}}));
  st->Bind(3, ConditionsToJson(conditions));
  st->Bind(4, EnvsToJson({{"A", "1"}}));
  st->Bind(5, NamesToJson({"token"}));
  st->Bind(6, CodeSnapshotRefToJson(code));
  st->Bind(7, 77);
  st->Bind(8, 88);
  REQUIRE(st->Run().ok());
  int64_t live = f.InsertJob("RUNNING", "NULL");

  auto r = f.Experiment();
  REQUIRE(r.ok());
  CHECK(r->spec.flags == flags);
  CHECK(r->spec.labels == Labels{{"team", "a"}});
  CHECK(r->conditions == conditions);
  CHECK(r->spec.envs == std::map<std::string, std::string>{{"A", "1"}});
  CHECK(r->spec.secrets == std::vector<std::string>{"token"});
  CHECK(r->spec.code == code);
  CHECK(r->next_retry_ms == 77);
  CHECK(r->deleted_ms == 88);
  CHECK(r->current_job_id == live);
  CHECK(r->job_count == 1);
}

TEST_CASE("damaged experiment columns are DATA_LOSS, unknown states an error", "[store][rows]") {
  RowsFixture f;
  SECTION("flags that are not JSON") {
    f.SetExperiment("flags", "'{not json'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("a label that is not a string") {
    f.SetExperiment("labels", "'{\"a\": 1}'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("a secret name that is not a string") {
    f.SetExperiment("secrets", "'[1]'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("a code snapshot that is not an object") {
    f.SetExperiment("code_snapshot", "'[]'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
  }
  // Valid JSON of the wrong shape: nlohmann throws on these when read
  // unchecked, which took the daemon down at start-up.
  SECTION("flags that are a JSON array") {
    f.SetExperiment("flags", "'[1]'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("labels that are a JSON string") {
    f.SetExperiment("labels", "'\"a\"'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("secrets that are a JSON object") {
    f.SetExperiment("secrets", "'{\"a\": \"b\"}'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("conditions that are a JSON object") {
    f.SetExperiment("conditions", "'{\"type\": \"Ready\"}'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("a condition that is a number") {
    f.SetExperiment("conditions", "'[5]'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("a condition with a mistyped field") {
    f.SetExperiment("conditions", "'[{\"type\": 5, \"status\": true}]'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
    f.SetExperiment("conditions", "'[{\"type\": \"Ready\", \"status\": \"yes\"}]'");
    CHECK(f.Experiment().status().code() == absl::StatusCode::kDataLoss);
  }
  SECTION("a desired state this binary does not know") {
    // The schema's CHECK keeps such a row out; a damaged file may not.
    REQUIRE(f.db->Exec("PRAGMA ignore_check_constraints = 1").ok());
    f.SetExperiment("desired_state", "'DANCING'");
    CHECK_FALSE(f.Experiment().ok());
  }
}

TEST_CASE("filter fields read only what list filters test", "[store][rows]") {
  RowsFixture f;
  f.SetExperiment("labels", "'{\"sweep\": \"lr\"}'");
  f.SetExperiment("flags", "'{not json'");  // not read by the filter
  Statement* st = *f.db->Prepare(
      absl::StrCat("SELECT ", kExperimentColumns, " FROM experiments e WHERE e.id = 1"));
  auto fields = st->ReadFirst(ReadExperimentFilterFields);
  REQUIRE(fields.ok());
  REQUIRE(fields->has_value());
  CHECK((*fields)->name == "exp");
  CHECK((*fields)->labels == Labels{{"sweep", "lr"}});
  CHECK((*fields)->desired_state == DesiredState::kStopped);
  CHECK((*fields)->observed_state == ObservedState::kIdle);
}

TEST_CASE("a job reads with NULL times and exit code as unset", "[store][rows]") {
  RowsFixture f;
  int64_t id = f.InsertJob("LAUNCHING", "NULL");
  auto j = f.Job(id);
  REQUIRE(j.ok());
  CHECK(j->experiment_id == 1);
  CHECK(j->attempt == 1);
  CHECK(j->status == JobStatus::kLaunching);
  CHECK(j->submitted_ms == 30);
  CHECK(j->started_ms == 0);
  CHECK(j->ended_ms == 0);
  CHECK_FALSE(j->exit_code.has_value());
  CHECK(j->flags.empty());

  REQUIRE(f.db->Exec(absl::StrCat("UPDATE jobs SET exit_code = 0, ended_at = 40 WHERE id = ", id))
              .ok());
  j = f.Job(id);
  REQUIRE(j.ok());
  CHECK(j->exit_code == std::optional<int>(0));  // 0 is a code, not "unset"
  CHECK(j->ended_ms == 40);
}

TEST_CASE("a job with a status this binary does not know reads as UNKNOWN", "[store][rows]") {
  RowsFixture f;
  int64_t id = f.InsertJob("FROM_THE_FUTURE", "50");
  auto j = f.Job(id);
  REQUIRE(j.ok());
  CHECK(j->status == JobStatus::kUnknown);
}

TEST_CASE("counts by state leave out names this binary does not know", "[store][rows]") {
  RowsFixture f;
  f.InsertJob("RUNNING", "NULL");
  f.InsertJob("FROM_THE_FUTURE", "60");
  f.InsertJob("FROM_THE_FUTURE", "70");
  f.InsertJob("SUCCEEDED", "80");
  Statement* st = *f.db->Prepare("SELECT status, count(*) FROM jobs GROUP BY status");
  auto counts = ReadCounts<JobStatus>(*st, ParseJobStatus);
  REQUIRE(counts.ok());
  CHECK(*counts ==
        std::map<JobStatus, int64_t>{{JobStatus::kRunning, 1}, {JobStatus::kSucceeded, 1}});
}

TEST_CASE("ReadById is NOT_FOUND for a missing id, naming it", "[store][rows]") {
  RowsFixture f;
  auto j = f.Job(404);
  CHECK(j.status().code() == absl::StatusCode::kNotFound);
  CHECK(j.status().message() == "job 404 not found");
}

TEST_CASE("events read NULL experiment and job as 0", "[store][rows]") {
  RowsFixture f;
  REQUIRE(f.db->Exec("INSERT INTO events (time, type, actor) VALUES (5, 'Purged', 'me'); "
                     "INSERT INTO events (time, experiment_id, job_id, type, reason, message, "
                     "actor) VALUES (6, 1, 9, 'Created', 'r', 'm', 'you')")
              .ok());
  Statement* st =
      *f.db->Prepare(absl::StrCat("SELECT ", kEventColumns, " FROM events ORDER BY id"));
  auto events = st->ReadAll(ReadEvent);
  REQUIRE(events.ok());
  REQUIRE(events->size() == 2);
  CHECK((*events)[0].experiment_id == 0);
  CHECK((*events)[0].job_id == 0);
  CHECK((*events)[0].time_ms == 5);
  CHECK((*events)[0].reason.empty());
  CHECK((*events)[1].experiment_id == 1);
  CHECK((*events)[1].job_id == 9);
  CHECK((*events)[1].type == "Created");
  CHECK((*events)[1].actor == "you");
}

TEST_CASE("JSON text is compact and never throws on invalid UTF-8", "[store][rows]") {
  CHECK(LabelsToJson({{"a", "b"}}) == R"({"a":"b"})");
  CHECK(NamesToJson({}) == "[]");
  CHECK(ConditionsToJson({}) == "[]");
  std::string bad = "x\xff";
  CHECK_NOTHROW(LabelsToJson({{"a", bad}}));
  CHECK(LabelsToJson({{"a", bad}}) == "{\"a\":\"x\xEF\xBF\xBD\"}");  // U+FFFD
}

TEST_CASE("code snapshot references: empty is '', damaged is DATA_LOSS", "[store][rows]") {
  CHECK(CodeSnapshotRefToJson(CodeSnapshotRef{}).empty());
  auto none = ReadCodeSnapshotRef("");
  REQUIRE(none.ok());
  CHECK(none->empty());
  CHECK(ReadCodeSnapshotRef("\"id\"").status().code() == absl::StatusCode::kDataLoss);
  CHECK(ReadCodeSnapshotRef(R"({"id": 5})").status().code() == absl::StatusCode::kDataLoss);

  std::map<std::string, CodeSnapshotRef> mounts{{"/data", {"s1", 1, 1, "f.txt", "", false}},
                                                {"/src", {"s2", 2, 5, "", "c0ffee", true}}};
  auto back = ReadMountSnapshots(MountSnapshotsToJson(mounts));
  REQUIRE(back.ok());
  CHECK(*back == mounts);
  auto empty = ReadMountSnapshots("");
  REQUIRE(empty.ok());
  CHECK(empty->empty());
  CHECK(ReadMountSnapshots("[]").status().code() == absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace skydeck::store::internal
