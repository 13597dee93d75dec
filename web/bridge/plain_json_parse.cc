// PlainJsonToMessage and PlainJsonTextToMessage (plain_json.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <variant>
#include <vector>

#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "common/model/flag_value.h"
#include "common/status_macros.h"
#include "web/bridge/json_descriptors.h"
#include "web/bridge/plain_json.h"

namespace skydeck::web {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;
using nlohmann::json;

// Messages nest no deeper than this in a request (ours: 3).
constexpr int kMaxDepth = 32;

// A value for an error message. Containers are not printed: a body may nest
// 400,000 deep, and printing recurses.
std::string Shown(const json& v) {
  if (v.is_array()) return v.empty() ? "[]" : "[...]";
  if (v.is_object()) return v.empty() ? "{}" : "{...}";
  std::string text = v.dump(-1, ' ', false, json::error_handler_t::replace);
  return text.size() > 64 ? text.substr(0, 61) + "..." : text;
}

absl::Status Bad(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(path.empty() ? std::string(what)
                                                 : absl::StrCat(path, ": ", what));
}

std::string Child(absl::string_view path, absl::string_view name) {
  return path.empty() ? std::string(name) : absl::StrCat(path, ".", name);
}

std::string Element(absl::string_view path, absl::string_view key) {
  return absl::StrCat(path, "[\"", key, "\"]");
}

// "baseCommand" -> "base_command"; snake_case stays as it is.
std::string SnakeCase(absl::string_view path) {
  std::string out;
  for (char c : path) {
    if (absl::ascii_isupper(c)) {
      out += '_';
      out += absl::ascii_tolower(c);
    } else {
      out += c;
    }
  }
  return out;
}

// Integer fields take JSON integers, integral numbers (4.0) and strings of
// digits, as protobuf's JSON mapping does.
template <typename Int>
bool ReadInteger(const json& v, Int* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<Int>::max())) return false;
    *out = static_cast<Int>(u);
    return true;
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if constexpr (std::is_unsigned_v<Int>) {
      if (i < 0) return false;
    } else {
      if (i < std::numeric_limits<Int>::min()) return false;
    }
    if (static_cast<uint64_t>(std::max<int64_t>(i, 0)) >
        static_cast<uint64_t>(std::numeric_limits<Int>::max())) {
      return false;
    }
    *out = static_cast<Int>(i);
    return true;
  }
  if (v.is_number_float()) {
    double d = v.get<double>();
    // 2^63 and 2^64 are exact doubles; anything below them converts exactly.
    if (std::trunc(d) != d || d < static_cast<double>(std::numeric_limits<Int>::min()) ||
        d >= std::ldexp(1.0, std::numeric_limits<Int>::digits)) {
      return false;
    }
    *out = static_cast<Int>(d);
    return true;
  }
  return v.is_string() && absl::SimpleAtoi(v.get_ref<const std::string&>(), out);
}

bool ReadFloat(const json& v, double* out) {
  if (v.is_number()) {
    *out = v.get<double>();
    return true;
  }
  if (!v.is_string()) return false;
  const std::string& s = v.get_ref<const std::string&>();
  if (s == "NaN")
    *out = std::numeric_limits<double>::quiet_NaN();
  else if (s == "Infinity")
    *out = std::numeric_limits<double>::infinity();
  else if (s == "-Infinity")
    *out = -std::numeric_limits<double>::infinity();
  else
    return absl::SimpleAtod(s, out) && std::isfinite(*out);
  return true;
}

class Parser {
 public:
  explicit Parser(const PlainJsonParseOptions& options) : options_(options) {}

  absl::Status ParseObject(const json& v, Message* m, const std::string& path, int depth) {
    if (!v.is_object()) {
      return Bad(path, absl::StrCat(path.empty() ? "the request body" : "the value",
                                    " must be a JSON object (", m->GetDescriptor()->name(),
                                    "), not ", Shown(v)));
    }
    Members members;
    for (auto it = v.begin(); it != v.end(); ++it) members.emplace_back(it.key(), &*it);
    return ParseMembers(members, m, path, depth);
  }

 private:
  // An object's keys and values, pointing into the parsed body (values are
  // never copied: a copy recurses as deep as the value nests).
  using Members = std::vector<std::pair<absl::string_view, const json*>>;

  absl::Status ParseMembers(const Members& members, Message* m, const std::string& path,
                            int depth) {
    if (depth > kMaxDepth) return Bad(path, "nested too deeply");
    const Descriptor* d = m->GetDescriptor();
    const JsonMessageInfo& info = JsonMessageInfo::For(d);
    RETURN_IF_ERROR(info.options_status());
    // Which key set each field, to refuse one field given twice (by its name
    // and its alias, or at the top level and inside the inline field).
    absl::flat_hash_map<const FieldDescriptor*, absl::string_view> given;
    Members inlined;
    const json* wrapped = nullptr;  // the inline field's own value
    for (const auto& [key, value] : members) {
      const FieldDescriptor* f = info.FindField(key);
      if (f == nullptr) {
        const FieldDescriptor* in = info.inline_field();
        if (in != nullptr && JsonMessageInfo::For(in->message_type()).FindField(key) != nullptr) {
          inlined.emplace_back(key, value);
          continue;
        }
        if (options_.ignore_unknown_fields) continue;
        return UnknownField(d, info, key, path);
      }
      if (auto [it, fresh] = given.try_emplace(f, key); !fresh) {
        return Bad(Child(path, key),
                   absl::StrCat("\"", it->second, "\" and \"", key, "\" name the same field"));
      }
      if (f == info.inline_field()) wrapped = value;
      RETURN_IF_ERROR(ParseField(*value, m, f, Child(path, f->name()), depth));
    }
    if (!inlined.empty()) RETURN_IF_ERROR(MergeInlined(inlined, wrapped, m, info, path, depth));
    return absl::OkStatus();
  }

  // The seed's shape: the inline field's fields at the top level, merged
  // into what the wrapped form (`wrapped`, null when absent) set.
  absl::Status MergeInlined(const Members& inlined, const json* wrapped, Message* m,
                            const JsonMessageInfo& info, const std::string& path, int depth) {
    const FieldDescriptor* in = info.inline_field();
    const JsonMessageInfo& inner = JsonMessageInfo::For(in->message_type());
    if (wrapped != nullptr && wrapped->is_object()) {
      for (const auto& member : inlined) {
        absl::string_view key = member.first;
        for (auto it = wrapped->begin(); it != wrapped->end(); ++it) {
          if (inner.FindField(it.key()) != inner.FindField(key)) continue;
          return Bad(Child(path, key), absl::StrCat("given both at the top level and inside \"",
                                                    in->name(), "\"; give it once"));
        }
      }
    }
    Message* sub = m->GetReflection()->MutableMessage(m, in);
    return ParseMembers(inlined, sub, Child(path, in->name()), depth + 1);
  }

  absl::Status UnknownField(const Descriptor* d, const JsonMessageInfo& info, absl::string_view key,
                            const std::string& path) {
    std::string where = Child(path, key);
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
      const JsonMessageInfo& sub = JsonMessageInfo::For(f->message_type());
      if (sub.is_scalar() || sub.is_well_known() || sub.FindField(key) == nullptr) continue;
      return Bad(where, absl::StrCat("not a field of ", d->name(), "; it belongs inside \"",
                                     f->name(), "\": {\"", f->name(), "\": {\"", key, "\": ...}}"));
    }
    std::string known = absl::StrCat("its fields are ", info.field_names());
    if (const FieldDescriptor* in = info.inline_field(); in != nullptr) {
      absl::StrAppend(&known, ", and at the top level those of ", in->name(), ": ",
                      JsonMessageInfo::For(in->message_type()).field_names());
    }
    return Bad(where, absl::StrCat("unknown field of ", d->name(), "; ", known));
  }

  absl::Status ParseField(const json& v, Message* m, const FieldDescriptor* f,
                          const std::string& path, int depth) {
    if (v.is_null()) return absl::OkStatus();  // the default, as in protobuf's mapping
    const Reflection* r = m->GetReflection();
    if (const auto* oneof = f->real_containing_oneof(); oneof != nullptr) {
      const FieldDescriptor* set = r->GetOneofFieldDescriptor(*m, oneof);
      if (set != nullptr && set != f) {
        return Bad(path, absl::StrCat("only one of ", oneof->name(), "'s fields may be set (",
                                      set->name(), " is)"));
      }
    }
    if (f->is_map()) return ParseMap(v, m, f, path, depth);
    if (!f->is_repeated()) return ParseValue(v, m, f, path, depth);
    if (!v.is_array()) return Bad(path, absl::StrCat("must be a list, not ", Shown(v)));
    for (size_t i = 0; i < v.size(); ++i) {
      RETURN_IF_ERROR(ParseValue(v[i], m, f, absl::StrCat(path, "[", i, "]"), depth));
    }
    return absl::OkStatus();
  }

  absl::Status ParseMap(const json& v, Message* m, const FieldDescriptor* f,
                        const std::string& path, int depth) {
    if (!v.is_object()) return Bad(path, absl::StrCat("must be an object, not ", Shown(v)));
    const FieldDescriptor* key_field = f->message_type()->map_key();
    const FieldDescriptor* value_field = f->message_type()->map_value();
    for (const auto& [key, value] : v.items()) {
      std::string where = Element(path, key);
      if (value.is_null()) return Bad(where, "a map value cannot be null");
      Message* entry = m->GetReflection()->AddMessage(m, f);
      // Map keys are JSON strings; typed keys are their text.
      RETURN_IF_ERROR(ParseValue(json(key), entry, key_field, where, depth));
      RETURN_IF_ERROR(ParseValue(value, entry, value_field, where, depth));
    }
    return absl::OkStatus();
  }

  // Sets `f` (or adds to it, when repeated) from one JSON value.
  absl::Status ParseValue(const json& v, Message* m, const FieldDescriptor* f,
                          const std::string& path, int depth) {
    const Reflection* r = m->GetReflection();
    bool rep = f->is_repeated();
    auto want = [&](absl::string_view what) {
      return Bad(path, absl::StrCat("must be ", what, ", not ", Shown(v)));
    };
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32: {
        int32_t i;
        if (!ReadInteger(v, &i)) return want("a 32-bit integer");
        rep ? r->AddInt32(m, f, i) : r->SetInt32(m, f, i);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_INT64: {
        int64_t i;
        if (!ReadInteger(v, &i)) return want("a 64-bit integer");
        rep ? r->AddInt64(m, f, i) : r->SetInt64(m, f, i);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT32: {
        uint32_t i;
        if (!ReadInteger(v, &i)) return want("an unsigned 32-bit integer");
        rep ? r->AddUInt32(m, f, i) : r->SetUInt32(m, f, i);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_UINT64: {
        uint64_t i;
        if (!ReadInteger(v, &i)) return want("an unsigned 64-bit integer");
        rep ? r->AddUInt64(m, f, i) : r->SetUInt64(m, f, i);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_DOUBLE:
      case FieldDescriptor::CPPTYPE_FLOAT: {
        double d;
        if (!ReadFloat(v, &d)) return want("a number");
        if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
          rep ? r->AddDouble(m, f, d) : r->SetDouble(m, f, d);
        } else {
          rep ? r->AddFloat(m, f, static_cast<float>(d)) : r->SetFloat(m, f, static_cast<float>(d));
        }
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_BOOL:
        if (!v.is_boolean()) return want("true or false");
        rep ? r->AddBool(m, f, v.get<bool>()) : r->SetBool(m, f, v.get<bool>());
        return absl::OkStatus();
      case FieldDescriptor::CPPTYPE_ENUM: {
        const JsonEnumInfo& names = JsonEnumInfo::For(f->enum_type());
        if (!v.is_string() && !v.is_number_integer()) {
          return want(absl::StrCat("one of ", names.valid_names()));
        }
        auto value = names.Find(v.is_string() ? v.get_ref<const std::string&>() : v.dump());
        if (!value.ok()) return Bad(path, value.status().message());
        rep ? r->AddEnum(m, f, *value) : r->SetEnum(m, f, *value);
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        if (!v.is_string()) return want("a string");
        std::string s = v.get<std::string>();
        if (f->type() == FieldDescriptor::TYPE_BYTES) {
          std::string bytes;
          if (!absl::Base64Unescape(s, &bytes) && !absl::WebSafeBase64Unescape(s, &bytes)) {
            return want("base64");
          }
          s = std::move(bytes);
        }
        rep ? r->AddString(m, f, std::move(s)) : r->SetString(m, f, std::move(s));
        return absl::OkStatus();
      }
      case FieldDescriptor::CPPTYPE_MESSAGE: {
        Message* sub = rep ? r->AddMessage(m, f) : r->MutableMessage(m, f);
        return ParseMessageValue(v, sub, path, depth + 1);
      }
    }
    return absl::OkStatus();
  }

  absl::Status ParseMessageValue(const json& v, Message* m, const std::string& path, int depth) {
    const JsonMessageInfo& info = JsonMessageInfo::For(m->GetDescriptor());
    RETURN_IF_ERROR(info.options_status());
    if (info.is_scalar() && !v.is_object()) return ParseScalarMessage(v, m, info, path);
    if (info.is_well_known()) return ParseWellKnown(v, m, path);
    return ParseObject(v, m, path, depth);
  }

  absl::Status ParseScalarMessage(const json& v, Message* m, const JsonMessageInfo& info,
                                  const std::string& path) {
    auto value = FlagValueFromPlainJson(v);
    if (!value.ok()) {
      return Bad(path, absl::StrCat("must be a string, number or bool, not ", Shown(v)));
    }
    const Reflection* r = m->GetReflection();
    const FieldDescriptor* member = nullptr;
    std::visit(
        [&](const auto& x) {
          using T = std::decay_t<decltype(x)>;
          if constexpr (std::is_same_v<T, std::string>) {
            if ((member = info.string_member())) r->SetString(m, member, x);
          } else if constexpr (std::is_same_v<T, int64_t>) {
            if ((member = info.int_member())) r->SetInt64(m, member, x);
          } else if constexpr (std::is_same_v<T, double>) {
            if ((member = info.double_member())) r->SetDouble(m, member, x);
          } else {
            if ((member = info.bool_member())) r->SetBool(m, member, x);
          }
        },
        *value);
    if (member == nullptr) {
      return Bad(path, absl::StrCat(m->GetDescriptor()->name(), " cannot hold a ",
                                    FlagTypeName(*value), " (", Shown(v), ")"));
    }
    return absl::OkStatus();
  }

  absl::Status ParseWellKnown(const json& v, Message* m, const std::string& path) {
    const std::string& name = m->GetDescriptor()->full_name();
    const Reflection* r = m->GetReflection();
    const Descriptor* d = m->GetDescriptor();
    using google::protobuf::util::TimeUtil;
    if (name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration") {
      bool timestamp = name == "google.protobuf.Timestamp";
      if (!v.is_string()) {
        return Bad(path, timestamp ? "must be an RFC 3339 time string (2026-01-02T03:04:05Z)"
                                   : "must be a duration string (\"1.5s\")");
      }
      int64_t seconds;
      int32_t nanos;
      if (timestamp) {
        google::protobuf::Timestamp ts;
        if (!TimeUtil::FromString(v.get<std::string>(), &ts)) {
          return Bad(path, absl::StrCat(Shown(v), " is not an RFC 3339 time"));
        }
        seconds = ts.seconds();
        nanos = ts.nanos();
      } else {
        google::protobuf::Duration du;
        if (!TimeUtil::FromString(v.get<std::string>(), &du)) {
          return Bad(path, absl::StrCat(Shown(v), " is not a duration like \"1.5s\""));
        }
        seconds = du.seconds();
        nanos = du.nanos();
      }
      r->SetInt64(m, d->FindFieldByNumber(1), seconds);
      r->SetInt32(m, d->FindFieldByNumber(2), nanos);
      return absl::OkStatus();
    }
    if (name == "google.protobuf.FieldMask") {
      if (!v.is_string()) return Bad(path, "must be a string of field names, \"a,b\"");
      const FieldDescriptor* paths = d->FindFieldByNumber(1);
      for (absl::string_view p :
           absl::StrSplit(v.get_ref<const std::string&>(), ',', absl::SkipWhitespace())) {
        r->AddString(m, paths, SnakeCase(absl::StripAsciiWhitespace(p)));
      }
      return absl::OkStatus();
    }
    google::protobuf::util::JsonParseOptions options;
    options.ignore_unknown_fields = options_.ignore_unknown_fields;
    auto status = google::protobuf::util::JsonStringToMessage(v.dump(), m, options);
    if (!status.ok()) return Bad(path, std::string(status.message()));
    return absl::OkStatus();
  }

  const PlainJsonParseOptions& options_;
};

// Finds where and why text is not JSON, without exceptions: nlohmann hands
// the error to a SAX handler instead of throwing it.
class SyntaxErrorFinder : public nlohmann::json_sax<json> {
 public:
  std::string error;
  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t, const std::string&,
                   const nlohmann::detail::exception& ex) override {
    error = ex.what();
    // "[json.exception.parse_error.101] parse error at line 1, column 2: ..."
    if (size_t end = error.find("] ");
        error.rfind("[json.exception", 0) == 0 && end != std::string::npos) {
      error.erase(0, end + 2);
    }
    return false;
  }
};

}  // namespace

absl::Status PlainJsonToMessage(const json& value, Message* message,
                                const PlainJsonParseOptions& options) {
  Parser parser(options);
  return parser.ParseObject(value, message, "", 0);
}

absl::Status PlainJsonTextToMessage(absl::string_view text, Message* message,
                                    const PlainJsonParseOptions& options) {
  json value = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (value.is_discarded()) {
    SyntaxErrorFinder finder;
    json::sax_parse(text.begin(), text.end(), &finder);
    return absl::InvalidArgumentError(absl::StrCat("the request body is not JSON: ", finder.error));
  }
  return PlainJsonToMessage(value, message, options);
}

}  // namespace skydeck::web
