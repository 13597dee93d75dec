#include "web/bridge/route_table.h"

#include <catch2/catch.hpp>

#include "skydeck/v1/annotations.pb.h"
#include "skydeck/v1/service.pb.h"

namespace skydeck::web {
namespace {

const google::protobuf::ServiceDescriptor* Service() {
  return skydeck::v1::GetHealthRequest::descriptor()->file()->FindServiceByName("SkyDeck");
}

TEST_CASE("every RPC with an http option gets a route", "[bridge]") {
  auto table = RouteTable::ForService(Service());
  REQUIRE(table.ok());
  int with_option = 0;
  for (int i = 0; i < Service()->method_count(); ++i) {
    with_option += Service()->method(i)->options().ExtensionSize(skydeck::v1::http) > 0;
  }
  CHECK(with_option == Service()->method_count());  // the whole API is on HTTP
  CHECK(table->routes().size() >= static_cast<size_t>(with_option));
}

TEST_CASE("paths match with parameters and literals win", "[bridge]") {
  auto table = RouteTable::ForService(Service());
  REQUIRE(table.ok());
  auto get = table->Match("GET", "/api/experiments/42");
  REQUIRE(get.ok());
  CHECK(get->route->method->name() == "GetExperiment");
  CHECK(get->path_params.at("id") == "42");

  auto bulk = table->Match("POST", "/api/experiments/state");
  REQUIRE(bulk.ok());
  CHECK(bulk->route->method->name() == "SetDesiredState");
  CHECK(bulk->path_params.empty());

  auto one = table->Match("POST", "/api/experiments/lr-a/state");
  REQUIRE(one.ok());
  CHECK(one->path_params.at("id") == "lr-a");

  auto events = table->Match("GET", "/api/experiments/7/events");
  REQUIRE(events.ok());
  CHECK(events->path_params.at("experiment_id") == "7");

  CHECK(table->Match("GET", "/api/experiments/")->route->method->name() == "ListExperiments");
  CHECK(absl::IsNotFound(table->Match("GET", "/api/nothing").status()));
  CHECK(absl::IsFailedPrecondition(table->Match("PUT", "/api/experiments").status()));
}

TEST_CASE("a malformed http option is reported", "[bridge]") {
  // Built from a descriptor of a hand-written file so the check runs on a
  // route the real API does not have.
  google::protobuf::DescriptorPool pool(google::protobuf::DescriptorPool::generated_pool());
  google::protobuf::FileDescriptorProto file;
  file.set_name("test_bad.proto");
  file.set_package("bridgetest");
  file.add_dependency("skydeck/v1/service.proto");
  file.add_dependency("skydeck/v1/annotations.proto");
  auto* svc = file.add_service();
  svc->set_name("Bad");
  auto* m = svc->add_method();
  m->set_name("Get");
  m->set_input_type(".skydeck.v1.GetExperimentRequest");
  m->set_output_type(".skydeck.v1.GetExperimentResponse");
  m->mutable_options()->AddExtension(skydeck::v1::http, "GET /api/x/{nope}");
  const auto* fd = pool.BuildFile(file);
  REQUIRE(fd != nullptr);
  auto table = RouteTable::ForService(fd->service(0));
  CHECK(absl::IsInvalidArgument(table.status()));
}

TEST_CASE("percent escapes decode and bad ones are refused", "[bridge]") {
  CHECK(*PercentDecode("a%20b") == "a b");
  CHECK(*PercentDecode("%2e%2E") == "..");
  CHECK(absl::IsInvalidArgument(PercentDecode("%zz").status()));
  CHECK(absl::IsInvalidArgument(PercentDecode("%2").status()));
}

}  // namespace
}  // namespace skydeck::web
