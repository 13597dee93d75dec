// File: common/model/proto_convert.h
//
// Conversions between the API's proto types and SkyDeck's plain C++ values
// (flag_value.h, states.h), shared by the daemon's service layer and the CLI.
#pragma once

#include <google/protobuf/map.h>
#include <google/protobuf/timestamp.pb.h>

#include "absl/status/statusor.h"

#include "common/model/flag_value.h"
#include "common/model/states.h"
#include "skydeck/v1/resources.pb.h"

namespace skydeck {

namespace pb = ::skydeck::v1;

// Errors: INVALID_ARGUMENT when no kind is set.
absl::StatusOr<FlagValue> FromProto(const pb::FlagValue& value);
pb::FlagValue ToProto(const FlagValue& value);

// Errors: INVALID_ARGUMENT naming the flag with no value.
absl::StatusOr<FlagMap> FromProto(const google::protobuf::Map<std::string, pb::FlagValue>& flags);
void ToProto(const FlagMap& flags, google::protobuf::Map<std::string, pb::FlagValue>* out);

// Errors: INVALID_ARGUMENT for UNSPECIFIED.
absl::StatusOr<DesiredState> FromProto(pb::DesiredState state);
pb::DesiredState ToProto(DesiredState state);
absl::StatusOr<ObservedState> FromProto(pb::ObservedState state);
pb::ObservedState ToProto(ObservedState state);
pb::JobStatus ToProto(JobStatus status);

// Unix milliseconds <-> Timestamp; 0 means unset.
void ToProtoTime(int64_t unix_millis, google::protobuf::Timestamp* out);
int64_t FromProtoTime(const google::protobuf::Timestamp& ts);

}  // namespace skydeck
