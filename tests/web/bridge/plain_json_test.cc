#include "web/bridge/plain_json.h"

#include <cmath>

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

#include "skydeck/v1/service.pb.h"
#include "web/bridge/testdata/json_options.pb.h"

namespace skydeck::web {
namespace {

namespace pb = ::skydeck::v1;
using nlohmann::json;

json Printed(const google::protobuf::Message& m) {
  auto text = MessageToPlainJson(m);
  REQUIRE(text.ok());
  return json::parse(*text);
}

template <typename T>
T Parsed(const std::string& text) {
  T m;
  absl::Status s = PlainJsonTextToMessage(text, &m);
  INFO(s.ToString());
  REQUIRE(s.ok());
  return m;
}

template <typename T>
std::string ParseError(const std::string& text) {
  T m;
  absl::Status s = PlainJsonTextToMessage(text, &m);
  REQUIRE(absl::IsInvalidArgument(s));
  return std::string(s.message());
}

pb::Experiment SampleExperiment() {
  pb::Experiment e;
  e.set_id(7);
  e.set_name("lr-a");
  e.set_base_command("python train.py");
  auto& flags = *e.mutable_flags();
  flags["lr"].set_double_value(0.001);
  flags["layers"].set_int_value(4);
  flags["scale"].set_double_value(1.0);
  flags["ppo"].set_bool_value(true);
  flags["tag"].set_string_value("42");
  flags["seed"].set_int_value((int64_t{1} << 53) + 1);
  e.set_desired_state(pb::DESIRED_STATE_RUNNING);
  e.set_observed_state(pb::OBSERVED_STATE_FAILED);
  e.mutable_create_time()->set_seconds(1767225600);  // 2026-01-01T00:00:00Z
  return e;
}

TEST_CASE("flag values print as plain JSON scalars typed like --flag", "[bridge][json]") {
  auto text = MessageToPlainJson(SampleExperiment());
  REQUIRE(text.ok());
  // Exact text: 1.0 stays a float on the wire, 4 an integer.
  CHECK(text->find(R"("flags":{"layers":4,"lr":0.001,"ppo":true,"scale":1.0,)"
                   R"("seed":"9007199254740993","tag":"42"})") != std::string::npos);
}

TEST_CASE("enums print by short name, every field is present", "[bridge][json]") {
  json e = Printed(SampleExperiment());
  CHECK(e["desired_state"] == "RUNNING");
  CHECK(e["observed_state"] == "FAILED");
  CHECK(e["id"] == "7");  // int64: a string, as JavaScript cannot hold all of them
  CHECK(e["conditions"] == json::array());
  CHECK(e["labels"] == json::object());
  CHECK(e["gpus"] == 0);
  CHECK(e["spot"] == false);
  CHECK(e["gpu_type"] == "");
  CHECK(e["create_time"] == "2026-01-01T00:00:00Z");
  // Fields with presence are absent while unset.
  CHECK(!e.contains("max_restarts"));
  CHECK(!e.contains("next_retry_time"));

  pb::ListJobsResponse empty;
  CHECK(Printed(empty) == json::parse(R"({"jobs": [], "next_page_token": ""})"));
  pb::Health health;
  health.set_status(pb::Health::STATUS_SERVING);
  CHECK(Printed(health)["status"] == "SERVING");
}

TEST_CASE("values no scalar can carry print in the object form", "[bridge][json]") {
  pb::UpdateFlagsRequest req;
  auto& set = *req.mutable_set();
  set["digits"].set_string_value("9007199254740993");  // a scalar would read as an int
  set["nan"].set_double_value(std::nan(""));
  set["empty"];
  json printed = Printed(req)["set"];
  CHECK(printed["digits"] == json::parse(R"({"string_value": "9007199254740993"})"));
  CHECK(printed["nan"] == json::parse(R"({"double_value": "NaN"})"));
  CHECK(printed["empty"] == json::object());
  auto back = Parsed<pb::UpdateFlagsRequest>(*MessageToPlainJson(req));
  CHECK(back.set().at("digits").string_value() == "9007199254740993");
  CHECK(std::isnan(back.set().at("nan").double_value()));
  CHECK(back.set().at("empty").kind_case() == pb::FlagValue::KIND_NOT_SET);
}

TEST_CASE("what prints parses back to the same message", "[bridge][json]") {
  pb::GetExperimentResponse resp;
  *resp.mutable_experiment() = SampleExperiment();
  auto* c = resp.mutable_experiment()->add_conditions();
  c->set_type("Stalled");
  c->set_status(true);
  (*resp.mutable_experiment()->mutable_labels())["sweep"] = "lr";
  resp.mutable_experiment()->set_max_restarts(0);
  auto text = MessageToPlainJson(resp);
  REQUIRE(text.ok());
  auto back = Parsed<pb::GetExperimentResponse>(*text);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(back, resp));
}

TEST_CASE("flag values parse from plain scalars and from the object form", "[bridge][json]") {
  auto req = Parsed<pb::UpdateFlagsRequest>(R"({"set": {
      "lr": 0.001, "layers": 4, "scale": 1.0, "big": 3e-4, "ppo": true, "tag": "42",
      "seed": "9007199254740993", "huge": 9007199254740993,
      "old": {"int_value": "5"}, "older": {"doubleValue": 2}}})");
  const auto& set = req.set();
  CHECK(set.at("lr").double_value() == 0.001);
  CHECK(set.at("layers").int_value() == 4);
  CHECK(set.at("scale").kind_case() == pb::FlagValue::kDoubleValue);
  CHECK(set.at("big").double_value() == 3e-4);
  CHECK(set.at("ppo").bool_value());
  CHECK(set.at("tag").string_value() == "42");
  CHECK(set.at("seed").int_value() == (int64_t{1} << 53) + 1);
  CHECK(set.at("huge").int_value() == (int64_t{1} << 53) + 1);
  CHECK(set.at("old").int_value() == 5);
  CHECK(set.at("older").double_value() == 2.0);
  CHECK(ParseError<pb::UpdateFlagsRequest>(R"({"set": {"lr": [1]}})") ==
        R"(set["lr"]: must be a string, number or bool, not [...])");
}

TEST_CASE("`flags` is another name of UpdateFlagsRequest.set", "[bridge][json]") {
  auto req = Parsed<pb::UpdateFlagsRequest>(R"({"flags": {"lr": 0.01}})");
  CHECK(req.set().at("lr").double_value() == 0.01);
  CHECK(ParseError<pb::UpdateFlagsRequest>(R"({"flags": {"a": 1}, "set": {"b": 2}})") ==
        R"(set: "flags" and "set" name the same field)");
}

TEST_CASE("enums parse by short or long name and errors list the valid ones", "[bridge][json]") {
  CHECK(Parsed<pb::SetDesiredStateRequest>(R"({"desired_state": "STOPPED"})").desired_state() ==
        pb::DESIRED_STATE_STOPPED);
  CHECK(Parsed<pb::SetDesiredStateRequest>(R"({"desired_state": "DESIRED_STATE_RUNNING"})")
            .desired_state() == pb::DESIRED_STATE_RUNNING);
  CHECK(Parsed<pb::SetDesiredStateRequest>(R"({"desiredState": "terminated"})").desired_state() ==
        pb::DESIRED_STATE_TERMINATED);
  CHECK(ParseError<pb::SetDesiredStateRequest>(R"({"desired_state": "PAUSED"})") ==
        R"(desired_state: "PAUSED" is not one of RUNNING, STOPPED, TERMINATED)");
  CHECK(ParseError<pb::SetDesiredStateRequest>(R"({"desired_state": true})") ==
        "desired_state: must be one of RUNNING, STOPPED, TERMINATED, not true");
  auto list = Parsed<pb::ListExperimentsRequest>(R"({"observed_states": ["FAILED", 4]})");
  REQUIRE(list.observed_states_size() == 2);
  CHECK(list.observed_states(1) == pb::OBSERVED_STATE_RUNNING);
}

TEST_CASE("an experiment's fields may be given at the top level of a create", "[bridge][json]") {
  auto seed = Parsed<pb::CreateExperimentRequest>(R"({
      "name": "ppo_4layer", "base_command": "lt", "nodes": 4, "gpus": 4, "cloud": "aws",
      "flags": {"trainer.losses.ppo.enabled": true, "policy_architecture.core_resnet_layers": 4},
      "desired_state": "RUNNING", "start": false})");
  const pb::Experiment& e = seed.experiment();
  CHECK(e.name() == "ppo_4layer");
  CHECK(e.nodes() == 4);
  CHECK(e.infra() == "aws");
  CHECK(e.flags().at("policy_architecture.core_resnet_layers").int_value() == 4);
  CHECK(e.desired_state() == pb::DESIRED_STATE_RUNNING);

  auto mixed = Parsed<pb::CreateExperimentRequest>(
      R"({"experiment": {"name": "a"}, "base_command": "true", "start": true})");
  CHECK(mixed.experiment().name() == "a");
  CHECK(mixed.experiment().base_command() == "true");
  CHECK(mixed.start());

  CHECK(ParseError<pb::CreateExperimentRequest>(R"({"experiment": {"name": "a"}, "name": "b"})") ==
        R"(name: given both at the top level and inside "experiment"; give it once)");
  std::string unknown = ParseError<pb::CreateExperimentRequest>(R"({"name": "a", "tags": []})");
  // The message lists the request's own fields, then the experiment's.
  CHECK(unknown.rfind("tags: unknown field of CreateExperimentRequest; its fields are experiment, "
                      "start, validate_only,",
                      0) == 0);
  CHECK(unknown.find(", and at the top level those of experiment: id, name,") != std::string::npos);
}

TEST_CASE("a field that belongs inside a message says so", "[bridge][json]") {
  CHECK(ParseError<pb::UpdateExperimentRequest>(R"({"nodes": 2, "update_mask": "nodes"})") ==
        R"(nodes: not a field of UpdateExperimentRequest; it belongs inside "experiment": )"
        R"({"experiment": {"nodes": ...}})");
  CHECK(ParseError<pb::SetDesiredStateRequest>(R"({"state": "RUNNING"})")
            .rfind("state: unknown field of SetDesiredStateRequest; its fields are id, ids, "
                   "label_selector, desired_state, reason",
                   0) == 0);
}

TEST_CASE("well-known types use their JSON text forms", "[bridge][json]") {
  auto update = Parsed<pb::UpdateExperimentRequest>(
      R"({"update_mask": "base_command,maxRestarts", "experiment": {"create_time": "2026-01-01T00:00:00Z"}})");
  REQUIRE(update.update_mask().paths_size() == 2);
  CHECK(update.update_mask().paths(0) == "base_command");
  CHECK(update.update_mask().paths(1) == "max_restarts");
  CHECK(update.experiment().create_time().seconds() == 1767225600);
  CHECK(Printed(update)["update_mask"] == "base_command,max_restarts");
  CHECK(
      ParseError<pb::UpdateExperimentRequest>(R"({"experiment": {"create_time": "yesterday"}})") ==
      R"(experiment.create_time: "yesterday" is not an RFC 3339 time)");
}

TEST_CASE("shapes beyond skydeck.v1 map too", "[bridge][json]") {
  auto shapes = Parsed<bridgetest::Shapes>(R"({"color": "dark_red", "legacy": "OLD_STYLE",
      "by_number": {"10": "ten", "9": "nine"}, "blob": "AAEC", "ratio": 0.5,
      "big": "18446744073709551615", "wait": "1.5s", "colors": ["DARK_RED"]})");
  CHECK(shapes.color() == bridgetest::Shapes::COLOR_DARK_RED);
  CHECK(shapes.by_number().at(9) == "nine");
  CHECK(shapes.blob() == std::string("\0\1\2", 3));
  CHECK(shapes.big() == UINT64_MAX);
  CHECK(shapes.wait().nanos() == 500000000);
  std::string text = *MessageToPlainJson(shapes);
  CHECK(text == R"({"color":"DARK_RED","legacy":"OLD_STYLE","by_number":{"9":"nine","10":"ten"},)"
                R"("blob":"AAEC","ratio":0.5,"big":"18446744073709551615","wait":"1.500s",)"
                R"("colors":["DARK_RED"]})");
  CHECK(absl::IsInvalidArgument(PlainJsonTextToMessage(R"({"by_number": {"x": "?"}})", &shapes)));
  CHECK(absl::IsInvalidArgument(PlainJsonTextToMessage(R"({"ratio": "fast"})", &shapes)));
  CHECK(absl::IsInvalidArgument(PlainJsonTextToMessage(R"({"big": -1})", &shapes)));
}

TEST_CASE("bodies that are not JSON objects say what is wrong", "[bridge][json]") {
  std::string syntax = ParseError<pb::RefreshRequest>("{not json");
  CAPTURE(syntax);
  CHECK(syntax.rfind("the request body is not JSON: parse error at line 1, column 3: syntax error",
                     0) == 0);
  CHECK(ParseError<pb::RefreshRequest>("[]") ==
        "the request body must be a JSON object (RefreshRequest), not []");
  CHECK(ParseError<pb::CreateExperimentRequest>(R"({"experiment": 5})") ==
        "experiment: the value must be a JSON object (Experiment), not 5");
  CHECK(ParseError<pb::ListJobsRequest>(R"({"page_size": 1.5})") ==
        "page_size: must be a 32-bit integer, not 1.5");
  CHECK(ParseError<pb::ListJobsRequest>(R"({"page_size": 4294967296})") ==
        "page_size: must be a 32-bit integer, not 4294967296");
  CHECK(ParseError<pb::SetDesiredStateRequest>(R"({"ids": "a"})") ==
        R"(ids: must be a list, not "a")");
  // null is the default, as in protobuf's mapping.
  CHECK(Parsed<pb::SetDesiredStateRequest>(R"({"reason": null})").reason().empty());
}

TEST_CASE("unknown fields can be skipped by a reader of newer answers", "[bridge][json]") {
  pb::GetHealthResponse resp;
  PlainJsonParseOptions options;
  options.ignore_unknown_fields = true;
  CHECK(
      PlainJsonTextToMessage(R"({"health": {"status": "SERVING", "new_field": 1}})", &resp, options)
          .ok());
  CHECK(resp.health().status() == pb::Health::STATUS_SERVING);
}

TEST_CASE("an option used against its REQUIRES is an internal error", "[bridge][json]") {
  bridgetest::HoldsNotAScalar m;
  m.mutable_value()->set_text("x");
  CHECK(absl::IsInternal(MessageToPlainJson(m).status()));
  CHECK(absl::IsInternal(PlainJsonTextToMessage(R"({"value": "x"})", &m)));
}

}  // namespace
}  // namespace skydeck::web
