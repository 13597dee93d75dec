// File: common/model/validation.h
//
// Syntax and size rules for everything a client can send, checked at the API
// edge (daemon) and early in the CLI so mistakes are caught before a request
// or a GPU hour is spent. Every error is INVALID_ARGUMENT and names the field
// and the rule, e.g. `flag key "1lr": must match [A-Za-z_][A-Za-z0-9_.-]*`.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "common/model/flag_value.h"
#include "common/quote_for_error.h"

namespace skydeck {

// Limits. They bound the size of one experiment row and of what is pasted
// into a command line; change them in one place.
inline constexpr size_t kMaxNameBytes = 63;
inline constexpr size_t kMaxDescriptionBytes = 4096;
inline constexpr size_t kMaxCommandBytes = 16 * 1024;
inline constexpr size_t kMaxFlagKeyBytes = 128;
inline constexpr size_t kMaxFlagStringBytes = 4096;
inline constexpr size_t kMaxFlags = 256;
inline constexpr size_t kMaxLabelKeyBytes = 128;
inline constexpr size_t kMaxLabelValueBytes = 256;
inline constexpr size_t kMaxLabels = 64;
inline constexpr size_t kMaxShortFieldBytes = 256;  // run name, gpu type, infra
inline constexpr size_t kMaxReasonBytes = 1024;
inline constexpr int kMaxNodes = 512;
inline constexpr int kMaxGpusPerNode = 64;
inline constexpr int kMaxRestartsLimit = 100;
inline constexpr int kMaxPageSize = 1000;
// Experiments named one by one in a bulk request (SetDesiredState.ids); a
// filter reaches any number.
inline constexpr size_t kMaxRefsPerRequest = 1000;
// Environment variables and secret names of one experiment.
inline constexpr size_t kMaxEnvs = 64;
inline constexpr size_t kMaxEnvValueBytes = 4096;
inline constexpr size_t kMaxSecrets = 64;
inline constexpr size_t kMaxEnvNameBytes = 128;
// Experiments a bulk answer carries in full; beyond that, only their ids.
inline constexpr size_t kMaxExperimentsInBulkAnswer = 1000;
// ExperimentFilter.text, the dashboard's search box.
inline constexpr size_t kMaxSearchTextBytes = 1024;
// The rendered command (base command and quoted flags). The local backend
// passes it as one argument to `/bin/sh -c`, which Linux caps at 128 KiB
// (MAX_ARG_STRLEN); the margin covers schema normalisation after the check.
inline constexpr size_t kMaxCommandLineBytes = 120 * 1024;

// Experiment names: a letter, then letters, digits, '.', '_' or '-'; at most
// 63 bytes. Never all digits, so a name never looks like an id.
absl::Status ValidateExperimentName(absl::string_view name);

// Flag keys: [A-Za-z_][A-Za-z0-9_.-]*, at most 128 bytes.
absl::Status ValidateFlagKey(absl::string_view key);

// Keys valid, string values within size, doubles finite, at most 256 flags.
absl::Status ValidateFlags(const FlagMap& flags);

// RenderCommand(base_command, flags) is at most kMaxCommandLineBytes: every
// other limit can hold, and the command still be too long to exec (256
// flags of 4 KiB quotes render as 4 MiB).
absl::Status ValidateCommandLine(absl::string_view base_command, const FlagMap& flags);

// Label keys as flag keys plus '/', values printable ASCII without ',' '='
// '(' ')' (selector syntax) and at most 256 bytes; at most 64 labels.
absl::Status ValidateLabels(const std::map<std::string, std::string>& labels);

// IsReservedEnvName()
//
// Names SkyDeck or SkyPilot set, or that would hand a job a credential of
// the daemon (a secret named SKYDECK_AUTH_TOKEN or
// SKYPILOT_SERVICE_ACCOUNT_TOKEN read from the daemon's environment):
// SKYDECK_* and SKYPILOT_*, except SKYPILOT_DOCKER_USERNAME,
// SKYPILOT_DOCKER_PASSWORD and SKYPILOT_DOCKER_SERVER (SkyPilot's login to
// a private image registry, which a task may list).
bool IsReservedEnvName(absl::string_view name);

// ValidateEnvName()
//
// An environment variable or secret name: [A-Za-z_][A-Za-z0-9_]*, at most
// 128 bytes, and not reserved (IsReservedEnvName). `field` names it in the
// error ("envs", "secrets").
absl::Status ValidateEnvName(absl::string_view field, absl::string_view name);

// Names as ValidateEnvName, values text of at most 4 KiB, at most 64.
absl::Status ValidateEnvs(const std::map<std::string, std::string>& envs);

// Names as ValidateEnvName, no name twice, at most 64.
absl::Status ValidateSecretNames(const std::vector<std::string>& names);

// Printable text (no control characters but tab and newline), at most
// `max_bytes` bytes. `field` names it in the error.
absl::Status ValidateText(absl::string_view field, absl::string_view text, size_t max_bytes);

// A number in [min, max]; `field` names it in the error.
absl::Status ValidateRange(absl::string_view field, int64_t value, int64_t min, int64_t max);

// Parses a numeric experiment or job id ("42"). Errors: INVALID_ARGUMENT
// when not a positive integer.
absl::StatusOr<int64_t> ParseId(absl::string_view field, absl::string_view text);

// True when `ref` is all digits (an id), false when it should be a name.
bool IsNumericRef(absl::string_view ref);

}  // namespace skydeck
