// File: tests/fuzz/oversized_input_test.cc
//
// Oversized and deeply nested input gets a clean error, never a crash or a
// stack overflow: deeply nested JSON to the JSON Schema importer and to the
// HTTP bridge (mapping and the real server), deeply nested YAML to the
// manifest loader, and every size limit at the gRPC edge
// (common/model/validation.h), one byte over and at the limit.
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

#include <catch2/catch.hpp>
#include <grpcpp/grpcpp.h>

#include "../common/grpc_callback_queue_pin.h"
#include "absl/strings/str_cat.h"

#include "cli/manifest.h"
#include "common/model/command_line.h"
#include "common/model/json_schema_import.h"
#include "common/model/proto_convert.h"
#include "common/model/validation.h"
#include "daemon/backend/local/local_backend.h"
#include "daemon/service/skydeck_service.h"
#include "daemon/service/watch_hub.h"
#include "daemon/store/store.h"
#include "skydeck/v1/service.grpc.pb.h"
#include "web/bridge/http_bridge.h"
#include "web/bridge/request_mapping.h"

namespace skydeck {
namespace {

namespace pb = ::skydeck::v1;
using grpc::StatusCode;

// Nesting far beyond any recursion a stack survives (8 MiB / ~100 bytes a
// frame is ~80k levels), and still under the HTTP bridge's 1 MiB body limit
// when it has to be.
constexpr int kDeep = 400'000;

std::string Repeat(absl::string_view s, int n) {
  std::string out;
  out.reserve(s.size() * static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out.append(s.data(), s.size());
  return out;
}

std::string NestedArrays(int depth) { return Repeat("[", depth) + Repeat("]", depth); }

nlohmann::json ParseJson(const std::string& text) {
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  REQUIRE(!doc.is_discarded());
  return doc;
}

// ---- JSON Schema importer ------------------------------------------------

TEST_CASE("deeply nested JSON Schemas are refused cleanly", "[fuzz][oversized]") {
  SECTION("nested properties") {
    std::string text =
        Repeat(R"({"properties": {"a": )", kDeep) + R"({"type": "integer"})" + Repeat("}}", kDeep);
    auto imported = ImportJsonSchema(ParseJson(text), "python t.py", false);
    CHECK(imported.status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("a nested default") {
    std::string text =
        R"({"properties": {"a": {"type": "string", "default": )" + NestedArrays(kDeep) + "}}}";
    auto imported = ImportJsonSchema(ParseJson(text), "python t.py", false);
    CHECK(imported.status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("a nested union branch") {
    std::string text = R"({"properties": {"a": {"anyOf": [{"type": "null"}, {"x": )" +
                       NestedArrays(kDeep) + "}]}}}";
    auto imported = ImportJsonSchema(ParseJson(text), "python t.py", false);
    CHECK(imported.status().code() == absl::StatusCode::kInvalidArgument);
  }
  SECTION("a schema nested as deep as real models still imports") {
    std::string text =
        Repeat(R"({"properties": {"a": )", 20) + R"({"type": "integer"})" + Repeat("}}", 20);
    auto imported = ImportJsonSchema(ParseJson(text), "python t.py", false);
    REQUIRE(imported.ok());
    REQUIRE(imported->schema.flags.size() == 1);
    CHECK(imported->schema.flags[0].name.size() == 20 * 2 - 1);  // a.a.a...
  }
}

// ---- Manifest loader -----------------------------------------------------

TEST_CASE("deeply nested YAML manifests are refused cleanly", "[fuzz][oversized]") {
  for (const std::string& yaml :
       {NestedArrays(kDeep), "name: a\nflags: " + NestedArrays(kDeep),
        Repeat("{a: ", kDeep) + "1" + Repeat("}", kDeep), Repeat("- ", kDeep) + "x\n",
        "name: a\nlabels:\n" + Repeat("  ", 1) + Repeat("[", kDeep)}) {
    auto parsed = cli::ParseManifests(yaml);
    CHECK(parsed.status().code() == absl::StatusCode::kInvalidArgument);
  }
  std::string block;
  for (int i = 0; i < 5000; ++i) block += std::string(static_cast<size_t>(i) * 2, ' ') + "a:\n";
  CHECK(cli::ParseManifests(block).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("huge manifests are read or refused, never crash", "[fuzz][oversized]") {
  std::string many;
  for (int i = 0; i < 2000; ++i) absl::StrAppend(&many, "---\nname: e", i, "\nbase_command: x\n");
  auto parsed = cli::ParseManifests(many);
  REQUIRE(parsed.ok());
  CHECK(parsed->size() == 2000);
  std::string huge_value = "name: a\ndescription: " + std::string(8 << 20, 'd') + "\n";
  REQUIRE(cli::ParseManifests(huge_value).ok());  // the daemon enforces the limit
}

// ---- HTTP bridge ---------------------------------------------------------

TEST_CASE("deeply nested request bodies are INVALID_ARGUMENT", "[fuzz][oversized]") {
  for (const std::string& body :
       {NestedArrays(kDeep), Repeat(R"({"experiment": )", kDeep) + Repeat("}", kDeep),
        R"({"experiment": {"flags": {"a": )" + NestedArrays(kDeep) + "}}}",
        R"({"experiment": {"labels": )" + Repeat(R"({"a": )", kDeep) + Repeat("}", kDeep + 2),
        // The experiment's fields at the top level (json_inline), as the seed sends them.
        R"({"labels": )" + NestedArrays(kDeep) + "}",
        R"({"name": "a", "flags": {"a": )" + NestedArrays(kDeep) + "}}"}) {
    pb::CreateExperimentRequest req;
    absl::Status s = web::FillRequest({}, {}, body, &req);
    CHECK(absl::IsInvalidArgument(s));
  }
}

// The real service behind the real HTTP bridge, on loopback.
class EdgeFixture {
 public:
  EdgeFixture() {
    testing::PinGrpcCallbackQueue();  // the bridge calls gRPC's callback API
    auto opened = store::Store::Open(":memory:");
    REQUIRE(opened.ok());
    store_ = std::move(*opened);
    store_->SetCommitListener([this](int64_t rev) { hub_.Publish(rev); });
    service_ = std::make_unique<service::SkyDeckService>(store_.get(), &hub_, nullptr, "test", 1);
    grpc::ServerBuilder builder;
    builder.SetMaxReceiveMessageSize(8 * 1024 * 1024);  // as skydeckd
    builder.RegisterService(service_.get());
    server_ = builder.BuildAndStart();
    grpc::ChannelArguments args;
    args.SetMaxSendMessageSize(64 * 1024 * 1024);
    stub_ = pb::SkyDeck::NewStub(server_->InProcessChannel(args));
    web::BridgeOptions options;
    options.port = 0;
    bridge_ = std::make_unique<web::HttpBridge>(server_->InProcessChannel(args), options);
    auto port = bridge_->Start();
    REQUIRE(port.ok());
    port_ = *port;
  }
  ~EdgeFixture() {
    bridge_->Stop();
    hub_.Close();
    server_->Shutdown();
  }

  pb::SkyDeck::Stub& stub() { return *stub_; }
  httplib::Client Http() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(std::chrono::seconds(30));
    c.set_write_timeout(std::chrono::seconds(30));
    return c;
  }

  StatusCode Create(const pb::Experiment& e) {
    pb::CreateExperimentRequest req;
    *req.mutable_experiment() = e;
    pb::CreateExperimentResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub_->CreateExperiment(&ctx, req, &resp).error_code();
  }

 private:
  std::unique_ptr<store::Store> store_;
  service::WatchHub hub_;
  std::unique_ptr<service::SkyDeckService> service_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<pb::SkyDeck::Stub> stub_;
  std::unique_ptr<web::HttpBridge> bridge_;
  int port_ = 0;
};

pb::Experiment Valid(const std::string& name) {
  pb::Experiment e;
  e.set_name(name);
  e.set_base_command("python train.py");
  return e;
}

TEST_CASE("the HTTP edge answers oversized and nested requests with JSON errors",
          "[fuzz][oversized][http]") {
  EdgeFixture f;
  auto http = f.Http();
  auto post = [&](const std::string& body) {
    auto res = http.Post("/api/experiments", body, "application/json");
    REQUIRE(res);
    CHECK(nlohmann::json::parse(res->body, nullptr, false).contains("code"));
    return res->status;
  };
  CHECK(post(NestedArrays(kDeep)) == 400);  // 800 kB: under the body limit
  CHECK(post(std::string(2 << 20, ' ')) == 413);
  CHECK(post(R"({"experiment": {"name": "ok", "base_command": ")" + std::string(1000, 'x') +
             R"(", "flags": {"a": {"string_value": ")" + std::string(5000, 'v') + "\"}}}}") == 400);

  auto long_path = http.Get(("/api/experiments/" + std::string(100'000, 'a')).c_str());
  REQUIRE(long_path);
  CHECK(long_path->status >= 400);
  CHECK(long_path->status < 500);
  std::string many_params = "/api/experiments?";
  for (int i = 0; i < 2000; ++i) absl::StrAppend(&many_params, "label_selector=a&");
  auto many = http.Get(many_params.c_str());
  REQUIRE(many);
  CHECK(many->status < 500);
  // Still serving.
  auto health = http.Get("/api/health");
  REQUIRE(health);
  CHECK(health->status == 200);
}

// ---- gRPC edge -------------------------------------------------------------

TEST_CASE("every size limit at the gRPC edge is enforced one byte over", "[fuzz][oversized]") {
  EdgeFixture f;
  auto over = [&](auto mutate) {
    pb::Experiment e = Valid("over");
    mutate(e);
    return f.Create(e);
  };
  using E = pb::Experiment;
  CHECK(over([](E& e) { e.set_name(std::string(kMaxNameBytes + 1, 'n')); }) ==
        StatusCode::INVALID_ARGUMENT);
  CHECK(over([](E& e) { e.set_description(std::string(kMaxDescriptionBytes + 1, 'd')); }) ==
        StatusCode::INVALID_ARGUMENT);
  CHECK(over([](E& e) { e.set_base_command(std::string(kMaxCommandBytes + 1, 'c')); }) ==
        StatusCode::INVALID_ARGUMENT);
  CHECK(over([](E& e) { e.set_run_name(std::string(kMaxShortFieldBytes + 1, 'r')); }) ==
        StatusCode::INVALID_ARGUMENT);
  CHECK(over([](E& e) { e.set_gpu_type(std::string(kMaxShortFieldBytes + 1, 'g')); }) ==
        StatusCode::INVALID_ARGUMENT);
  CHECK(over([](E& e) {
          (*e.mutable_flags())[std::string(kMaxFlagKeyBytes + 1, 'k')].set_int_value(1);
        }) == StatusCode::INVALID_ARGUMENT);
  CHECK(over([](E& e) {
          (*e.mutable_flags())["k"].set_string_value(std::string(kMaxFlagStringBytes + 1, 'v'));
        }) == StatusCode::INVALID_ARGUMENT);
  CHECK(over([](E& e) {
          for (size_t i = 0; i <= kMaxFlags; ++i) (*e.mutable_flags())[absl::StrCat("f", i)];
        }) == StatusCode::INVALID_ARGUMENT);
  CHECK(over([](E& e) { (*e.mutable_labels())[std::string(kMaxLabelKeyBytes + 1, 'l')] = "v"; }) ==
        StatusCode::INVALID_ARGUMENT);
  CHECK(over([](E& e) {
          (*e.mutable_labels())["l"] = std::string(kMaxLabelValueBytes + 1, 'v');
        }) == StatusCode::INVALID_ARGUMENT);
  CHECK(over([](E& e) {
          for (size_t i = 0; i <= kMaxLabels; ++i)
            (*e.mutable_labels())[absl::StrCat("l", i)] = "v";
        }) == StatusCode::INVALID_ARGUMENT);
  // Beyond the daemon's 8 MiB message limit gRPC itself refuses, before any
  // handler runs.
  CHECK(over([](E& e) { e.set_description(std::string(9 << 20, 'd')); }) ==
        StatusCode::RESOURCE_EXHAUSTED);
}

// Every other limit can hold while the rendered command is far too long to
// exec: 256 flags of 4 KiB quotes render as 4 MiB, and Linux refuses an
// argument over 128 KiB, so the job would fail at exec with exit 126/127.
TEST_CASE("a command line too long to exec is refused; the longest accepted one runs",
          "[fuzz][oversized]") {
  EdgeFixture f;
  pb::Experiment worst = Valid("worst-case");
  worst.set_base_command(std::string(kMaxCommandBytes - 4, 'c') + " x y");
  for (size_t i = 0; i < kMaxFlags; ++i) {
    (*worst.mutable_flags())[absl::StrCat(std::string(kMaxFlagKeyBytes - 4, 'k'), i + 1000)]
        .set_string_value(std::string(kMaxFlagStringBytes, '\''));  // '\'' each
  }
  CHECK(f.Create(worst) == StatusCode::INVALID_ARGUMENT);

  // Exactly at the limit: accepted, and the local backend really runs it.
  pb::Experiment longest = Valid("longest");
  longest.set_base_command("true");
  FlagMap flags;
  for (int i = 0; RenderCommand("true", flags).size() < kMaxCommandLineBytes; ++i) {
    flags[absl::StrCat("f", 100 + i)] = std::string(kMaxFlagStringBytes, 'v');
  }
  std::string& last = std::get<std::string>(flags.rbegin()->second);
  last.resize(last.size() - (RenderCommand("true", flags).size() - kMaxCommandLineBytes));
  REQUIRE(RenderCommand("true", flags).size() == kMaxCommandLineBytes);
  for (const auto& [k, v] : flags) (*longest.mutable_flags())[k] = ToProto(v);
  CHECK(f.Create(longest) == StatusCode::OK);
  pb::Experiment one_more = longest;
  one_more.set_name("one-more");
  (*one_more.mutable_flags())[flags.rbegin()->first].mutable_string_value()->push_back('v');
  CHECK(f.Create(one_more) == StatusCode::INVALID_ARGUMENT);

  // Growing an accepted experiment past the limit through UpdateFlags.
  pb::UpdateFlagsRequest grow;
  grow.set_id("longest");
  (*grow.mutable_set())["zz"].set_string_value("more");
  pb::UpdateFlagsResponse grown;
  grpc::ClientContext ctx;
  CHECK(f.stub().UpdateFlags(&ctx, grow, &grown).error_code() == StatusCode::INVALID_ARGUMENT);

  std::string tmpl = (std::filesystem::temp_directory_path() / "skydeck-longest-XXXXXX").string();
  REQUIRE(mkdtemp(tmpl.data()) != nullptr);
  {
    backend::LocalBackend local(
        {.data_dir = tmpl, .cancel_grace = absl::Seconds(10), .monitor_path = SKYDECK_MONITOR});
    backend::JobSpec spec;
    spec.name = "longest-1";
    spec.command = RenderCommand("true", flags);
    REQUIRE(local.Launch(spec).ok());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::optional<int> exit_code;
    while (!exit_code && std::chrono::steady_clock::now() < deadline) {
      auto seen = local.Query({"longest-1"});
      REQUIRE(seen.ok());
      if (IsTerminal((*seen)[0].status)) exit_code = (*seen)[0].exit_code;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    CHECK(exit_code == std::optional<int>(0));
  }
  std::filesystem::remove_all(tmpl);
}

}  // namespace
}  // namespace skydeck
