// Pure helpers of the skydeck CLI: printers, formatting, argument parsing.
#include <catch2/catch.hpp>

#include "cli/arguments.h"
#include "cli/command.h"
#include "cli/logs.h"
#include "cli/output.h"
#include "cli/views.h"
using namespace skydeck::cli;
TEST_CASE("tables align columns by display width", "[cli]") {
  Table t({"ID", "NAME", "X"});
  t.AddRow({"1", "lr-a", ""});
  t.AddRow({"100", "é", "z"});
  CHECK(t.Render() == "ID    NAME   X\n1     lr-a\n100   é      z\n");
}
TEST_CASE("key-value blocks indent continuation lines", "[cli]") {
  CHECK(RenderKeyValues({{"Name", "a"}, {"Generation", "3"}, {"F", "x\ny"}, {"E", ""}}) ==
        "Name:        a\nGeneration:  3\nF:           x\n             y\nE:           -\n");
}
TEST_CASE("ages and relative times are compact", "[cli]") {
  CHECK(FormatAge(0, 5) == "-");
  CHECK(FormatAge(1000, 1000 + 45000) == "45s");
  CHECK(FormatAge(1000, 1000 + 5 * 60000) == "5m");
  CHECK(FormatAge(1000, 1000 + 3 * 3600000) == "3h");
  CHECK(FormatAge(1000, 1000 + 12LL * 86400000) == "12d");
  CHECK(FormatAge(100000, 70000) == "in 30s");
  CHECK(FormatTimeAgo(1000, 1000 + 5 * 60000) == "5m ago");
  CHECK(FormatTimeAgo(0, 1) == "-");
}
TEST_CASE("enum names print without their prefix", "[cli]") {
  CHECK(ShortEnumName(skydeck::v1::DesiredState_descriptor(), 1) == "RUNNING");
  CHECK(ShortEnumName(skydeck::v1::DesiredState_descriptor(), 0) == "-");
  CHECK(ShortEnumName(skydeck::v1::DesiredState_descriptor(), 77) == "77");
  CHECK(ShortEnumName(skydeck::v1::Health::Status_descriptor(), 2) == "DEGRADED");
  CHECK(ShortEnumName(skydeck::v1::JobStatus_descriptor(), 13) == "FAILED_NO_RESOURCE");
}
TEST_CASE("long text is truncated on character boundaries", "[cli]") {
  CHECK(Truncate("abcdefgh", 6) == "abc...");
  CHECK(Truncate("abc", 6) == "abc");
  CHECK(Truncate("ééééééé", 6) == "ééé...");
  CHECK(OneLine("a\nb\tc\x1b") == "a b c ");
  CHECK(Indent("a\n\nb\n", 2) == "  a\n\n  b\n");
}
TEST_CASE("yaml quotes strings that would read as other types", "[cli]") {
  for (const char* s : {"", "42", "-1", "1e5", "true", "Yes", "null", "~", ".5", ".inf", "-.inf",
                        "2026-11-28T14:17:43Z", "0x1f", "0.1.0"})
    CHECK(NeedsYamlQuotes(s));
  for (const char* s : {"lr-a", "python train.py", "-x", "RUNNING", "a1", "."})
    CHECK_FALSE(NeedsYamlQuotes(s));
}
TEST_CASE("proto json keeps field names and int64 ids", "[cli]") {
  skydeck::v1::Experiment e;
  e.set_id(42);
  e.set_name("a");
  (*e.mutable_labels())["z"] = "1";
  (*e.mutable_labels())["a"] = "2";
  (*e.mutable_flags())["n"].set_int_value(7);
  (*e.mutable_flags())["s"].set_string_value("42");
  auto j = ProtoToJson(e, Int64Encoding::kJsonString);
  CHECK(j["id"] == "42");
  CHECK(j["flags"]["n"]["int_value"] == "7");
  auto y = ProtoToJson(e, Int64Encoding::kNumber);
  CHECK(y["id"] == 42);
  CHECK(y["flags"]["n"]["int_value"] == 7);
  std::string yaml = RenderYaml(y);
  INFO(yaml);
  CHECK(yaml.find("id: 42\n") == 0);
  CHECK(yaml.find("string_value: \"42\"") != std::string::npos);
  CHECK(yaml.find("labels:\n  a: \"2\"\n  z: \"1\"") != std::string::npos);
  skydeck::v1::Health h;
  (*h.mutable_experiments_by_state())["RUNNING"] = 3;
  CHECK(RenderYaml(ProtoToJson(h, Int64Encoding::kNumber)) ==
        "experiments_by_state:\n  RUNNING: 3\n");
  CHECK(RenderJson(ListDocument("experiments", std::vector<skydeck::v1::Experiment>{},
                                Int64Encoding::kJsonString)) == "{\n  \"experiments\": []\n}\n");
  CHECK(RenderYaml(nlohmann::ordered_json::object()) == "{}\n");
  nlohmann::ordered_json d = {{"d", 0.0003}, {"e", 1e-7}};
  CHECK(RenderYaml(d) == "d: 0.0003\ne: 1e-07\n");
}
TEST_CASE("state filters split into desired and observed", "[cli]") {
  auto f = ClassifyStates(
      {"stopped", "IDLE", "OBSERVED_STATE_RUNNING", "DESIRED_STATE_TERMINATED", "failed"});
  REQUIRE(f.ok());
  CHECK(f->desired ==
        std::vector<skydeck::v1::DesiredState>{skydeck::v1::DESIRED_STATE_STOPPED,
                                               skydeck::v1::DESIRED_STATE_TERMINATED});
  CHECK(f->observed == std::vector<skydeck::v1::ObservedState>{skydeck::v1::OBSERVED_STATE_IDLE,
                                                               skydeck::v1::OBSERVED_STATE_RUNNING,
                                                               skydeck::v1::OBSERVED_STATE_FAILED});
  CHECK_FALSE(ClassifyStates({"nope"}).ok());
}
TEST_CASE("flag and label arguments parse or fail as usage errors", "[cli]") {
  auto f = ParseFlagAssignments({"trainer.lr=3e-4", "tag:=42", "b=true"});
  REQUIRE(f.ok());
  CHECK(std::get<double>(f->at("trainer.lr")) == 3e-4);
  CHECK(std::get<std::string>(f->at("tag")) == "42");
  CHECK_FALSE(ParseFlagAssignments({"a=1", "a=2"}).ok());
  CHECK_FALSE(ParseFlagAssignments({"1a=1"}).ok());
  CHECK_FALSE(ParseFlagAssignments({"novalue"}).ok());
  CHECK(ParseLabels({"a=b", "c="}).ok());
  CHECK_FALSE(ParseLabels({"=b"}).ok());
  CHECK_FALSE(ParseLabels({"ab"}).ok());
  CHECK_FALSE(CheckLabelSelector("a in (b").ok());
  CHECK(CheckLabelSelector("").ok());
}
TEST_CASE("statuses map to cli exit codes", "[cli]") {
  CHECK(ExitCodeFor(absl::OkStatus()) == 0);
  CHECK(ExitCodeFor(UsageError("x")) == 2);
  CHECK(ExitCodeFor(absl::InvalidArgumentError("x")) == 1);
  CHECK(ExitCodeFor(absl::NotFoundError("x")) == 1);
  CHECK(ExitCodeFor(WaitTimeoutError("x")) == 4);
  CHECK(ExitCodeFor(JobFailedError("job 7 ended FAILED")) == 5);
  // Only gRPC's own transport failures mean "unreachable"; the same codes
  // sent by the daemon (its backend is down) are the daemon's answer.
  CHECK(ExitCodeFor(UnreachableError("x", absl::StatusCode::kUnavailable)) == 3);
  CHECK(ExitCodeFor(UnreachableError("x", absl::StatusCode::kDeadlineExceeded)) == 3);
  CHECK(ExitCodeFor(absl::UnavailableError("x")) == 1);
  CHECK(ExitCodeFor(absl::DeadlineExceededError("x")) == 1);
}
TEST_CASE("a bulk failure keeps the first failure's exit code", "[cli]") {
  auto op = [](const std::string& ref) -> absl::Status {
    if (ref == "ok") return absl::OkStatus();
    return UnreachableError("down", absl::StatusCode::kUnavailable);
  };
  absl::Status all = RunForEach({"ok", "a", "b"}, op);
  CHECK(all.message() == "2 of 3 failed");
  CHECK(ExitCodeFor(all) == 3);
  CHECK(ExitCodeFor(RunForEach({"a", "b"}, [](const std::string&) {
          return absl::UnavailableError("backend down");
        })) == 1);
}
TEST_CASE("logs exit 5 for the statuses of a failed job", "[cli]") {
  using skydeck::v1::JobStatus;
  for (JobStatus s :
       {skydeck::v1::JOB_STATUS_FAILED, skydeck::v1::JOB_STATUS_FAILED_SETUP,
        skydeck::v1::JOB_STATUS_FAILED_PRECHECKS, skydeck::v1::JOB_STATUS_FAILED_NO_RESOURCE,
        skydeck::v1::JOB_STATUS_FAILED_CONTROLLER, skydeck::v1::JOB_STATUS_LOST}) {
    CHECK(IsFailedJobStatus(s));
  }
  for (JobStatus s : {skydeck::v1::JOB_STATUS_SUCCEEDED, skydeck::v1::JOB_STATUS_CANCELLED,
                      skydeck::v1::JOB_STATUS_RUNNING, skydeck::v1::JOB_STATUS_UNSPECIFIED}) {
    CHECK_FALSE(IsFailedJobStatus(s));
  }
}
TEST_CASE("health shows the backend's endpoint", "[cli]") {
  skydeck::v1::Health h;
  h.set_backend("skypilot");
  h.set_backend_endpoint("http://127.0.0.1:46580");
  std::string text = RenderKeyValues(HealthDetails(h, 0));
  CHECK(text.find("Backend endpoint:  http://127.0.0.1:46580\n") != std::string::npos);
}
