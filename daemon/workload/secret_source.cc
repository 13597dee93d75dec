#include "daemon/workload/secret_source.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

#include "common/status_macros.h"

namespace skydeck::workload {
namespace {

bool IsName(absl::string_view name) {
  if (name.empty() || !(absl::ascii_isalpha(name.front()) || name.front() == '_')) return false;
  for (char c : name) {
    if (!absl::ascii_isalnum(c) && c != '_') return false;
  }
  return true;
}

absl::Status MissingNames(const std::vector<std::string>& missing, absl::string_view where,
                          absl::string_view how) {
  return absl::FailedPreconditionError(
      absl::StrCat(missing.size() == 1 ? "secret " : "secrets ", absl::StrJoin(missing, ", "),
                   missing.size() == 1 ? " is" : " are", " not set in ", where, ": ", how));
}

absl::StatusOr<std::string> ReadSecretsFile(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("secrets file ", path, ": ", std::strerror(errno)));
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("secrets file ", path, " is not a regular file"));
  }
  if ((st.st_mode & 077) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::FailedPreconditionError(
        absl::StrCat("secrets file ", path, " has mode ", mode,
                     ": others could read it; make it private with chmod 600 ", path));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return absl::FailedPreconditionError(
        absl::StrCat("secrets file ", path, ": ", std::strerror(errno)));
  }
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

class FileSource final : public SecretSource {
 public:
  explicit FileSource(std::string path) : path_(std::move(path)) {}

  absl::StatusOr<SecretValues> Resolve(const std::vector<std::string>& names) override {
    if (names.empty()) return SecretValues{};
    ASSIGN_OR_RETURN(std::string text, ReadSecretsFile(path_));
    absl::StatusOr<SecretValues> all = ParseSecrets(text);
    if (!all.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("secrets file ", path_, ": ", all.status().message()));
    }
    SecretValues out;
    std::vector<std::string> missing;
    for (const std::string& name : names) {
      auto it = all->find(name);
      if (it == all->end()) {
        missing.push_back(name);
      } else {
        out[name] = it->second;
      }
    }
    if (!missing.empty()) {
      return MissingNames(missing, Describe(),
                          absl::StrCat("add a line NAME=value to ", path_, " (mode 0600)"));
    }
    return out;
  }

  std::string Describe() const override { return absl::StrCat("the secrets file ", path_); }

 private:
  const std::string path_;
};

class EnvironmentSource final : public SecretSource {
 public:
  absl::StatusOr<SecretValues> Resolve(const std::vector<std::string>& names) override {
    SecretValues out;
    std::vector<std::string> missing;
    for (const std::string& name : names) {
      const char* value = std::getenv(name.c_str());
      if (value == nullptr) {
        missing.push_back(name);
      } else {
        out[name] = value;
      }
    }
    if (!missing.empty()) {
      return MissingNames(missing, Describe(),
                          "export it before starting skydeckd, or start skydeckd with "
                          "--secrets-file FILE (KEY=value lines, mode 0600)");
    }
    return out;
  }

  std::string Describe() const override { return "skydeckd's environment"; }
};

}  // namespace

std::unique_ptr<SecretSource> FileSecretSource(std::string path) {
  return std::make_unique<FileSource>(std::move(path));
}

std::unique_ptr<SecretSource> EnvironmentSecretSource() {
  return std::make_unique<EnvironmentSource>();
}

absl::Status CheckSecretsFile(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadSecretsFile(path));
  absl::StatusOr<SecretValues> parsed = ParseSecrets(text);
  if (!parsed.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("secrets file ", path, ": ", parsed.status().message()));
  }
  return absl::OkStatus();
}

absl::StatusOr<SecretValues> ParseSecrets(absl::string_view text) {
  SecretValues out;
  int number = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++number;
    absl::ConsumeSuffix(&line, "\r");
    absl::string_view trimmed = absl::StripLeadingAsciiWhitespace(line);
    if (trimmed.empty() || trimmed.front() == '#') continue;
    absl::ConsumePrefix(&trimmed, "export ");
    size_t eq = trimmed.find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(absl::StrCat("line ", number, ": expected NAME=value"));
    }
    absl::string_view name = absl::StripTrailingAsciiWhitespace(trimmed.substr(0, eq));
    if (!IsName(name)) {
      return absl::InvalidArgumentError(
          absl::StrCat("line ", number, ": the name before '=' must match [A-Za-z_][A-Za-z0-9_]*"));
    }
    absl::string_view value = trimmed.substr(eq + 1);
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    out[std::string(name)] = std::string(value);
  }
  return out;
}

}  // namespace skydeck::workload
