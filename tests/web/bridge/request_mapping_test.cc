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

TEST_CASE("a time in a query parameter is an RFC 3339 string, as in a body", "[bridge]") {
  pb::GetCostRequest req;
  REQUIRE(FillRequest({}, {{"since", "2026-12-01T00:00:00Z"}, {"group_by", "experiment"}}, "", &req)
              .ok());
  CHECK(req.since().seconds() == 1796083200);
  CHECK(req.group_by() == "experiment");
  auto bad = FillRequest({}, {{"since", "last week"}}, "", &req);
  CHECK(absl::IsInvalidArgument(bad));
  CHECK(bad.message().find("since") != absl::string_view::npos);
  // Other messages still belong in the body.
  pb::CreateExperimentRequest create;
  auto nested = FillRequest({}, {{"experiment", "x"}}, "", &create);
  CHECK(absl::IsInvalidArgument(nested));
  CHECK(nested.message().find("send it in the body") != absl::string_view::npos);
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

TEST_CASE("bodies may be plain JSON, the seed clients' shapes", "[bridge]") {
  pb::UpdateFlagsRequest flags;
  REQUIRE(
      FillRequest({{"id", "lr-a"}}, {}, R"({"flags": {"lr": 0.001, "layers": 4}})", &flags).ok());
  CHECK(flags.set().at("lr").double_value() == 0.001);
  CHECK(flags.set().at("layers").int_value() == 4);

  pb::SetDesiredStateRequest state;
  REQUIRE(FillRequest({{"id", "lr-a"}}, {}, R"({"desired_state": "STOPPED"})", &state).ok());
  CHECK(state.desired_state() == pb::DESIRED_STATE_STOPPED);

  pb::CreateExperimentRequest create;
  REQUIRE(
      FillRequest({}, {}, R"({"name": "a", "base_command": "lt", "flags": {"x": true}})", &create)
          .ok());
  CHECK(create.experiment().name() == "a");
  CHECK(create.experiment().flags().at("x").bool_value());
}

TEST_CASE("no body is the empty request", "[bridge]") {
  pb::RefreshRequest refresh;
  CHECK(FillRequest({}, {}, "", &refresh).ok());
  CHECK(FillRequest({}, {}, " \r\n", &refresh).ok());
  pb::ReconcileRequest reconcile;
  CHECK(FillRequest({}, {}, "{}", &reconcile).ok());
  CHECK(reconcile.id().empty());
}

TEST_CASE("enum errors list the valid names, in queries and bodies", "[bridge]") {
  pb::ListExperimentsRequest list;
  auto q = FillRequest({}, {{"desired_states", "SLEEPING"}}, "", &list);
  CHECK(q.message() == "desired_states: \"SLEEPING\" is not one of RUNNING, STOPPED, TERMINATED");
  pb::SetDesiredStateRequest state;
  auto b = FillRequest({}, {}, R"({"desired_state": "SLEEPING"})", &state);
  CHECK(b.message() == "desired_state: \"SLEEPING\" is not one of RUNNING, STOPPED, TERMINATED");
  auto p = FillRequest({}, {{"nope", "1"}}, "", &list);
  CHECK(p.message().find("its fields are page_size, page_token,") != absl::string_view::npos);
}

TEST_CASE("responses print as plain JSON", "[bridge]") {
  pb::GetExperimentResponse resp;
  resp.mutable_experiment()->set_base_command("python x.py");
  resp.mutable_experiment()->set_id(5);
  resp.mutable_experiment()->set_desired_state(pb::DESIRED_STATE_STOPPED);
  (*resp.mutable_experiment()->mutable_flags())["layers"].set_int_value(4);
  auto json = MessageToJson(resp);
  REQUIRE(json.ok());
  CHECK(json->rfind(R"({"experiment":{"id":"5","name":"","description":"",)"
                    R"("base_command":"python x.py","flags":{"layers":4},)",
                    0) == 0);
  CHECK(json->find(R"("desired_state":"STOPPED")") != std::string::npos);
  CHECK(json->find(R"("conditions":[])") != std::string::npos);
}

}  // namespace
}  // namespace skydeck::web
