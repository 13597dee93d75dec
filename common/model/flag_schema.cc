#include "common/model/flag_schema.h"

#include <cmath>
#include <set>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "common/model/proto_convert.h"
#include "common/model/validation.h"
#include "common/status_macros.h"

namespace skydeck {
namespace {

namespace pb = ::skydeck::v1;

// "float 0.5", "string \"x\"": how a value is named in error messages.
std::string Describe(const FlagValue& value) {
  if (const auto* s = std::get_if<std::string>(&value)) {
    return absl::StrCat("string \"", *s, "\"");
  }
  return absl::StrCat(FlagTypeName(value), " ", FormatFlagValue(value));
}

// Largest magnitude below which every integer is exactly a double and fits
// an int64 (2^53).
constexpr double kMaxExactInt = 9007199254740992.0;

std::optional<int64_t> AsInt(const FlagValue& value) {
  if (const auto* i = std::get_if<int64_t>(&value)) return *i;
  if (const auto* d = std::get_if<double>(&value)) {
    if (std::isfinite(*d) && std::trunc(*d) == *d && std::fabs(*d) <= kMaxExactInt) {
      return static_cast<int64_t>(*d);
    }
    return std::nullopt;
  }
  if (const auto* s = std::get_if<std::string>(&value)) {
    int64_t i;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(*s), &i)) return i;
  }
  return std::nullopt;
}

std::optional<double> AsFloat(const FlagValue& value) {
  if (const auto* d = std::get_if<double>(&value)) return *d;
  if (const auto* i = std::get_if<int64_t>(&value)) return static_cast<double>(*i);
  if (const auto* s = std::get_if<std::string>(&value)) {
    double d;
    absl::string_view text = absl::StripAsciiWhitespace(*s);
    if (!text.empty() && absl::SimpleAtod(text, &d) && std::isfinite(d)) return d;
  }
  return std::nullopt;
}

std::optional<bool> AsBool(const FlagValue& value) {
  if (const auto* b = std::get_if<bool>(&value)) return *b;
  if (const auto* i = std::get_if<int64_t>(&value)) {
    if (*i == 0 || *i == 1) return *i == 1;
    return std::nullopt;
  }
  if (const auto* s = std::get_if<std::string>(&value)) {
    std::string text = absl::AsciiStrToLower(absl::StripAsciiWhitespace(*s));
    if (text == "true") return true;
    if (text == "false") return false;
  }
  return std::nullopt;
}

// One flag: the normalised value or the problem ("flag x: expected ...").
absl::StatusOr<FlagValue> CheckValue(const FlagSpec& spec, const FlagValue& value) {
  auto wrong_type = [&]() {
    return absl::InvalidArgumentError(absl::StrCat(
        "flag ", spec.name, ": expected ", FlagTypeText(spec.type), ", got ", Describe(value)));
  };
  auto check_range = [&](double v) -> absl::Status {
    if ((spec.min && v < *spec.min) || (spec.max && v > *spec.max)) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag ", spec.name, ": expected ", FlagTypeText(spec.type), " in [",
                       spec.min ? FormatFlagValue(*spec.min) : "-inf", ", ",
                       spec.max ? FormatFlagValue(*spec.max) : "inf", "], got ", Describe(value)));
    }
    return absl::OkStatus();
  };
  switch (spec.type) {
    case FlagType::kInt: {
      std::optional<int64_t> i = AsInt(value);
      if (!i) return wrong_type();
      RETURN_IF_ERROR(check_range(static_cast<double>(*i)));
      return FlagValue(*i);
    }
    case FlagType::kFloat: {
      std::optional<double> d = AsFloat(value);
      if (!d) return wrong_type();
      RETURN_IF_ERROR(check_range(*d));
      return FlagValue(*d);
    }
    case FlagType::kBool: {
      std::optional<bool> b = AsBool(value);
      if (!b) return wrong_type();
      return FlagValue(*b);
    }
    case FlagType::kChoice: {
      std::string text = FormatFlagValue(value);
      for (const std::string& c : spec.choices) {
        if (c == text) return FlagValue(text);
      }
      return absl::InvalidArgumentError(absl::StrCat("flag ", spec.name, ": expected one of {",
                                                     absl::StrJoin(spec.choices, ", "), "}, got ",
                                                     Describe(value)));
    }
    case FlagType::kString:
      return FlagValue(FormatFlagValue(value));
  }
  return wrong_type();
}

absl::Status BadSchema(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("flag schema: ", what));
}

}  // namespace

absl::string_view FlagTypeText(FlagType type) {
  switch (type) {
    case FlagType::kString:
      return "string";
    case FlagType::kInt:
      return "int";
    case FlagType::kFloat:
      return "float";
    case FlagType::kBool:
      return "bool";
    case FlagType::kChoice:
      return "choice";
  }
  return "string";
}

absl::StatusOr<FlagType> ParseFlagType(absl::string_view text) {
  for (FlagType t :
       {FlagType::kString, FlagType::kInt, FlagType::kFloat, FlagType::kBool, FlagType::kChoice}) {
    if (text == FlagTypeText(t)) return t;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown flag type \"", text, "\"; want string, int, float, bool or choice"));
}

const FlagSpec* FlagSchema::Find(absl::string_view name) const {
  for (const FlagSpec& f : flags) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

absl::Status ValidateFlagSchema(FlagSchema& schema) {
  if (schema.base_command.empty()) return BadSchema("base_command is required");
  RETURN_IF_ERROR(ValidateText("base_command", schema.base_command, kMaxCommandBytes));
  if (schema.flags.size() > kMaxFlags) {
    return BadSchema(absl::StrCat("more than ", kMaxFlags, " flags"));
  }
  std::set<std::string> names;
  for (FlagSpec& f : schema.flags) {
    RETURN_IF_ERROR(ValidateFlagKey(f.name));
    if (!names.insert(f.name).second) {
      return BadSchema(absl::StrCat("flag ", f.name, " is declared twice"));
    }
    if (f.type == FlagType::kChoice && f.choices.empty()) {
      return BadSchema(absl::StrCat("flag ", f.name, ": a choice flag needs choices"));
    }
    if (f.type != FlagType::kChoice && !f.choices.empty()) {
      return BadSchema(absl::StrCat("flag ", f.name, ": only choice flags have choices"));
    }
    if ((f.min || f.max) && f.type != FlagType::kInt && f.type != FlagType::kFloat) {
      return BadSchema(absl::StrCat("flag ", f.name, ": min/max need an int or float flag"));
    }
    if (f.min && f.max && *f.min > *f.max) {
      return BadSchema(absl::StrCat("flag ", f.name, ": min is greater than max"));
    }
    RETURN_IF_ERROR(ValidateText("description", f.description, kMaxDescriptionBytes));
    if (f.default_value) {
      auto normalised = CheckValue(f, *f.default_value);
      if (!normalised.ok()) {
        return BadSchema(absl::StrCat("default of ", normalised.status().message()));
      }
      f.default_value = *normalised;
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<FlagCheck> CheckFlags(const FlagSchema& schema, const FlagMap& flags) {
  FlagCheck out;
  std::vector<std::string> errors;
  for (const auto& [name, value] : flags) {
    const FlagSpec* spec = schema.Find(name);
    if (spec == nullptr) {
      std::string problem = absl::StrCat("unknown flag ", name, " (", Describe(value),
                                         ") for command \"", schema.base_command, "\"");
      if (schema.strict) {
        errors.push_back(absl::StrCat(problem, "; the schema is strict"));
      } else {
        out.warnings.push_back(std::move(problem));
        out.flags[name] = value;
      }
      continue;
    }
    absl::StatusOr<FlagValue> v = CheckValue(*spec, value);
    if (!v.ok()) {
      errors.emplace_back(v.status().message());
      continue;
    }
    out.flags[name] = *std::move(v);
  }
  for (const FlagSpec& spec : schema.flags) {
    if (spec.required && !flags.contains(spec.name)) {
      errors.push_back(absl::StrCat("flag ", spec.name, ": required (", FlagTypeText(spec.type),
                                    ") but not set"));
    }
  }
  if (!errors.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(errors, "; "));
  }
  return out;
}

// ---- JSON -----------------------------------------------------------------

nlohmann::json FlagSchemaToJson(const FlagSchema& schema) {
  nlohmann::json out = nlohmann::json::object();
  out["base_command"] = schema.base_command;
  if (schema.version) out["version"] = schema.version;
  out["strict"] = schema.strict;
  nlohmann::json flags = nlohmann::json::array();
  for (const FlagSpec& f : schema.flags) {
    nlohmann::json j = nlohmann::json::object();
    j["name"] = f.name;
    j["type"] = std::string(FlagTypeText(f.type));
    if (f.default_value) std::visit([&](const auto& v) { j["default"] = v; }, *f.default_value);
    if (!f.choices.empty()) j["choices"] = f.choices;
    if (!f.description.empty()) j["description"] = f.description;
    if (f.required) j["required"] = true;
    if (f.min) j["min"] = *f.min;
    if (f.max) j["max"] = *f.max;
    flags.push_back(std::move(j));
  }
  out["flags"] = std::move(flags);
  return out;
}

namespace {

absl::StatusOr<FlagValue> ScalarFromJson(const nlohmann::json& j, absl::string_view where) {
  if (j.is_string()) return FlagValue(j.get<std::string>());
  if (j.is_boolean()) return FlagValue(j.get<bool>());
  if (j.is_number_integer()) return FlagValue(j.get<int64_t>());
  if (j.is_number_float()) return FlagValue(j.get<double>());
  return BadSchema(absl::StrCat(where, " must be a string, number or bool"));
}

absl::StatusOr<FlagSpec> FlagSpecFromJson(const nlohmann::json& j, size_t index) {
  std::string where = absl::StrCat("flags[", index, "]");
  if (!j.is_object()) return BadSchema(absl::StrCat(where, " must be an object"));
  FlagSpec f;
  for (const auto& [key, value] : j.items()) {
    std::string field = absl::StrCat(where, ".", key);
    if (key == "name" && value.is_string()) {
      f.name = value.get<std::string>();
    } else if (key == "type" && value.is_string()) {
      ASSIGN_OR_RETURN(f.type, ParseFlagType(value.get<std::string>()));
    } else if (key == "default") {
      if (!value.is_null()) {
        ASSIGN_OR_RETURN(f.default_value, ScalarFromJson(value, field));
      }
    } else if (key == "choices" && value.is_array()) {
      for (const auto& c : value) {
        ASSIGN_OR_RETURN(FlagValue v, ScalarFromJson(c, field));
        f.choices.push_back(FormatFlagValue(v));
      }
    } else if (key == "description" && value.is_string()) {
      f.description = value.get<std::string>();
    } else if (key == "required" && value.is_boolean()) {
      f.required = value.get<bool>();
    } else if (key == "min" && (value.is_number() || value.is_null())) {
      if (value.is_number()) f.min = value.get<double>();
    } else if (key == "max" && (value.is_number() || value.is_null())) {
      if (value.is_number()) f.max = value.get<double>();
    } else {
      return BadSchema(absl::StrCat("unexpected or mistyped field ", field));
    }
  }
  if (f.name.empty()) return BadSchema(absl::StrCat(where, ".name is required"));
  return f;
}

}  // namespace

absl::StatusOr<FlagSchema> FlagSchemaFromJson(const nlohmann::json& json) {
  if (!json.is_object()) return BadSchema("must be a JSON object");
  FlagSchema s;
  for (const auto& [key, value] : json.items()) {
    if (key == "base_command" && value.is_string()) {
      s.base_command = value.get<std::string>();
    } else if (key == "version" && value.is_number_integer()) {
      s.version = value.get<int64_t>();
    } else if (key == "strict" && value.is_boolean()) {
      s.strict = value.get<bool>();
    } else if (key == "flags" && value.is_array()) {
      for (size_t i = 0; i < value.size(); ++i) {
        ASSIGN_OR_RETURN(FlagSpec f, FlagSpecFromJson(value[i], i));
        s.flags.push_back(std::move(f));
      }
    } else {
      return BadSchema(absl::StrCat("unexpected or mistyped field ", key));
    }
  }
  RETURN_IF_ERROR(ValidateFlagSchema(s));
  return s;
}

// ---- Proto ----------------------------------------------------------------

void FlagSchemaToProto(const FlagSchema& schema, pb::CommandFlagSchema* out) {
  out->set_base_command(schema.base_command);
  out->set_version(schema.version);
  out->set_strict(schema.strict);
  for (const FlagSpec& f : schema.flags) {
    pb::FlagSchema* p = out->add_flags();
    p->set_name(f.name);
    p->set_type(static_cast<pb::FlagSchema::Type>(static_cast<int>(f.type) + 1));
    if (f.default_value) *p->mutable_default_value() = ToProto(*f.default_value);
    for (const std::string& c : f.choices) p->add_choices(c);
    p->set_description(f.description);
    p->set_required(f.required);
    if (f.min) p->set_min(*f.min);
    if (f.max) p->set_max(*f.max);
  }
}

absl::StatusOr<FlagSchema> FlagSchemaFromProto(const pb::CommandFlagSchema& proto) {
  FlagSchema s;
  s.base_command = proto.base_command();
  s.strict = proto.strict();
  for (const pb::FlagSchema& p : proto.flags()) {
    FlagSpec f;
    f.name = p.name();
    if (p.type() == pb::FlagSchema::TYPE_UNSPECIFIED) {
      return BadSchema(absl::StrCat("flag ", p.name(), ": type is required"));
    }
    if (p.type() < pb::FlagSchema::TYPE_STRING || p.type() > pb::FlagSchema::TYPE_CHOICE) {
      return BadSchema(absl::StrCat("flag ", p.name(), ": unknown type ", p.type()));
    }
    f.type = static_cast<FlagType>(static_cast<int>(p.type()) - 1);
    if (p.has_default_value() && p.default_value().kind_case() != pb::FlagValue::KIND_NOT_SET) {
      ASSIGN_OR_RETURN(f.default_value, FromProto(p.default_value()));
    }
    f.choices.assign(p.choices().begin(), p.choices().end());
    f.description = p.description();
    f.required = p.required();
    if (p.has_min()) f.min = p.min();
    if (p.has_max()) f.max = p.max();
    s.flags.push_back(std::move(f));
  }
  RETURN_IF_ERROR(ValidateFlagSchema(s));
  return s;
}

}  // namespace skydeck
