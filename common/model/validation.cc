#include "common/model/validation.h"

#include <charconv>
#include <cmath>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/model/command_line.h"

namespace skydeck {
namespace {

bool IsIdentStart(char c) { return absl::ascii_isalpha(c) || c == '_'; }
bool IsIdentChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-'; }

}  // namespace

absl::Status ValidateExperimentName(absl::string_view name) {
  if (name.empty()) return absl::InvalidArgumentError("name: required");
  if (name.size() > kMaxNameBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("name ", QuoteForError(name), ": at most ", kMaxNameBytes, " bytes"));
  }
  bool ok = absl::ascii_isalpha(name.front());
  for (char c : name) ok = ok && IsIdentChar(c);
  if (!ok) {
    return absl::InvalidArgumentError(
        absl::StrCat("name ", QuoteForError(name),
                     ": must start with a letter and contain only letters, digits, '.', "
                     "'_' or '-'"));
  }
  return absl::OkStatus();
}

absl::Status ValidateFlagKey(absl::string_view key) {
  bool ok = !key.empty() && key.size() <= kMaxFlagKeyBytes && IsIdentStart(key.front());
  for (char c : key) ok = ok && IsIdentChar(c);
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "flag key ", QuoteForError(key), ": must match [A-Za-z_][A-Za-z0-9_.-]* and be at most ",
        kMaxFlagKeyBytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidateFlags(const FlagMap& flags) {
  if (flags.size() > kMaxFlags) {
    return absl::InvalidArgumentError(
        absl::StrCat("flags: at most ", kMaxFlags, " per experiment, got ", flags.size()));
  }
  for (const auto& [key, value] : flags) {
    if (absl::Status s = ValidateFlagKey(key); !s.ok()) return s;
    if (const auto* s = std::get_if<std::string>(&value)) {
      if (absl::Status st = ValidateText(absl::StrCat("flag ", key), *s, kMaxFlagStringBytes);
          !st.ok()) {
        return st;
      }
    }
    if (const auto* d = std::get_if<double>(&value); d && !std::isfinite(*d)) {
      return absl::InvalidArgumentError(absl::StrCat("flag ", key, ": float value must be finite"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateCommandLine(absl::string_view base_command, const FlagMap& flags) {
  size_t size = RenderCommand(base_command, flags).size();
  if (size > kMaxCommandLineBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("base_command and flags: the command line would be ", size, " bytes, at most ",
                     kMaxCommandLineBytes));
  }
  return absl::OkStatus();
}

absl::Status ValidateLabels(const std::map<std::string, std::string>& labels) {
  if (labels.size() > kMaxLabels) {
    return absl::InvalidArgumentError(
        absl::StrCat("labels: at most ", kMaxLabels, ", got ", labels.size()));
  }
  for (const auto& [key, value] : labels) {
    bool ok = !key.empty() && key.size() <= kMaxLabelKeyBytes && IsIdentStart(key.front());
    for (char c : key) ok = ok && (IsIdentChar(c) || c == '/');
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(
          "label key ", QuoteForError(key),
          ": must match [A-Za-z_][A-Za-z0-9_./-]* and be at most ", kMaxLabelKeyBytes, " bytes"));
    }
    bool value_ok = value.size() <= kMaxLabelValueBytes;
    for (char c : value) {
      value_ok = value_ok && absl::ascii_isprint(c) && c != ',' && c != '=' && c != '(' &&
                 c != ')' && c != '!';
    }
    if (!value_ok) {
      return absl::InvalidArgumentError(absl::StrCat("label ", key, " value ", QuoteForError(value),
                                                     ": at most ", kMaxLabelValueBytes,
                                                     " printable bytes without , = ! ( )"));
    }
  }
  return absl::OkStatus();
}

bool IsReservedEnvName(absl::string_view name) {
  if (name == "SKYPILOT_DOCKER_USERNAME" || name == "SKYPILOT_DOCKER_PASSWORD" ||
      name == "SKYPILOT_DOCKER_SERVER") {
    return false;
  }
  return absl::StartsWith(name, "SKYDECK_") || absl::StartsWith(name, "SKYPILOT_");
}

absl::Status ValidateEnvName(absl::string_view field, absl::string_view name) {
  bool ok = !name.empty() && name.size() <= kMaxEnvNameBytes &&
            (absl::ascii_isalpha(name.front()) || name.front() == '_');
  for (char c : name) ok = ok && (absl::ascii_isalnum(c) || c == '_');
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        field, ": name ", QuoteForError(name), " must match [A-Za-z_][A-Za-z0-9_]* and be at most ",
        kMaxEnvNameBytes, " bytes"));
  }
  if (IsReservedEnvName(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", name,
                     " is reserved (SKYDECK_* and SKYPILOT_* are set by SkyDeck and "
                     "SkyPilot); pick another name"));
  }
  return absl::OkStatus();
}

absl::Status ValidateEnvs(const std::map<std::string, std::string>& envs) {
  if (envs.size() > kMaxEnvs) {
    return absl::InvalidArgumentError(
        absl::StrCat("envs: at most ", kMaxEnvs, " per experiment, got ", envs.size()));
  }
  for (const auto& [name, value] : envs) {
    if (absl::Status s = ValidateEnvName("envs", name); !s.ok()) return s;
    if (absl::Status s = ValidateText(absl::StrCat("envs.", name), value, kMaxEnvValueBytes);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSecretNames(const std::vector<std::string>& names) {
  if (names.size() > kMaxSecrets) {
    return absl::InvalidArgumentError(
        absl::StrCat("secrets: at most ", kMaxSecrets, " per experiment, got ", names.size()));
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (absl::Status s = ValidateEnvName("secrets", names[i]); !s.ok()) return s;
    for (size_t j = 0; j < i; ++j) {
      if (names[j] == names[i]) {
        return absl::InvalidArgumentError(absl::StrCat("secrets: ", names[i], " given twice"));
      }
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateText(absl::string_view field, absl::string_view text, size_t max_bytes) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": at most ", max_bytes, " bytes, got ", text.size()));
  }
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
      return absl::InvalidArgumentError(
          absl::StrCat(field, ": control characters are not allowed"));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateRange(absl::string_view field, int64_t value, int64_t min, int64_t max) {
  if (value < min || value > max) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": must be between ", min, " and ", max, ", got ", value));
  }
  return absl::OkStatus();
}

bool IsNumericRef(absl::string_view ref) {
  if (ref.empty()) return false;
  for (char c : ref) {
    if (!absl::ascii_isdigit(c)) return false;
  }
  return true;
}

absl::StatusOr<int64_t> ParseId(absl::string_view field, absl::string_view text) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), id);
  if (!IsNumericRef(text) || ec != std::errc() || end != text.data() + text.size() || id <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " ", QuoteForError(text), ": must be a positive integer id"));
  }
  return id;
}

}  // namespace skydeck
