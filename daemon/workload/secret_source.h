// File: daemon/workload/secret_source.h
//
// Where the values of secrets come from. An experiment or template lists
// secret *names*; their values are read here at launch (and checked for
// presence when an experiment is created or changed) and go only to the
// backend: SkyPilot's task `secrets`, or a local job's environment. They
// are never stored, logged, put into events or shown by the API.
//
// Two sources (skydeckd chooses one):
//   --secrets-file FILE: KEY=VALUE lines, read again at every use, so an
//     edit takes effect without a restart. Refused unless it is a regular
//     file of mode 0600 or stricter (no group or other bits).
//   otherwise: skydeckd's own environment.
//
//   std::unique_ptr<SecretSource> source = FileSecretSource("/etc/skydeck/secrets");
//   ASSIGN_OR_RETURN(SecretValues values, source->Resolve({"WANDB_API_KEY"}));
//
// File format: one KEY=VALUE per line; blank lines and lines starting with
// '#' are skipped; a leading "export " is allowed; the value is the rest of
// the line (a value wholly in matching single or double quotes loses
// them). Errors about a line name its number, never its content.
//
// Thread-safety: implementations are safe for concurrent use.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck::workload {

using SecretValues = std::map<std::string, std::string>;

class SecretSource {
 public:
  virtual ~SecretSource() = default;

  // The values of `names`. Errors: FAILED_PRECONDITION naming every
  // missing name (never a value) and where it was looked for, or the file
  // being unreadable, malformed or too open.
  virtual absl::StatusOr<SecretValues> Resolve(const std::vector<std::string>& names) = 0;

  // Where values come from, for messages: "the secrets file /x" or
  // "skydeckd's environment".
  virtual std::string Describe() const = 0;
};

// A source reading `path` at every Resolve.
std::unique_ptr<SecretSource> FileSecretSource(std::string path);

// A source reading skydeckd's environment.
std::unique_ptr<SecretSource> EnvironmentSecretSource();

// CheckSecretsFile()
//
// What Resolve would refuse about the file itself, for start-up: missing,
// not a regular file, group- or world-accessible, or a malformed line.
absl::Status CheckSecretsFile(const std::string& path);

// ParseSecrets()
//
// The KEY=VALUE text of a secrets file (format above). Errors:
// INVALID_ARGUMENT naming the line for a line without '=' or with an
// invalid name.
absl::StatusOr<SecretValues> ParseSecrets(absl::string_view text);

}  // namespace skydeck::workload
