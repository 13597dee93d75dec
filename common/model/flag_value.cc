#include "common/model/flag_value.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <system_error>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

namespace skydeck {
namespace {

bool IsQuoted(absl::string_view text) {
  return text.size() >= 2 && (text.front() == '"' || text.front() == '\'') &&
         text.back() == text.front();
}

// Drops a leading '+', which from_chars refuses. One sign at most: "+-5"
// must not read as -5.
bool StripPlus(absl::string_view* text) {
  if (text->empty() || text->front() != '+') return true;
  text->remove_prefix(1);
  return text->empty() || (text->front() != '-' && text->front() != '+');
}

bool ParseInt64(absl::string_view text, int64_t* out) {
  if (!StripPlus(&text) || text.empty()) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size();
}

// Digits with an optional sign: an integer, whether or not it fits int64.
bool LooksIntegral(absl::string_view text) {
  if (!text.empty() && (text.front() == '+' || text.front() == '-')) text.remove_prefix(1);
  return !text.empty() && text.find_first_not_of("0123456789") == absl::string_view::npos;
}

bool LooksNumeric(absl::string_view text) {
  // from_chars accepts "inf", "nan" and hex; a flag value reading "nan" is
  // far more likely a string.
  for (char c : text) {
    if (!((c >= '0' && c <= '9') || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-')) {
      return false;
    }
  }
  return text.find_first_of("0123456789") != absl::string_view::npos;
}

bool ParseDouble(absl::string_view text, double* out) {
  if (!LooksNumeric(text) || !StripPlus(&text)) return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), *out);
  return ec == std::errc() && end == text.data() + text.size() && std::isfinite(*out);
}

}  // namespace

FlagValue ParseFlagValueText(absl::string_view text) {
  if (IsQuoted(text)) return std::string(text.substr(1, text.size() - 2));
  if (text == "true" || text == "True") return true;
  if (text == "false" || text == "False") return false;
  int64_t i;
  if (ParseInt64(text, &i)) return i;
  // An integer too big for int64 keeps its exact digits (as text) rather
  // than becoming a rounded float: 99999999999999999999 is not 1e+20.
  if (LooksIntegral(text)) return std::string(text);
  double d;
  if (ParseDouble(text, &d)) return d;
  return std::string(text);
}

absl::StatusOr<std::pair<std::string, FlagValue>> ParseFlagAssignment(
    absl::string_view assignment) {
  size_t eq = assignment.find('=');
  if (eq == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat("flag \"", assignment, "\" is not of the form key=value (or key:=string)"));
  }
  bool force_string = eq > 0 && assignment[eq - 1] == ':';
  std::string key(assignment.substr(0, force_string ? eq - 1 : eq));
  if (key.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("flag \"", assignment, "\" has an empty key"));
  }
  absl::string_view text = assignment.substr(eq + 1);
  if (force_string) return std::make_pair(key, FlagValue(std::string(text)));
  return std::make_pair(key, ParseFlagValueText(text));
}

std::string FormatFlagValue(const FlagValue& value) {
  struct Formatter {
    std::string operator()(const std::string& s) const { return s; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(bool b) const { return b ? "true" : "false"; }
    // Python's repr() rules, which ML users read every day: shortest digits
    // that round-trip, fixed notation for exponents in [-4, 16), else
    // scientific ("0.0003", "1e-05", "1e+16").
    std::string operator()(double d) const {
      char buf[64];
      auto [sci_end, ec1] = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::scientific);
      std::string sci(buf, sci_end);
      int exponent = std::atoi(sci.c_str() + sci.find('e') + 1);
      if (exponent < -4 || exponent >= 16) return sci;
      auto [fix_end, ec2] = std::to_chars(buf, buf + sizeof(buf), d, std::chars_format::fixed);
      std::string out(buf, fix_end);
      // Keep a double recognisable as one: "4" would read back as an int.
      if (out.find('.') == std::string::npos) out += ".0";
      return out;
    }
  };
  return std::visit(Formatter{}, value);
}

absl::string_view FlagTypeName(const FlagValue& value) {
  switch (value.index()) {
    case 0:
      return "string";
    case 1:
      return "int";
    case 2:
      return "float";
    default:
      return "bool";
  }
}

nlohmann::json FlagValueToJson(const FlagValue& value) {
  return std::visit([](const auto& v) { return nlohmann::json(v); }, value);
}

absl::StatusOr<FlagValue> FlagValueFromJson(const nlohmann::json& json) {
  if (json.is_string()) return FlagValue(json.get<std::string>());
  if (json.is_boolean()) return FlagValue(json.get<bool>());
  if (json.is_number_unsigned() && json.get<uint64_t>() > uint64_t{INT64_MAX}) {
    return FlagValue(std::to_string(json.get<uint64_t>()));
  }
  if (json.is_number_integer()) return FlagValue(json.get<int64_t>());
  if (json.is_number_float()) return FlagValue(json.get<double>());
  return absl::InvalidArgumentError(
      absl::StrCat("a flag value is a string, number or bool, not ", json.type_name()));
}

namespace {

// Integers a double holds exactly: what a JavaScript client reads unharmed.
constexpr int64_t kMaxExactDouble = int64_t{1} << 53;

bool BeyondDouble(int64_t i) { return i > kMaxExactDouble || i < -kMaxExactDouble; }

}  // namespace

std::optional<std::string> FlagValueToPlainJsonText(const FlagValue& value) {
  struct Printer {
    std::optional<std::string> operator()(bool b) const { return b ? "true" : "false"; }
    std::optional<std::string> operator()(int64_t i) const {
      return BeyondDouble(i) ? absl::StrCat("\"", i, "\"") : std::to_string(i);
    }
    std::optional<std::string> operator()(double d) const {
      if (!std::isfinite(d)) return std::nullopt;  // JSON has no number for it
      return FormatFlagValue(d);
    }
    std::optional<std::string> operator()(const std::string& s) const {
      // Only text that starts like a number can read back as an integer.
      if (!s.empty() && (absl::ascii_isdigit(s[0]) || s[0] == '+' || s[0] == '-')) {
        FlagValue typed = ParseFlagValueText(s);
        const int64_t* i = std::get_if<int64_t>(&typed);
        if (i != nullptr && BeyondDouble(*i)) return std::nullopt;
      }
      return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    }
  };
  return std::visit(Printer{}, value);
}

absl::StatusOr<FlagValue> FlagValueFromPlainJson(const nlohmann::json& json) {
  if (json.is_string()) {
    FlagValue typed = ParseFlagValueText(json.get_ref<const std::string&>());
    if (const int64_t* i = std::get_if<int64_t>(&typed); i != nullptr && BeyondDouble(*i)) {
      return typed;
    }
  }
  return FlagValueFromJson(json);
}

nlohmann::json FlagMapToJson(const FlagMap& flags) {
  nlohmann::json out = nlohmann::json::object();
  for (const auto& [key, value] : flags) out[key] = FlagValueToJson(value);
  return out;
}

absl::StatusOr<FlagMap> FlagMapFromJson(const nlohmann::json& json) {
  if (!json.is_object()) {
    return absl::InvalidArgumentError("flags must be a JSON object");
  }
  FlagMap flags;
  for (const auto& [key, v] : json.items()) {
    auto value = FlagValueFromJson(v);
    if (!value.ok()) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag \"", key, "\" is not a string, number or bool"));
    }
    flags[key] = *std::move(value);
  }
  return flags;
}

}  // namespace skydeck
