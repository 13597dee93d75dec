// File: cli/output.h
//
// How the CLI prints, independent of any resource: aligned tables and
// key/value blocks for people, JSON and YAML for scripts, plus the small
// formatting rules tables share (relative ages, enum names without their
// prefix, truncation). All functions are pure (the clock is a parameter), so
// they are unit-testable without a daemon.
//
//   Table t({"ID", "NAME"});
//   t.AddRow({"1", "lr-a"});
//   std::cout << t.Render();   // "ID   NAME\n1    lr-a\n"
//
//   nlohmann::ordered_json doc = ProtoToJson(experiment, Int64Encoding::kNumber);
//   std::cout << RenderYaml(doc);   // "id: 42\nname: lr-a\n..."
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

#include "common/model/flag_value.h"

namespace skydeck::cli {

// kWide: the table with more columns; kName: one resource name per line
// (from the same documents json/yaml print).
enum class OutputFormat { kTable, kWide, kJson, kYaml, kName };

// "table", "wide", "json", "yaml" or "name". Errors: INVALID_ARGUMENT naming
// the choices.
absl::StatusOr<OutputFormat> ParseOutputFormat(absl::string_view text);

// The -o choices ParseOutputFormat accepts, for the option check and shell
// completion: {"table", "wide", "json", "yaml", "name"}.
std::vector<std::string> OutputFormatNames();

// ---------------------------------------------------------------------------
// Tables and key/value blocks (human output).

// Table
//
// Columns are padded to their widest cell (counted in UTF-8 code points,
// colour escapes from terminal.h's Paint() not counted) and
// separated by three spaces; the last column is not padded, so no line ends
// in blanks. Cells are printed as given: callers pass them through OneLine()
// when they may hold user text.
class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // REQUIRES: cells.size() == number of headers.
  void AddRow(std::vector<std::string> cells);
  size_t size() const { return rows_.size(); }

  // The header line, then one line per row, each ending in '\n'.
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// TableStream
//
// A Table printed batch by batch as its rows arrive (a list read page by
// page), holding no row it has printed. Columns are sized by the header and
// the first batch, so that batch prints exactly as Table::Render would; a
// later cell wider than its column widens the column from its own batch on
// (widths never shrink). A long list therefore stays aligned, except that a
// later page with a wider cell (a longer name, an id with more digits)
// shifts the columns right from there, as `kubectl get` does between its
// chunks.
//
//   TableStream t({"ID", "NAME"});
//   t.AddRows({{"1", "a"}});     // "ID   NAME\n1    a\n"
//   t.AddRows({{"2", "bb"}});    // "2    bb\n"
//   t.AddRows({{"1000", "c"}});  // "1000   c\n"
//
// Thread-safety: one thread at a time.
class TableStream {
 public:
  // Without `with_header` (--no-headers) the header line is never printed
  // (it still counts for the widths, as in a whole table).
  explicit TableStream(std::vector<std::string> headers, bool with_header = true);

  // The lines of `rows`, each ending in '\n', after the header line on the
  // first call. Rows shorter than the header get empty cells.
  std::string AddRows(const std::vector<std::vector<std::string>>& rows);

  // Rows printed so far.
  size_t size() const { return rows_printed_; }

 private:
  std::vector<std::string> headers_;
  std::vector<size_t> widths_;
  bool header_pending_;
  size_t rows_printed_ = 0;
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// "Key:   value" lines with the values aligned; an empty value prints as "-".
// Multi-line values continue on lines indented to the value column.
//   RenderKeyValues({{"Name", "a"}, {"Generation", "3"}})
//   // "Name:        a\nGeneration:  3\n"
std::string RenderKeyValues(const KeyValues& rows);

// ---------------------------------------------------------------------------
// Cell formatting.

// A compact duration, largest unit only: 45s, 5m, 3h, 12d, 2y. Negative
// durations are formatted by magnitude.
std::string FormatDuration(int64_t millis);

// How long ago `then_ms` was: "5m". "-" when then_ms is 0 (unset); "in 5m"
// when it is in the future (e.g. a scheduled retry).
std::string FormatAge(int64_t then_ms, int64_t now_ms);

// Like FormatAge with "ago" spelled out: "5m ago", "in 30s", "-".
std::string FormatTimeAgo(int64_t then_ms, int64_t now_ms);

// The enum value's name without the prefix its type gives every value:
// DESIRED_STATE_RUNNING -> "RUNNING", Health STATUS_SERVING -> "SERVING";
// *_UNSPECIFIED -> "-"; a number the descriptor does not know -> "42".
std::string ShortEnumName(const google::protobuf::EnumDescriptor* type, int value);

// Replaces newlines, tabs and other control characters by spaces, so user
// text cannot break a table row or send terminal escapes.
std::string OneLine(absl::string_view text);

// At most `max_chars` code points; longer text ends in "...".
//   Truncate("abcdefgh", 6) == "abc..."
std::string Truncate(absl::string_view text, size_t max_chars);

// Every line of `text` prefixed with `spaces` blanks (empty lines stay empty).
std::string Indent(absl::string_view text, int spaces);

// Flags as `k=v` joined by `separator`, in key order:
//   FormatFlags({{"lr", 3e-4}, {"layers", int64_t{4}}}) == "layers=4 lr=0.0003"
std::string FormatFlags(const FlagMap& flags, absl::string_view separator = " ");

// ---------------------------------------------------------------------------
// Machine output (json, yaml).

// How 64-bit integers appear. Protobuf's JSON printer quotes them ("42"),
// which JSON output keeps for compatibility with every other proto JSON
// reader; YAML has no such precision problem and shows plain numbers.
enum class Int64Encoding { kJsonString, kNumber };

// The message as protobuf's JSON printer writes it (proto field names,
// fields with default values omitted, times as RFC 3339), as a tree that
// keeps field order, with map entries sorted by key so output is stable.
// With kNumber, int64/uint64 fields become numbers.
nlohmann::ordered_json ProtoToJson(const google::protobuf::Message& message,
                                   Int64Encoding int64_encoding);

// {"<key>": [item, ...]}: list output keeps its key even when empty, so
// scripts can always index it.
template <typename Message>
nlohmann::ordered_json ListDocument(absl::string_view key, const std::vector<Message>& items,
                                    Int64Encoding int64_encoding) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const Message& item : items) list.push_back(ProtoToJson(item, int64_encoding));
  nlohmann::ordered_json doc = nlohmann::ordered_json::object();
  doc[std::string(key)] = std::move(list);
  return doc;
}

// The "name" of every resource in `doc`, one per line: the document's own
// "name", or those of the objects in its arrays and nested objects.
//   NamesOf({"experiments": [{"name": "a"}, {"name": "b"}]}) == "a\nb\n"
std::string NamesOf(const nlohmann::ordered_json& doc);

// Two-space indented JSON, ending in '\n'.
std::string RenderJson(const nlohmann::ordered_json& doc);

// Block-style YAML, ending in '\n'. Strings a YAML reader would take for
// something else (numbers, true/yes/null, timestamps, "") are quoted;
// numbers print as JSON writes them (0.0003, not 0.00029999999999999997).
std::string RenderYaml(const nlohmann::ordered_json& doc);

// True when `text` as a plain YAML scalar would not read back as this
// string (exposed for tests).
bool NeedsYamlQuotes(absl::string_view text);

}  // namespace skydeck::cli
