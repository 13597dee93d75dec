// File: cli/views.h
//
// How SkyDeck's resources look to a person: the table rows and key/value
// blocks of experiments, jobs, events and health. Shared by every noun so an
// experiment reads the same in `list`, `start` and `create`. Pure functions
// of the protos and the current time (for ages); machine output does not
// come through here (see output.h). With `color` (CommandContext::color():
// a terminal that wants it), state words are coloured: green going well,
// yellow on the way, red failed or stalled, dim at rest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <google/protobuf/map.h>
#include <google/protobuf/timestamp.pb.h>

#include "absl/strings/string_view.h"

#include "cli/output.h"
#include "common/model/flag_value.h"
#include "skydeck/v1/resources.pb.h"
#include "skydeck/v1/service.pb.h"

namespace skydeck::cli {

namespace pb = ::skydeck::v1;

// Table cells are cut here so one long flag set or message cannot make a
// table unreadable; `get` and `describe` show everything.
inline constexpr size_t kMaxFlagsCell = 60;
inline constexpr size_t kMaxTextCell = 80;

// Flags as plain values; a value with no kind set (invalid, never sent by
// the daemon) shows as "?" rather than hiding the key.
FlagMap FlagsOf(const google::protobuf::Map<std::string, pb::FlagValue>& flags);

// Unix milliseconds; 0 when unset.
int64_t MillisOf(const google::protobuf::Timestamp& time);

// "RUNNING" etc. (no prefix); "-" for UNSPECIFIED.
std::string StateName(pb::DesiredState state);
std::string StateName(pb::ObservedState state);
std::string StateName(pb::JobStatus status);

// A state word as shown in a table ("RUNNING", "FAILED (stalled)",
// "UNKNOWN(x)"), coloured by its meaning when `color`.
std::string PaintState(absl::string_view word, bool color);

// The header of ExperimentTable (wide: ExperimentWideTable) and the cells
// of one experiment's row in it, for printing a list page by page
// (TableStream) with the same rows.
std::vector<std::string> ExperimentColumns(bool wide);
std::vector<std::string> ExperimentRow(const pb::Experiment& e, int64_t now_ms, bool color,
                                       bool wide);

// ID NAME DESIRED OBSERVED SINCE JOB NODESxGPUS RESTARTS AGE FLAGS (SINCE:
// how long in the observed state). A deleted experiment's name is marked
// "(deleted)", a starred one's with a star, a stalled one's observed state
// "(stalled)".
std::string ExperimentTable(const std::vector<pb::Experiment>& experiments, int64_t now_ms,
                            bool color = false);

// -o wide: ID NAME DESIRED OBSERVED SINCE JOB NODESxGPUS INFRA SPOT RESTARTS AGE
// LABELS FLAGS, flags not truncated.
std::string ExperimentWideTable(const std::vector<pb::Experiment>& experiments, int64_t now_ms,
                                bool color = false);

// Every field of one experiment (`exp get`).
KeyValues ExperimentDetails(const pb::Experiment& experiment, int64_t now_ms, bool color = false);

// KEY TYPE VALUE, sorted by key.
std::string FlagTable(const google::protobuf::Map<std::string, pb::FlagValue>& flags);

// JOB ATTEMPT STATUS SINCE BACKEND BACKEND-ID SUBMITTED STARTED ENDED EXIT
// REASON (SINCE: how long in that status).
std::string JobTable(const std::vector<pb::Job>& jobs, int64_t now_ms, bool color = false);

// Every field of one job (`job get`).
KeyValues JobDetails(const pb::Job& job, int64_t now_ms, bool color = false);

// TIME TYPE REASON ACTOR MESSAGE; newest first, as the daemon sends them.
std::string EventTable(const std::vector<pb::Event>& events, int64_t now_ms);

// US dollars for people: "$12.34".
std::string CostText(double usd);

// `exp describe`: spec, flags, desired vs observed, conditions, current job,
// recent jobs and events, as sections.
std::string DescribeExperiment(const pb::GetExperimentStatusResponse& status,
                               const std::vector<pb::Event>& events, int64_t now_ms,
                               bool color = false);

// `health`: status, versions, backend, last poll, experiments by state.
KeyValues HealthDetails(const pb::Health& health, int64_t now_ms);

}  // namespace skydeck::cli
