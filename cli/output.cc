// File: cli/output.cc
//
// Printers: table, key/value, JSON, YAML, and the cell formatting rules.
#include "cli/output.h"

#include <algorithm>
#include <cstdlib>
#include <string>

#include <google/protobuf/util/json_util.h>
#include <yaml-cpp/yaml.h>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace skydeck::cli {
namespace {

namespace gpb = ::google::protobuf;

constexpr absl::string_view kColumnGap = "   ";

// Code points shown, not counting colour escapes ("\x1b[32m"): only the
// CLI's own Paint() puts those in cells (OneLine() strips ESC from user
// text), and a coloured cell must line up like a plain one.
size_t DisplayWidth(absl::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\x1b' && i + 1 < text.size() && text[i + 1] == '[') {
      i += 2;
      while (i < text.size() && !(text[i] >= 0x40 && text[i] <= 0x7e)) ++i;
      continue;
    }
    // Count only the first byte of each UTF-8 sequence.
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) ++width;
  }
  return width;
}

void AppendPadded(std::string* out, absl::string_view cell, size_t width) {
  out->append(cell.data(), cell.size());
  size_t shown = DisplayWidth(cell);
  if (shown < width) out->append(width - shown, ' ');
}

// "DesiredState" -> "DESIRED_STATE_": the prefix protobuf style gives every
// value of an enum type.
std::string EnumValuePrefix(absl::string_view type_name) {
  std::string prefix;
  for (size_t i = 0; i < type_name.size(); ++i) {
    char c = type_name[i];
    if (i > 0 && absl::ascii_isupper(c)) prefix += '_';
    prefix += absl::ascii_toupper(c);
  }
  prefix += '_';
  return prefix;
}

// Google's well-known types have their own JSON forms (a Timestamp is a
// string): never walk into them.
bool IsWellKnownType(const gpb::Descriptor* type) {
  return absl::StartsWith(type->full_name(), "google.protobuf.");
}

void Normalize(const gpb::Descriptor* type, Int64Encoding int64_encoding,
               nlohmann::ordered_json* object);

void NormalizeValue(const gpb::FieldDescriptor* field, Int64Encoding int64_encoding,
                    nlohmann::ordered_json* value) {
  bool to_number = int64_encoding == Int64Encoding::kNumber && value->is_string();
  switch (field->cpp_type()) {
    case gpb::FieldDescriptor::CPPTYPE_INT64:
      if (to_number) *value = std::strtoll(value->get<std::string>().c_str(), nullptr, 10);
      break;
    case gpb::FieldDescriptor::CPPTYPE_UINT64:
      if (to_number) *value = std::strtoull(value->get<std::string>().c_str(), nullptr, 10);
      break;
    case gpb::FieldDescriptor::CPPTYPE_MESSAGE:
      if (!IsWellKnownType(field->message_type())) {
        Normalize(field->message_type(), int64_encoding, value);
      }
      break;
    default:
      break;
  }
}

// Walks the JSON tree along the message's descriptor: sorts map entries by
// key (the JSON printer emits them in hash order, which changes between
// runs and defeats diffing) and applies `int64_encoding`.
void Normalize(const gpb::Descriptor* type, Int64Encoding int64_encoding,
               nlohmann::ordered_json* object) {
  if (!object->is_object()) return;
  for (int i = 0; i < type->field_count(); ++i) {
    const gpb::FieldDescriptor* field = type->field(i);
    auto it = object->find(field->name());
    if (it == object->end()) continue;
    if (field->is_map()) {
      const gpb::FieldDescriptor* value_field = field->message_type()->map_value();
      std::vector<std::pair<std::string, nlohmann::ordered_json>> entries;
      for (auto& entry : it->items()) {
        NormalizeValue(value_field, int64_encoding, &entry.value());
        entries.emplace_back(entry.key(), std::move(entry.value()));
      }
      std::sort(entries.begin(), entries.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      nlohmann::ordered_json sorted = nlohmann::ordered_json::object();
      for (auto& [key, value] : entries) sorted[key] = std::move(value);
      *it = std::move(sorted);
    } else if (field->is_repeated()) {
      for (auto& element : *it) NormalizeValue(field, int64_encoding, &element);
    } else {
      NormalizeValue(field, int64_encoding, &*it);
    }
  }
}

bool IsYamlBoolOrNullWord(absl::string_view text) {
  // YAML 1.1 (what most readers, PyYAML included, implement) and 1.2.
  static constexpr absl::string_view kWords[] = {"y",     "n",  "yes", "no",   "true",
                                                 "false", "on", "off", "null", "~"};
  for (absl::string_view word : kWords) {
    if (absl::EqualsIgnoreCase(text, word)) return true;
  }
  return false;
}

void EmitYaml(const nlohmann::ordered_json& node, YAML::Emitter* out) {
  switch (node.type()) {
    case nlohmann::ordered_json::value_t::object:
      if (node.empty()) {
        *out << YAML::Flow << YAML::BeginMap << YAML::EndMap;
        return;
      }
      *out << YAML::BeginMap;
      for (const auto& entry : node.items()) {
        *out << YAML::Key;
        EmitYaml(nlohmann::ordered_json(entry.key()), out);
        *out << YAML::Value;
        EmitYaml(entry.value(), out);
      }
      *out << YAML::EndMap;
      return;
    case nlohmann::ordered_json::value_t::array:
      if (node.empty()) {
        *out << YAML::Flow << YAML::BeginSeq << YAML::EndSeq;
        return;
      }
      *out << YAML::BeginSeq;
      for (const auto& element : node) EmitYaml(element, out);
      *out << YAML::EndSeq;
      return;
    case nlohmann::ordered_json::value_t::string: {
      const std::string& text = node.get_ref<const std::string&>();
      if (NeedsYamlQuotes(text)) *out << YAML::DoubleQuoted;
      *out << text;
      return;
    }
    case nlohmann::ordered_json::value_t::boolean:
      *out << (node.get<bool>() ? "true" : "false");
      return;
    case nlohmann::ordered_json::value_t::number_integer:
    case nlohmann::ordered_json::value_t::number_unsigned:
    case nlohmann::ordered_json::value_t::number_float:
      // JSON's shortest round-trip form; the emitter would print 17 digits.
      *out << node.dump();
      return;
    case nlohmann::ordered_json::value_t::null:
    case nlohmann::ordered_json::value_t::binary:
    case nlohmann::ordered_json::value_t::discarded:
      *out << YAML::Null;
      return;
  }
}

}  // namespace

absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text) {
  if (text == "table") return OutputFormat::kTable;
  if (text == "json") return OutputFormat::kJson;
  if (text == "yaml") return OutputFormat::kYaml;
  if (text == "wide") return OutputFormat::kWide;
  if (text == "name") return OutputFormat::kName;
  return absl::InvalidArgumentError(
      absl::StrCat("output format \"", text, "\": must be table, wide, json, yaml or name"));
}

std::vector<std::string> OutputFormatNames() { return {"table", "wide", "json", "yaml", "name"}; }

std::string NamesOf(const nlohmann::ordered_json& doc) {
  std::string out;
  if (doc.is_array()) {
    for (const auto& item : doc) out += NamesOf(item);
  } else if (doc.is_object()) {
    auto name = doc.find("name");
    if (name != doc.end() && name->is_string()) return name->get<std::string>() + "\n";
    for (const auto& [key, value] : doc.items()) {
      if (value.is_array() || value.is_object()) out += NamesOf(value);
    }
  }
  return out;
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::AddRow(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

std::string Table::Render() const { return TableStream(headers_).AddRows(rows_); }

TableStream::TableStream(std::vector<std::string> headers, bool with_header)
    : headers_(std::move(headers)), widths_(headers_.size()), header_pending_(with_header) {
  for (size_t c = 0; c < headers_.size(); ++c) widths_[c] = DisplayWidth(headers_[c]);
}

std::string TableStream::AddRows(const std::vector<std::vector<std::string>>& rows) {
  const size_t columns = headers_.size();
  for (const auto& row : rows) {
    for (size_t c = 0; c < std::min(row.size(), columns); ++c) {
      widths_[c] = std::max(widths_[c], DisplayWidth(row[c]));
    }
  }
  std::string out;
  auto append_line = [&](const std::vector<std::string>& cells) {
    for (size_t c = 0; c < columns; ++c) {
      absl::string_view cell = c < cells.size() ? absl::string_view(cells[c]) : "";
      if (c + 1 == columns) {
        out.append(cell.data(), cell.size());
      } else {
        AppendPadded(&out, cell, widths_[c]);
        out.append(kColumnGap.data(), kColumnGap.size());
      }
    }
    // A last column that is empty on this row must not leave blanks behind.
    while (!out.empty() && out.back() == ' ') out.pop_back();
    out += '\n';
  };
  if (header_pending_) append_line(headers_);
  header_pending_ = false;
  for (const auto& row : rows) append_line(row);
  rows_printed_ += rows.size();
  return out;
}

std::string RenderKeyValues(const KeyValues& rows) {
  size_t width = 0;
  for (const auto& [key, value] : rows) width = std::max(width, DisplayWidth(key) + 1);
  std::string out;
  for (const auto& [key, value] : rows) {
    std::string label = absl::StrCat(key, ":");
    bool first = true;
    for (absl::string_view line : absl::StrSplit(value.empty() ? "-" : value, '\n')) {
      AppendPadded(&out, first ? label : "", width);
      out += "  ";
      out.append(line.data(), line.size());
      while (!out.empty() && out.back() == ' ') out.pop_back();
      out += '\n';
      first = false;
    }
  }
  return out;
}

std::string FormatDuration(int64_t millis) {
  int64_t s = std::llabs(millis) / 1000;
  if (s < 120) return absl::StrCat(s, "s");
  if (s < 120 * 60) return absl::StrCat(s / 60, "m");
  if (s < 48 * 3600) return absl::StrCat(s / 3600, "h");
  if (s < 730 * 86400) return absl::StrCat(s / 86400, "d");
  return absl::StrCat(s / (365 * 86400), "y");
}

std::string FormatAge(int64_t then_ms, int64_t now_ms) {
  if (then_ms == 0) return "-";
  if (then_ms > now_ms + 1000) return absl::StrCat("in ", FormatDuration(then_ms - now_ms));
  return FormatDuration(std::max<int64_t>(now_ms - then_ms, 0));
}

std::string FormatTimeAgo(int64_t then_ms, int64_t now_ms) {
  std::string age = FormatAge(then_ms, now_ms);
  if (age == "-" || absl::StartsWith(age, "in ")) return age;
  return absl::StrCat(age, " ago");
}

std::string ShortEnumName(const google::protobuf::EnumDescriptor* type, int value) {
  const gpb::EnumValueDescriptor* v = type->FindValueByNumber(value);
  if (v == nullptr) return absl::StrCat(value);
  absl::string_view name = v->name();
  absl::ConsumePrefix(&name, EnumValuePrefix(type->name()));
  if (name == "UNSPECIFIED") return "-";
  return std::string(name);
}

std::string OneLine(absl::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

std::string Truncate(absl::string_view text, size_t max_chars) {
  if (DisplayWidth(text) <= max_chars) return std::string(text);
  size_t keep = max_chars > 3 ? max_chars - 3 : 0;
  size_t end = 0, seen = 0;
  // Cut on a code point boundary so no half UTF-8 sequence is printed.
  while (end < text.size()) {
    if ((static_cast<unsigned char>(text[end]) & 0xC0) != 0x80) {
      if (seen == keep) break;
      ++seen;
    }
    ++end;
  }
  return absl::StrCat(text.substr(0, end), "...");
}

std::string Indent(absl::string_view text, int spaces) {
  std::string out;
  bool at_line_start = true;
  for (char c : text) {
    if (at_line_start && c != '\n') out.append(static_cast<size_t>(spaces), ' ');
    out += c;
    at_line_start = c == '\n';
  }
  return out;
}

std::string FormatFlags(const FlagMap& flags, absl::string_view separator) {
  std::string out;
  for (const auto& [key, value] : flags) {
    if (!out.empty()) out.append(separator.data(), separator.size());
    absl::StrAppend(&out, key, "=", FormatFlagValue(value));
  }
  return out;
}

nlohmann::ordered_json ProtoToJson(const google::protobuf::Message& message,
                                   Int64Encoding int64_encoding) {
  gpb::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = false;
  std::string text;
  // Printing a well-formed message with its own descriptor cannot fail; an
  // empty object is the safe answer if it ever does.
  if (!gpb::util::MessageToJsonString(message, &text, options).ok()) {
    return nlohmann::ordered_json::object();
  }
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(text, nullptr, false);
  if (doc.is_discarded()) return nlohmann::ordered_json::object();
  Normalize(message.GetDescriptor(), int64_encoding, &doc);
  return doc;
}

std::string RenderJson(const nlohmann::ordered_json& doc) {
  // Invalid UTF-8 (possible only in bytes fields) is replaced, not thrown.
  return doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

std::string RenderYaml(const nlohmann::ordered_json& doc) {
  YAML::Emitter out;
  EmitYaml(doc, &out);
  return absl::StrCat(out.c_str(), "\n");
}

bool NeedsYamlQuotes(absl::string_view text) {
  if (text.empty() || IsYamlBoolOrNullWord(text)) return true;
  absl::string_view rest = text;
  if (rest.front() == '+' || rest.front() == '-') rest.remove_prefix(1);
  if (rest.empty()) return false;
  // Numbers (42, 0x2a, 1e5, .5), .inf/.nan, dates and times all start with a
  // digit or a dot: quoting those is always safe and never surprising.
  if (absl::ascii_isdigit(rest.front())) return true;
  if (rest.front() == '.') {
    return rest.size() > 1 &&
           (absl::ascii_isdigit(rest[1]) || absl::EqualsIgnoreCase(rest, ".inf") ||
            absl::EqualsIgnoreCase(rest, ".nan"));
  }
  return false;
}

}  // namespace skydeck::cli
