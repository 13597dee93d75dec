#include "common/model/validation.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

TEST_CASE("experiment names start with a letter and are never numeric", "[validation]") {
  CHECK(ValidateExperimentName("lr-sweep.3_a").ok());
  CHECK(absl::IsInvalidArgument(ValidateExperimentName("")));
  CHECK(absl::IsInvalidArgument(ValidateExperimentName("42")));
  CHECK(absl::IsInvalidArgument(ValidateExperimentName("-x")));
  CHECK(absl::IsInvalidArgument(ValidateExperimentName("a b")));
  CHECK(absl::IsInvalidArgument(ValidateExperimentName("a;b")));
  CHECK(absl::IsInvalidArgument(ValidateExperimentName(std::string(64, 'a'))));
  CHECK(ValidateExperimentName(std::string(63, 'a')).ok());
}

TEST_CASE("flag keys match [A-Za-z_][A-Za-z0-9_.-]*", "[validation]") {
  CHECK(ValidateFlagKey("trainer.lr").ok());
  CHECK(ValidateFlagKey("_x-1.y").ok());
  CHECK(absl::IsInvalidArgument(ValidateFlagKey("1lr")));
  CHECK(absl::IsInvalidArgument(ValidateFlagKey("a b")));
  CHECK(absl::IsInvalidArgument(ValidateFlagKey("a=b")));
  CHECK(absl::IsInvalidArgument(ValidateFlagKey("$(x)")));
  CHECK(absl::IsInvalidArgument(ValidateFlagKey("")));
  auto status = ValidateFlagKey("1lr");
  CHECK(status.message().find("1lr") != absl::string_view::npos);
}

TEST_CASE("flag maps are bounded in count and size", "[validation]") {
  FlagMap many;
  for (int i = 0; i <= static_cast<int>(kMaxFlags); ++i) many["f" + std::to_string(i)] = int64_t{i};
  CHECK(absl::IsInvalidArgument(ValidateFlags(many)));
  CHECK(
      absl::IsInvalidArgument(ValidateFlags({{"big", std::string(kMaxFlagStringBytes + 1, 'x')}})));
  CHECK(absl::IsInvalidArgument(ValidateFlags({{"nl", std::string("a\x01")}})));
  CHECK(ValidateFlags({{"ok", std::string("multi\nline")}}).ok());
}

TEST_CASE("labels keep selector syntax out of values", "[validation]") {
  CHECK(ValidateLabels({{"sweep", "lr"}, {"team/owner", "ml-infra"}}).ok());
  CHECK(absl::IsInvalidArgument(ValidateLabels({{"a", "x,y"}})));
  CHECK(absl::IsInvalidArgument(ValidateLabels({{"a", "x=y"}})));
  CHECK(absl::IsInvalidArgument(ValidateLabels({{"1a", "x"}})));
}

TEST_CASE("ids are positive integers", "[validation]") {
  CHECK(*ParseId("id", "42") == 42);
  CHECK(absl::IsInvalidArgument(ParseId("id", "0").status()));
  CHECK(absl::IsInvalidArgument(ParseId("id", "-1").status()));
  CHECK(absl::IsInvalidArgument(ParseId("id", "4x").status()));
  CHECK(absl::IsInvalidArgument(ParseId("id", "99999999999999999999").status()));
  CHECK(IsNumericRef("42"));
  CHECK_FALSE(IsNumericRef("a42"));
}

TEST_CASE("ranges name the field and the bounds", "[validation]") {
  CHECK(ValidateRange("nodes", 1, 1, 512).ok());
  auto s = ValidateRange("nodes", 0, 1, 512);
  CHECK(absl::IsInvalidArgument(s));
  CHECK(s.message() == "nodes: must be between 1 and 512, got 0");
}

}  // namespace
}  // namespace skydeck

namespace skydeck {
namespace {

TEST_CASE("env and secret names are shell names, not SkyDeck's or SkyPilot's", "[validation]") {
  CHECK(ValidateEnvName("envs", "WANDB_PROJECT").ok());
  CHECK(ValidateEnvName("envs", "_x1").ok());
  CHECK(absl::IsInvalidArgument(ValidateEnvName("envs", "1X")));
  CHECK(absl::IsInvalidArgument(ValidateEnvName("envs", "A-B")));
  CHECK(absl::IsInvalidArgument(ValidateEnvName("envs", "")));
  CHECK(absl::IsInvalidArgument(ValidateEnvName("secrets", "SKYDECK_AUTH_TOKEN")));
  CHECK(absl::IsInvalidArgument(ValidateEnvName("secrets", "SKYPILOT_SERVICE_ACCOUNT_TOKEN")));
  CHECK(absl::IsInvalidArgument(ValidateEnvName("envs", "SKYPILOT_NODE_RANK")));
  CHECK(ValidateEnvName("secrets", "SKYPILOT_DOCKER_PASSWORD").ok());

  CHECK(ValidateEnvs({{"A", "1"}, {"B", "multi\nline"}}).ok());
  CHECK(absl::IsInvalidArgument(ValidateEnvs({{"A", std::string(5000, 'x')}})));
  CHECK(ValidateSecretNames({"A", "B"}).ok());
  CHECK(absl::IsInvalidArgument(ValidateSecretNames({"A", "A"})));
}

}  // namespace
}  // namespace skydeck
