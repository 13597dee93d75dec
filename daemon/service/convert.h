// File: daemon/service/convert.h
//
// Store records <-> API messages. Input conversions validate (they are the
// API edge): every error is INVALID_ARGUMENT naming the field.
#pragma once

#include "absl/status/statusor.h"
#include "google/protobuf/field_mask.pb.h"

#include "common/model/records.h"
#include "skydeck/v1/resources.pb.h"

namespace skydeck::service {

namespace pb = ::skydeck::v1;

void ToProto(const CodeSnapshotRef& code, pb::CodeSnapshot* out);
void ToProto(const ExperimentRecord& record, pb::Experiment* out);
void ToProto(const JobRecord& job, pb::Job* out);
void ToProto(const EventRecord& event, pb::Event* out);

// The spec a create request asks for, with defaults applied (nodes 1,
// max_restarts 3, desired STOPPED) and every field validated. Output-only
// fields are ignored, and so is code_snapshot (the service resolves it:
// service_snapshots.cc).
absl::StatusOr<ExperimentSpec> SpecFromProto(const pb::Experiment& experiment);

// Copies the fields named in `mask` from `experiment` into `spec`
// ("workdir" clears spec->code: the caller puts the resolved snapshot).
// Errors: INVALID_ARGUMENT for an empty mask or an unknown/output-only path.
// REQUIRES: the caller validates the resulting spec (ValidateSpec).
absl::Status ApplyFieldMask(const pb::Experiment& experiment,
                            const google::protobuf::FieldMask& mask, ExperimentSpec* spec);

// All rules a stored spec must satisfy (common/model/validation.h).
absl::Status ValidateSpec(const ExperimentSpec& spec);

}  // namespace skydeck::service
