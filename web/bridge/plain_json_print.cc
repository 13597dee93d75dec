// MessageToPlainJson (plain_json.h): writes JSON text straight from
// reflection, without an intermediate tree, because list responses print
// thousands of experiments.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <optional>
#include <variant>
#include <vector>

#include <google/protobuf/util/field_mask_util.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

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

void AppendQuoted(absl::string_view text, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out->push_back('"');
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (u < 0x20) {
          out->append("\\u00");
          out->push_back(kHex[u >> 4]);
          out->push_back(kHex[u & 0xf]);
        } else {
          out->push_back(c);
        }
    }
  }
  out->push_back('"');
}

// Shortest text that reads back as the same value; protobuf's JSON names
// for the values JSON has no number for.
template <typename Float>
void AppendFloat(Float value, std::string* out) {
  if (std::isnan(value)) {
    out->append("\"NaN\"");
  } else if (std::isinf(value)) {
    out->append(value > 0 ? "\"Infinity\"" : "\"-Infinity\"");
  } else {
    char buf[64];
    auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
    out->append(buf, end);
  }
}

class Printer {
 public:
  absl::Status PrintMessage(const Message& m, std::string* out) {
    const JsonMessageInfo& info = JsonMessageInfo::For(m.GetDescriptor());
    RETURN_IF_ERROR(info.options_status());
    if (info.is_scalar()) return PrintScalarMessage(m, info, out);
    if (info.is_well_known()) return PrintWellKnown(m, out);
    const Descriptor* d = m.GetDescriptor();
    const Reflection* r = m.GetReflection();
    out->push_back('{');
    bool first = true;
    for (int i = 0; i < d->field_count(); ++i) {
      const FieldDescriptor* f = d->field(i);
      if (!f->is_repeated() && f->has_presence() && !r->HasField(m, f)) continue;
      if (!first) out->push_back(',');
      first = false;
      AppendQuoted(f->name(), out);
      out->push_back(':');
      RETURN_IF_ERROR(PrintField(m, f, out));
    }
    out->push_back('}');
    return absl::OkStatus();
  }

 private:
  absl::Status PrintField(const Message& m, const FieldDescriptor* f, std::string* out) {
    if (f->is_map()) return PrintMap(m, f, out);
    if (!f->is_repeated()) return PrintValue(m, f, -1, out);
    out->push_back('[');
    int n = m.GetReflection()->FieldSize(m, f);
    for (int i = 0; i < n; ++i) {
      if (i > 0) out->push_back(',');
      RETURN_IF_ERROR(PrintValue(m, f, i, out));
    }
    out->push_back(']');
    return absl::OkStatus();
  }

  // Entries sorted by key, so the same map always prints the same.
  absl::Status PrintMap(const Message& m, const FieldDescriptor* f, std::string* out) {
    const Reflection* r = m.GetReflection();
    const FieldDescriptor* key = f->message_type()->map_key();
    const FieldDescriptor* value = f->message_type()->map_value();
    using SortKey = std::variant<absl::string_view, int64_t, uint64_t, bool>;
    std::vector<std::pair<SortKey, const Message*>> entries;
    int n = r->FieldSize(m, f);
    entries.reserve(n);
    std::vector<std::string> scratch(n);  // for string keys not held as std::string
    for (int i = 0; i < n; ++i) {
      const Message& entry = r->GetRepeatedMessage(m, f, i);
      const Reflection* er = entry.GetReflection();
      SortKey k;
      switch (key->cpp_type()) {
        case FieldDescriptor::CPPTYPE_STRING:
          k = er->GetStringReference(entry, key, &scratch[i]);
          break;
        case FieldDescriptor::CPPTYPE_INT32:
          k = int64_t{er->GetInt32(entry, key)};
          break;
        case FieldDescriptor::CPPTYPE_INT64:
          k = er->GetInt64(entry, key);
          break;
        case FieldDescriptor::CPPTYPE_UINT32:
          k = uint64_t{er->GetUInt32(entry, key)};
          break;
        case FieldDescriptor::CPPTYPE_UINT64:
          k = er->GetUInt64(entry, key);
          break;
        default:
          k = er->GetBool(entry, key);
          break;
      }
      entries.emplace_back(std::move(k), &entry);
    }
    if (n > 1) {
      std::sort(entries.begin(), entries.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
    }
    out->push_back('{');
    for (size_t i = 0; i < entries.size(); ++i) {
      if (i > 0) out->push_back(',');
      std::visit(
          [out](const auto& k) {
            if constexpr (std::is_same_v<std::decay_t<decltype(k)>, absl::string_view>) {
              AppendQuoted(k, out);
            } else if constexpr (std::is_same_v<std::decay_t<decltype(k)>, bool>) {
              out->append(k ? "\"true\"" : "\"false\"");
            } else {
              absl::StrAppend(out, "\"", k, "\"");
            }
          },
          entries[i].first);
      out->push_back(':');
      RETURN_IF_ERROR(PrintValue(*entries[i].second, value, -1, out));
    }
    out->push_back('}');
    return absl::OkStatus();
  }

  // One value of `f`: the field itself (index < 0) or element `index`.
  absl::Status PrintValue(const Message& m, const FieldDescriptor* f, int index, std::string* out) {
    const Reflection* r = m.GetReflection();
    bool rep = index >= 0;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_INT32:
        absl::StrAppend(out, rep ? r->GetRepeatedInt32(m, f, index) : r->GetInt32(m, f));
        break;
      case FieldDescriptor::CPPTYPE_UINT32:
        absl::StrAppend(out, rep ? r->GetRepeatedUInt32(m, f, index) : r->GetUInt32(m, f));
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        absl::StrAppend(out, "\"", rep ? r->GetRepeatedInt64(m, f, index) : r->GetInt64(m, f),
                        "\"");
        break;
      case FieldDescriptor::CPPTYPE_UINT64:
        absl::StrAppend(out, "\"", rep ? r->GetRepeatedUInt64(m, f, index) : r->GetUInt64(m, f),
                        "\"");
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        AppendFloat(rep ? r->GetRepeatedDouble(m, f, index) : r->GetDouble(m, f), out);
        break;
      case FieldDescriptor::CPPTYPE_FLOAT:
        AppendFloat(rep ? r->GetRepeatedFloat(m, f, index) : r->GetFloat(m, f), out);
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        out->append((rep ? r->GetRepeatedBool(m, f, index) : r->GetBool(m, f)) ? "true" : "false");
        break;
      case FieldDescriptor::CPPTYPE_ENUM: {
        int number = rep ? r->GetRepeatedEnumValue(m, f, index) : r->GetEnumValue(m, f);
        const auto* value = f->enum_type()->FindValueByNumber(number);
        if (value == nullptr) {
          absl::StrAppend(out, number);  // a value newer than our descriptors
        } else {
          AppendQuoted(JsonEnumInfo::For(f->enum_type()).ShortName(value), out);
        }
        break;
      }
      case FieldDescriptor::CPPTYPE_STRING: {
        std::string scratch;
        const std::string& s = rep ? r->GetRepeatedStringReference(m, f, index, &scratch)
                                   : r->GetStringReference(m, f, &scratch);
        AppendQuoted(f->type() == FieldDescriptor::TYPE_BYTES ? absl::Base64Escape(s) : s, out);
        break;
      }
      case FieldDescriptor::CPPTYPE_MESSAGE:
        return PrintMessage(rep ? r->GetRepeatedMessage(m, f, index) : r->GetMessage(m, f), out);
    }
    return absl::OkStatus();
  }

  absl::Status PrintScalarMessage(const Message& m, const JsonMessageInfo& info, std::string* out) {
    const Reflection* r = m.GetReflection();
    const FieldDescriptor* set = r->GetOneofFieldDescriptor(m, m.GetDescriptor()->oneof_decl(0));
    FlagValue value;
    if (set == nullptr) {
      out->append("{}");  // the object form of an empty value, which reads back
      return absl::OkStatus();
    } else if (set == info.string_member()) {
      value = r->GetString(m, set);
    } else if (set == info.int_member()) {
      value = r->GetInt64(m, set);
    } else if (set == info.double_member()) {
      value = r->GetDouble(m, set);
    } else {
      value = r->GetBool(m, set);
    }
    std::optional<std::string> text = FlagValueToPlainJsonText(value);
    if (text) {
      out->append(*text);
      return absl::OkStatus();
    }
    // No scalar reads back as this value (a string of a big integer's
    // digits, a NaN): the object form, which the parser also takes.
    out->push_back('{');
    AppendQuoted(set->name(), out);
    out->push_back(':');
    RETURN_IF_ERROR(PrintValue(m, set, -1, out));
    out->push_back('}');
    return absl::OkStatus();
  }

  absl::Status PrintWellKnown(const Message& m, std::string* out) {
    const std::string& name = m.GetDescriptor()->full_name();
    const Reflection* r = m.GetReflection();
    const Descriptor* d = m.GetDescriptor();
    if (name == "google.protobuf.Timestamp" || name == "google.protobuf.Duration") {
      int64_t seconds = r->GetInt64(m, d->FindFieldByNumber(1));
      int32_t nanos = r->GetInt32(m, d->FindFieldByNumber(2));
      using google::protobuf::util::TimeUtil;
      if (name == "google.protobuf.Timestamp") {
        google::protobuf::Timestamp ts;
        ts.set_seconds(seconds);
        ts.set_nanos(nanos);
        AppendQuoted(TimeUtil::ToString(ts), out);
      } else {
        google::protobuf::Duration du;
        du.set_seconds(seconds);
        du.set_nanos(nanos);
        AppendQuoted(TimeUtil::ToString(du), out);
      }
      return absl::OkStatus();
    }
    if (name == "google.protobuf.FieldMask") {
      std::vector<std::string> paths;
      const FieldDescriptor* f = d->FindFieldByNumber(1);
      for (int i = 0; i < r->FieldSize(m, f); ++i) paths.push_back(r->GetRepeatedString(m, f, i));
      AppendQuoted(absl::StrJoin(paths, ","), out);
      return absl::OkStatus();
    }
    // Struct, Value, Any, wrappers, Empty: protobuf's own mapping.
    google::protobuf::util::JsonPrintOptions options;
    options.preserve_proto_field_names = true;
    std::string text;
    auto status = google::protobuf::util::MessageToJsonString(m, &text, options);
    if (!status.ok()) {
      return absl::InternalError(
          absl::StrCat("printing ", name, ": ", std::string(status.message())));
    }
    out->append(text);
    return absl::OkStatus();
  }
};

}  // namespace

absl::StatusOr<std::string> MessageToPlainJson(const Message& message) {
  std::string out;
  Printer printer;
  RETURN_IF_ERROR(printer.PrintMessage(message, &out));
  return out;
}

}  // namespace skydeck::web
