// cli/sweep_plan.h: grid parsing, cartesian expansion, name and label
// sanitizing.
#include "cli/sweep_plan.h"

#include <catch2/catch.hpp>

using namespace skydeck::cli;
using skydeck::FlagMap;
using skydeck::FlagValue;

TEST_CASE("grid words are typed like --flag", "[cli][sweep]") {
  auto axes = ParseGridAxes({"lr=1e-4,3e-4", "model.layers=1,4", "tag:=1,2"});
  REQUIRE(axes.ok());
  REQUIRE(axes->size() == 3);
  CHECK((*axes)[0].key == "lr");
  CHECK((*axes)[0].texts == std::vector<std::string>{"1e-4", "3e-4"});
  CHECK((*axes)[0].values[0] == FlagValue(1e-4));
  CHECK((*axes)[1].values[1] == FlagValue(int64_t{4}));
  CHECK((*axes)[2].key == "tag");
  CHECK((*axes)[2].values[0] == FlagValue(std::string("1")));
}

TEST_CASE("bad grid words are rejected", "[cli][sweep]") {
  CHECK(ParseGridAxes({"lr"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseGridAxes({"=1,2"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseGridAxes({"lr=1,,2"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseGridAxes({"lr=1,1"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseGridAxes({"lr=1", "lr=2"}).status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(ParseGridAxes({"1bad=1"}).status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a 2x4 sweep expands in order with readable names and labels", "[cli][sweep]") {
  auto axes = ParseGridAxes({"lr=1e-4,3e-4", "model.layers=1,4,16,64"});
  REQUIRE(axes.ok());
  auto points = ExpandSweep("big", *axes, {{"seed", int64_t{7}}}, {{"team", "nlp"}});
  REQUIRE(points.ok());
  REQUIRE(points->size() == 8);
  CHECK((*points)[0].name == "big-lr-1e-4-model.layers-1");
  CHECK((*points)[1].name == "big-lr-1e-4-model.layers-4");
  CHECK((*points)[7].name == "big-lr-3e-4-model.layers-64");
  const SweepPoint& p = (*points)[5];
  CHECK(p.flags == FlagMap{{"lr", 3e-4}, {"model.layers", int64_t{4}}, {"seed", int64_t{7}}});
  CHECK(p.labels ==
        std::map<std::string, std::string>{
            {"lr", "0.0003"}, {"model.layers", "4"}, {"sweep", "big"}, {"team", "nlp"}});
}

TEST_CASE("long or colliding names fall back to indexes", "[cli][sweep]") {
  auto axes = ParseGridAxes({"a.very.long.flag.key.name=first-long-value,second-long-value"});
  REQUIRE(axes.ok());
  auto points = ExpandSweep("sweep-with-a-long-name", *axes, {});
  REQUIRE(points.ok());
  CHECK((*points)[0].name == "sweep-with-a-long-name-1");
  CHECK((*points)[1].name == "sweep-with-a-long-name-2");

  auto colliding = ParseGridAxes({"p=a/b,a_b"});
  REQUIRE(colliding.ok());
  auto named = ExpandSweep("s", *colliding, {});
  REQUIRE(named.ok());
  CHECK((*named)[0].name == "s-1");
  CHECK((*named)[0].labels.at("p") == "a/b");
}

TEST_CASE("sweep points cannot clash with fixed flags or labels", "[cli][sweep]") {
  auto axes = ParseGridAxes({"lr=1,2"});
  REQUIRE(axes.ok());
  CHECK(ExpandSweep("s", *axes, {{"lr", int64_t{3}}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ExpandSweep("s", *axes, {}, {{"sweep", "x"}}).status().code() ==
        absl::StatusCode::kInvalidArgument);
  auto none = ExpandSweep("s", {}, {});
  REQUIRE(none.ok());
  REQUIRE(none->size() == 1);
  CHECK((*none)[0].name == "s");
}

TEST_CASE("names and label values are sanitized", "[cli][sweep]") {
  CHECK(SanitizeName("lr-1e-4") == "lr-1e-4");
  CHECK(SanitizeName("a/b c") == "a_b_c");
  CHECK(SanitizeName("1abc") == "x1abc");
  CHECK(SanitizeName("") == "x");
  CHECK(SanitizeLabelValue("a,b=(c)") == "a_b__c_");
  CHECK(SanitizeLabelValue(std::string(300, 'v')).size() == 256);
}
