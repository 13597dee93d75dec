#include "common/model/proto_convert.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace skydeck {

absl::StatusOr<FlagValue> FromProto(const pb::FlagValue& value) {
  switch (value.kind_case()) {
    case pb::FlagValue::kStringValue:
      return FlagValue(value.string_value());
    case pb::FlagValue::kIntValue:
      return FlagValue(value.int_value());
    case pb::FlagValue::kDoubleValue:
      return FlagValue(value.double_value());
    case pb::FlagValue::kBoolValue:
      return FlagValue(value.bool_value());
    case pb::FlagValue::KIND_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError("flag value has no kind set");
}

pb::FlagValue ToProto(const FlagValue& value) {
  pb::FlagValue out;
  struct Setter {
    pb::FlagValue* out;
    void operator()(const std::string& s) const { out->set_string_value(s); }
    void operator()(int64_t i) const { out->set_int_value(i); }
    void operator()(double d) const { out->set_double_value(d); }
    void operator()(bool b) const { out->set_bool_value(b); }
  };
  std::visit(Setter{&out}, value);
  return out;
}

absl::StatusOr<FlagMap> FromProto(const google::protobuf::Map<std::string, pb::FlagValue>& flags) {
  FlagMap out;
  for (const auto& [key, value] : flags) {
    auto v = FromProto(value);
    if (!v.ok()) {
      return absl::InvalidArgumentError(absl::StrCat("flag ", key, ": no value set"));
    }
    out.emplace(key, *std::move(v));
  }
  return out;
}

void ToProto(const FlagMap& flags, google::protobuf::Map<std::string, pb::FlagValue>* out) {
  out->clear();
  for (const auto& [key, value] : flags) (*out)[key] = ToProto(value);
}

// The proto enums list the C++ values in the same order, one past
// UNSPECIFIED; the tests pin that by name.
absl::StatusOr<DesiredState> FromProto(pb::DesiredState state) {
  if (state <= pb::DESIRED_STATE_UNSPECIFIED || !pb::DesiredState_IsValid(state)) {
    return absl::InvalidArgumentError("desired_state: must be RUNNING, STOPPED or TERMINATED");
  }
  return static_cast<DesiredState>(state - 1);
}
pb::DesiredState ToProto(DesiredState state) {
  return static_cast<pb::DesiredState>(static_cast<int>(state) + 1);
}
absl::StatusOr<ObservedState> FromProto(pb::ObservedState state) {
  if (state <= pb::OBSERVED_STATE_UNSPECIFIED || !pb::ObservedState_IsValid(state)) {
    return absl::InvalidArgumentError(absl::StrCat("observed state ", state, ": unknown"));
  }
  return static_cast<ObservedState>(state - 1);
}
pb::ObservedState ToProto(ObservedState state) {
  return static_cast<pb::ObservedState>(static_cast<int>(state) + 1);
}
pb::JobStatus ToProto(JobStatus status) {
  return static_cast<pb::JobStatus>(static_cast<int>(status) + 1);
}

void ToProtoTime(int64_t unix_millis, google::protobuf::Timestamp* out) {
  // Floor division: nanos must be in [0, 1e9) even before 1970.
  int64_t seconds = unix_millis / 1000;
  int64_t millis = unix_millis % 1000;
  if (millis < 0) {
    seconds -= 1;
    millis += 1000;
  }
  out->set_seconds(seconds);
  out->set_nanos(static_cast<int32_t>(millis) * 1000000);
}

int64_t FromProtoTime(const google::protobuf::Timestamp& ts) {
  return ts.seconds() * 1000 + ts.nanos() / 1000000;
}

}  // namespace skydeck
