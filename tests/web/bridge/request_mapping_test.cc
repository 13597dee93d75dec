#include "web/bridge/request_mapping.h"

#include <catch2/catch.hpp>

#include "skydeck/v1/service.pb.h"

namespace skydeck::web {
namespace {

namespace pb = ::skydeck::v1;

TEST_CASE("query parameters fill scalar, enum and repeated fields", "[bridge]") {
  pb::ListExperimentsRequest req;
  QueryParams q = {{"page_size", "5"},
                   {"labelSelector", "sweep=lr"},
                   {"desired_states", "RUNNING,DESIRED_STATE_STOPPED"},
                   {"observed_states", "failed"},
                   {"include_deleted", "true"}};
  REQUIRE(FillRequest({}, q, "", &req).ok());
  CHECK(req.page_size() == 5);
  CHECK(req.label_selector() == "sweep=lr");
  REQUIRE(req.desired_states_size() == 2);
  CHECK(req.desired_states(0) == pb::DESIRED_STATE_RUNNING);
  CHECK(req.desired_states(1) == pb::DESIRED_STATE_STOPPED);
  CHECK(req.observed_states(0) == pb::OBSERVED_STATE_FAILED);
  CHECK(req.include_deleted());
}

TEST_CASE("bad parameters are INVALID_ARGUMENT naming the field", "[bridge]") {
  pb::ListExperimentsRequest req;
  auto s = FillRequest({}, {{"page_size", "many"}}, "", &req);
  CHECK(absl::IsInvalidArgument(s));
  CHECK(s.message().find("page_size") != absl::string_view::npos);
  CHECK(absl::IsInvalidArgument(FillRequest({}, {{"nope", "1"}}, "", &req)));
  CHECK(absl::IsInvalidArgument(FillRequest({}, {{"desired_states", "SLEEPING"}}, "", &req)));
  CHECK(absl::IsInvalidArgument(FillRequest({}, {}, "{not json", &req)));
  CHECK(absl::IsInvalidArgument(FillRequest({}, {}, R"({"unknown_field": 1})", &req)));
}

TEST_CASE("bodies use the JSON mapping and path parameters win", "[bridge]") {
  pb::UpdateFlagsRequest req;
  std::string body = R"({"id": "ignored", "set": {"lr": {"doubleValue": 0.001},
                        "layers": {"int_value": "4"}}, "unset": ["old"]})";
  REQUIRE(FillRequest({{"id", "lr-a"}}, {}, body, &req).ok());
  CHECK(req.id() == "lr-a");
  CHECK(req.set().at("lr").double_value() == 0.001);
  CHECK(req.set().at("layers").int_value() == 4);
  CHECK(req.unset(0) == "old");

  pb::GetJobRequest job;
  REQUIRE(FillRequest({{"id", "17"}}, {}, "", &job).ok());
  CHECK(job.id() == 17);
  CHECK(absl::IsInvalidArgument(FillRequest({{"id", "x"}}, {}, "", &job)));
}

TEST_CASE("responses print with proto field names", "[bridge]") {
  pb::GetExperimentResponse resp;
  resp.mutable_experiment()->set_base_command("python x.py");
  resp.mutable_experiment()->set_id(5);
  auto json = MessageToJson(resp);
  REQUIRE(json.ok());
  CHECK(*json == R"({"experiment":{"id":"5","base_command":"python x.py"}})");
}

}  // namespace
}  // namespace skydeck::web
