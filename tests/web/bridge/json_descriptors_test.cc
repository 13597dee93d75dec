#include "web/bridge/json_descriptors.h"

#include <catch2/catch.hpp>

#include "skydeck/v1/service.pb.h"
#include "web/bridge/testdata/json_options.pb.h"

namespace skydeck::web {
namespace {

namespace pb = ::skydeck::v1;

TEST_CASE("enum short names drop the prefix the type name gives", "[bridge][json]") {
  const JsonEnumInfo& desired = JsonEnumInfo::For(pb::DesiredState_descriptor());
  CHECK(desired.ShortName(pb::DesiredState_descriptor()->FindValueByNumber(1)) == "RUNNING");
  CHECK(desired.valid_names() == "RUNNING, STOPPED, TERMINATED");
  // Nested enums: FlagSchema.Type's TYPE_INT, Health.Status's STATUS_SERVING.
  CHECK(JsonEnumInfo::For(pb::FlagSchema::Type_descriptor())
            .ShortName(pb::FlagSchema::Type_descriptor()->FindValueByName("TYPE_INT")) == "INT");
  CHECK(JsonEnumInfo::For(pb::Health::Status_descriptor())
            .ShortName(pb::Health::Status_descriptor()->FindValueByNumber(1)) == "SERVING");
  CHECK(JsonEnumInfo::For(pb::JobStatus_descriptor())
            .ShortName(pb::JobStatus_descriptor()->FindValueByNumber(13)) == "FAILED_NO_RESOURCE");
  // Values that do not all carry the prefix keep their full names.
  const auto* legacy = bridgetest::Shapes::Legacy_descriptor();
  CHECK(JsonEnumInfo::For(legacy).ShortName(legacy->FindValueByNumber(1)) == "OLD_STYLE");
}

TEST_CASE("enum values are found by short or full name, any case, or number", "[bridge][json]") {
  const JsonEnumInfo& desired = JsonEnumInfo::For(pb::DesiredState_descriptor());
  for (const char* text :
       {"STOPPED", "stopped", "DESIRED_STATE_STOPPED", "desired_state_stopped", "2"}) {
    auto v = desired.Find(text);
    REQUIRE(v.ok());
    CHECK((*v)->number() == pb::DESIRED_STATE_STOPPED);
  }
  auto bad = desired.Find("SLEEPING");
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK(bad.status().message() == "\"SLEEPING\" is not one of RUNNING, STOPPED, TERMINATED");
  CHECK(absl::IsInvalidArgument(desired.Find("9").status()));
}

TEST_CASE("fields are found by proto name, camelCase and alias", "[bridge][json]") {
  const JsonMessageInfo& flags = JsonMessageInfo::For(pb::UpdateFlagsRequest::descriptor());
  CHECK(flags.FindField("set")->name() == "set");
  CHECK(flags.FindField("flags")->name() == "set");  // json_alias
  CHECK(flags.FindField("validateOnly")->name() == "validate_only");
  CHECK(flags.FindField("nope") == nullptr);
  CHECK(JsonMessageInfo::For(pb::Experiment::descriptor()).FindField("cloud")->name() == "infra");
}

TEST_CASE("message options are read from the proto", "[bridge][json]") {
  const JsonMessageInfo& flag = JsonMessageInfo::For(pb::FlagValue::descriptor());
  CHECK(flag.is_scalar());
  CHECK(flag.int_member()->name() == "int_value");
  CHECK(flag.double_member()->name() == "double_value");
  CHECK(flag.options_status().ok());
  CHECK(JsonMessageInfo::For(pb::CreateExperimentRequest::descriptor()).inline_field()->name() ==
        "experiment");
  CHECK(JsonMessageInfo::For(pb::GetJobLogsResponse::descriptor()).sse_text_field()->name() ==
        "data");
  CHECK(JsonMessageInfo::For(google::protobuf::Timestamp::descriptor()).is_well_known());
  CHECK(!JsonMessageInfo::For(pb::Experiment::descriptor()).is_scalar());
  // An option used against its REQUIRES is reported, not guessed around.
  CHECK(absl::IsInternal(
      JsonMessageInfo::For(bridgetest::NotAScalar::descriptor()).options_status()));
}

}  // namespace
}  // namespace skydeck::web
