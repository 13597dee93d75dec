// File: cli/list_stream.h
//
// A list document written item by item as its items arrive (`exp list`
// over many pages), so the caller can write each piece at once and keep
// nothing of what it already printed. Concatenated, the pieces are byte
// for byte what the whole-document printers in output.h print for the same
// items: RenderJson / RenderYaml of ListDocument(key, items), or NamesOf.
//
//   ListDocumentStream out(OutputFormat::kJson, "experiments");
//   Write(out.Add(a));   // "{\n  \"experiments\": [\n    {\n      \"name\": \"a\"\n    }"
//   Write(out.Add(b));   // ",\n    {\n      \"name\": \"b\"\n    }"
//   Write(out.Finish()); // "\n  ]\n}\n"
//
// If the caller stops before Finish() (a page failed to arrive), what was
// written is the start of the document, not a whole one: a reader must go
// by the exit status.
#pragma once

#include <cstddef>
#include <string>

#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

#include "cli/output.h"

namespace skydeck::cli {

// Thread-safety: one thread at a time.
class ListDocumentStream {
 public:
  // REQUIRES: format is kJson, kYaml or kName; key is a plain word
  // ([a-z_]+, as every list key the CLI prints), so YAML needs no quotes.
  ListDocumentStream(OutputFormat format, absl::string_view key);

  // The text of one more item; the first also carries the document's
  // opening. kName: the item's names (NamesOf), one per line.
  // REQUIRES: Finish() has not been called.
  std::string Add(const nlohmann::ordered_json& item);

  // What closes the document; with no item added, the whole empty list
  // ({"<key>": []}, "<key>: []"), as ListDocument prints it.
  // REQUIRES: called once, after the last Add().
  std::string Finish();

  // Items added so far.
  size_t count() const { return count_; }

 private:
  OutputFormat format_;
  std::string key_;
  size_t count_ = 0;
};

}  // namespace skydeck::cli
