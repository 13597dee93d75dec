// Code snapshots on the `skypilot` backend: how the task names them, and
// their upload with SkyPilot's own protocol (POST /upload, chunked zip,
// file_mounts_mapping) against the wire-level fake API server, which
// extracts and translates them as the real server does
// (tests/skypilot_fake/fake_uploads.py).
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "yaml-cpp/yaml.h"

#include "daemon/backend/skypilot/skypilot_backend.h"
#include "daemon/backend/skypilot/task_yaml.h"
#include "daemon/backend/skypilot_fake_fixture.h"
#include "daemon/snapshots/local_snapshot.h"
#include "daemon/snapshots/snapshot_store.h"

namespace skydeck::backend::skypilot {
namespace {

namespace fs = std::filesystem;
using testing::SkyPilotFake;

constexpr char kUserId[] = "ab12cd34";

std::string ReadAll(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// A source directory, a snapshot store, and snapshots of the directory
// and of one file.
struct CodeFixture {
  fs::path root;
  std::unique_ptr<snapshots::SnapshotStore> store;
  std::string code_id, cfg_id;
  std::string big;  // incompressible: the zip needs several chunks

  CodeFixture() {
    static int counter = 0;
    root = fs::temp_directory_path() /
           ("skypilot_code_test_" + std::to_string(getpid()) + "_" + std::to_string(counter++));
    fs::remove_all(root);
    fs::create_directories(root / "code/pkg");
    std::ofstream(root / "code/train.py") << "print('snapshot')\n";
    std::mt19937 rng(7);
    for (int i = 0; i < 5000; ++i) big.push_back(static_cast<char>(rng()));
    std::ofstream(root / "code/pkg/weights.bin", std::ios::binary) << big;
    fs::create_symlink("train.py", root / "code/main.py");
    std::ofstream(root / "code/.skydeckignore") << "*.log\n";
    std::ofstream(root / "code/debug.log") << "left out\n";
    std::ofstream(root / "cfg.yaml") << "lr: 3e-4\n";
    auto opened = snapshots::SnapshotStore::Open((root / "store").string(), {});
    REQUIRE(opened.ok());
    store = *std::move(opened);
    auto code = snapshots::SnapshotLocalPath(*store, (root / "code").string(), "code");
    auto cfg = snapshots::SnapshotLocalPath(*store, (root / "cfg.yaml").string(), "cfg");
    REQUIRE(code.ok());
    REQUIRE(cfg.ok());
    code_id = code->snapshot.id;
    cfg_id = cfg->snapshot.id;
  }
  ~CodeFixture() { fs::remove_all(root); }

  JobSpec Spec(const std::string& name) const {
    JobSpec spec;
    spec.name = name;
    spec.command = "python train.py";
    spec.workdir = {Workdir::Kind::kLocal, "/home/me/project", "", ""};
    spec.workdir_snapshot = {code_id, ""};
    spec.template_yaml = "file_mounts:\n  /cfg.yaml: ./cfg.yaml\n  /data: s3://bucket/data\n";
    spec.mount_snapshots["./cfg.yaml"] = {cfg_id, "cfg.yaml"};
    return spec;
  }
};

SkyPilotOptions Options(const SkyPilotFake& fake, snapshots::SnapshotStore* store) {
  SkyPilotOptions options;
  options.endpoint = fake.endpoint();
  options.user_id = kUserId;
  options.user_name = "skydeck-test";
  options.timeouts.SetCalls(absl::Seconds(10));
  options.timeouts.connect = absl::Seconds(2);
  options.unreachable_backoff_initial = absl::ZeroDuration();
  options.launch_settle = absl::ZeroDuration();
  options.snapshots = store;
  options.upload_chunk_bytes = 2000;
  return options;
}

std::unique_ptr<SkyPilotBackend> MakeBackend(const SkyPilotOptions& options) {
  auto backend = SkyPilotBackend::Create(options);
  REQUIRE(backend.ok());
  return std::move(*backend);
}

YAML::Node Task(const std::string& yaml) {
  std::vector<YAML::Node> docs = YAML::LoadAll(yaml);
  REQUIRE(docs.size() == 2);
  return docs[1];
}

nlohmann::json Uploads(SkyPilotFake& fake) { return fake.Control("/_fake/uploads"); }

// Launches and waits until the launch request has named its managed job.
std::string LaunchResolved(Backend& backend, const JobSpec& spec) {
  absl::StatusOr<std::string> id = backend.Launch(spec);
  INFO(id.status().ToString());
  REQUIRE(id.ok());
  auto obs = backend.Query({*id});
  REQUIRE(obs.ok());
  REQUIRE(obs->size() == 1);
  INFO((*obs)[0].failure_reason);
  REQUIRE_FALSE((*obs)[0].resolved_job_id.empty());
  return (*obs)[0].resolved_job_id;
}

TEST_CASE("the task names snapshots by their server path and maps them", "[skypilot][code]") {
  CodeFixture f;
  JobSpec spec = f.Spec("skydeck-a1-1-1");
  TaskYamlOptions remote;
  remote.local_workdir_refusal = "not on this machine";  // a snapshot goes anywhere
  absl::StatusOr<std::string> yaml = RenderTaskYaml(spec, remote);
  INFO(yaml.status().ToString());
  REQUIRE(yaml.ok());
  YAML::Node task = Task(*yaml);
  std::string code_path = "/skydeck/snapshots/" + f.code_id;
  std::string cfg_path = "/skydeck/snapshots/" + f.cfg_id + "/cfg.yaml";
  CHECK(task["workdir"].as<std::string>() == code_path);
  CHECK(task["file_mounts"]["/cfg.yaml"].as<std::string>() == cfg_path);
  CHECK(task["file_mounts"]["/data"].as<std::string>() == "s3://bucket/data");
  REQUIRE(task["file_mounts_mapping"].size() == 2);
  CHECK(task["file_mounts_mapping"][code_path].as<std::string>() == code_path);
  CHECK(task["file_mounts_mapping"][cfg_path].as<std::string>() == cfg_path);
  CHECK(SnapshotIdsOf(spec) == (f.code_id < f.cfg_id
                                    ? std::vector<std::string>{f.code_id, f.cfg_id}
                                    : std::vector<std::string>{f.cfg_id, f.code_id}));

  SECTION("storage sources are mapped too; lists may not mix paths and URLs") {
    spec.template_yaml = "file_mounts:\n  /d:\n    source: ./cfg.yaml\n    mode: COPY\n";
    YAML::Node t = Task(*RenderTaskYaml(spec, remote));
    CHECK(t["file_mounts"]["/d"]["source"].as<std::string>() == cfg_path);
    CHECK(t["file_mounts"]["/d"]["mode"].as<std::string>() == "COPY");
    spec.template_yaml = "file_mounts:\n  /d:\n    source: [./cfg.yaml, s3://x]\n";
    CHECK(absl::IsInvalidArgument(RenderTaskYaml(spec, remote).status()));
  }
  SECTION("a local source without a snapshot is refused with what to do") {
    spec.mount_snapshots.clear();
    absl::Status s = RenderTaskYaml(spec, remote).status();
    CHECK(absl::IsInvalidArgument(s));
    CHECK(absl::StrContains(s.message(), "apply the template again with the skydeck CLI"));
  }
  SECTION("no snapshots, no mapping") {
    spec.template_yaml.clear();
    spec.mount_snapshots.clear();
    spec.workdir = {Workdir::Kind::kGit, "", "https://github.com/org/r.git", ""};
    CHECK_FALSE(Task(*RenderTaskYaml(spec, remote))["file_mounts_mapping"]);
    CHECK(SnapshotIdsOf(spec).empty());
  }
}

TEST_CASE("a launch uploads its snapshots in chunks and the task finds them", "[skypilot][code]") {
  CodeFixture f;
  SkyPilotFake fake;
  auto backend = MakeBackend(Options(fake, f.store.get()));
  CHECK(backend->UsesCodeSnapshots());
  LaunchResolved(*backend, f.Spec("skydeck-up-1-1"));

  nlohmann::json uploads = Uploads(fake);
  REQUIRE(uploads["completed"].size() == 1);
  const nlohmann::json& upload = uploads["completed"][0];
  CHECK(upload["user"] == kUserId);
  CHECK(upload["total_chunks"].get<int>() >= 3);  // > 4000 bytes in 2000-byte chunks
  CHECK(uploads["chunks_received"] == upload["total_chunks"]);
  CHECK(absl::StartsWith(upload["upload_id"].get<std::string>(), "sky-"));
  // What the server received, extracted where the translated task points.
  const nlohmann::json& docs = uploads["translated"]["skydeck-up-1-1"];
  REQUIRE(docs.size() == 2);
  fs::path workdir = docs[1]["workdir"].get<std::string>();
  CHECK(absl::StrContains(workdir.string(), "/" + std::string(kUserId) +
                                                "/file_mounts/skydeck/snapshots/" + f.code_id));
  CHECK(ReadAll(workdir / "train.py") == "print('snapshot')\n");
  CHECK(ReadAll(workdir / "pkg/weights.bin") == f.big);
  CHECK(fs::read_symlink(workdir / "main.py") == "train.py");
  CHECK_FALSE(fs::exists(workdir / "debug.log"));  // .skydeckignore
  fs::path cfg = docs[1]["file_mounts"]["/cfg.yaml"].get<std::string>();
  CHECK(ReadAll(cfg) == "lr: 3e-4\n");
  CHECK(docs[1]["file_mounts"]["/data"] == "s3://bucket/data");
  CHECK_FALSE(docs[1].contains("file_mounts_mapping"));  // popped by the server
  // The zip left no temporary file behind.
  CHECK(fs::is_empty(f.root / "store/tmp"));

  SECTION("a retry while the server knows the last launch does not upload again") {
    LaunchResolved(*backend, f.Spec("skydeck-up-1-2"));
    CHECK(Uploads(fake)["completed"].size() == 1);
    CHECK(Uploads(fake)["translated"].contains("skydeck-up-1-2"));
  }
  SECTION("after a server restart (uploads wiped) it uploads again") {
    fake.Control("/_fake/restart");
    LaunchResolved(*backend, f.Spec("skydeck-up-1-2"));
    CHECK(Uploads(fake)["completed"].size() == 2);  // the restart wiped the first
    CHECK(fs::exists(
        fs::path(Uploads(fake)["translated"]["skydeck-up-1-2"][1]["workdir"].get<std::string>()) /
        "train.py"));
  }
}

TEST_CASE("a snapshot a running launch reads is neither uploaded twice nor rewritten",
          "[skypilot][code]") {
  CodeFixture f;
  SkyPilotFake fake;
  auto first = MakeBackend(Options(fake, f.store.get()));
  fake.Configure({{"launch_hold", true}});
  REQUIRE(first->Launch(f.Spec("skydeck-hold-1-1")).ok());
  REQUIRE(Uploads(fake)["completed"].size() == 1);

  // A restarted daemon has no witness, but the held launch names the path.
  auto restarted = MakeBackend(Options(fake, f.store.get()));
  REQUIRE(restarted->Launch(f.Spec("skydeck-hold-2-1")).ok());
  CHECK(Uploads(fake)["completed"].size() == 1);
  fake.ReleaseLaunches();

  SECTION("concurrent launches of one snapshot upload it once") {
    fake.Control("/_fake/restart");
    fake.Configure({{"launch_hold", false}});
    auto fresh = MakeBackend(Options(fake, f.store.get()));
    std::vector<std::thread> threads;
    std::atomic<int> ok{0};
    for (int i = 0; i < 4; ++i) {
      threads.emplace_back([&, i] {
        if (fresh->Launch(f.Spec("skydeck-many-" + std::to_string(i) + "-1")).ok()) ++ok;
      });
    }
    for (std::thread& t : threads) t.join();
    CHECK(ok == 4);
    CHECK(Uploads(fake)["completed"].size() == 2);  // the first test's, and one more
  }
}

TEST_CASE("uploads go to the authenticated user's directory with a token", "[skypilot][code]") {
  CodeFixture f;
  SkyPilotFake::Args args;
  args.token = "sky_secret";
  SkyPilotFake fake(args);
  SkyPilotOptions options = Options(fake, f.store.get());
  options.token = "sky_secret";
  auto backend = MakeBackend(options);
  LaunchResolved(*backend, f.Spec("skydeck-tok-1-1"));
  nlohmann::json uploads = Uploads(fake);
  REQUIRE(uploads["completed"].size() == 1);
  CHECK(uploads["completed"][0]["user"] == "fakeuser");
}

TEST_CASE("a snapshot missing from the store stops the launch before the server",
          "[skypilot][code]") {
  CodeFixture f;
  SkyPilotFake fake;
  auto backend = MakeBackend(Options(fake, f.store.get()));
  JobSpec spec = f.Spec("skydeck-gone-1-1");
  spec.workdir_snapshot.snapshot_id = std::string(64, 'e');
  absl::Status s = backend->Launch(spec).status();
  CHECK(absl::IsFailedPrecondition(s));
  CHECK(fake.Counter("launch_calls") == 0);
  CHECK(Uploads(fake)["calls"] == 0);

  SECTION("the server refusing the upload fails the launch, nothing launched") {
    fake.Fault({{"http500", 1}, {"http500_routes", {"/upload"}}});
    CHECK_FALSE(backend->Launch(f.Spec("skydeck-gone-2-1")).ok());
    CHECK(fake.Counter("launch_calls") == 0);
    // The next attempt uploads from scratch and launches.
    LaunchResolved(*backend, f.Spec("skydeck-gone-2-1"));
    CHECK(Uploads(fake)["completed"].size() == 1);
  }
}

}  // namespace
}  // namespace skydeck::backend::skypilot
