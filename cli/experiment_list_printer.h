// File: cli/experiment_list_printer.h
//
// `exp list` output written page by page as ListExperiments answers, so the
// CLI holds one page however many experiments there are, and the first
// lines appear once the first page arrived. Each format prints what the
// whole list printed at once would (list_stream.h); the table's columns
// are sized by the first page (TableStream).
//
//   ExperimentListPrinter printer(ctx, /*watch=*/false);
//   for (each page) printer.AddPage(resp.experiments());
//   printer.Finish();
#pragma once

#include <cstddef>
#include <optional>

#include <google/protobuf/repeated_ptr_field.h>

#include "cli/command.h"
#include "cli/list_stream.h"
#include "cli/output.h"
#include "skydeck/v1/resources.pb.h"

namespace skydeck::cli {

// Thread-safety: one thread at a time, like the CLI.
class ExperimentListPrinter {
 public:
  // Prints in ctx's format to stdout. With `watch_json_lines` and -o json,
  // each experiment is one line {"event": null, "experiment": ...} instead
  // of a document (what `exp list -w -o json` prints before its changes).
  // REQUIRES: ctx outlives this.
  ExperimentListPrinter(CommandContext& ctx, bool watch_json_lines);

  // Writes this page's experiments (and, on the first page, the opening of
  // the document or the table's header).
  void AddPage(const google::protobuf::RepeatedPtrField<skydeck::v1::Experiment>& page);

  // Writes what closes the output: the end of the document, or for a table
  // with no rows the note "No experiments found." on stderr.
  // REQUIRES: called once, after the last page. Not called when a page
  // failed: the output then stops where it was (for json and yaml, an
  // unterminated document; the exit status tells).
  void Finish();

  // Experiments printed so far.
  size_t count() const { return count_; }

 private:
  CommandContext& ctx_;
  bool json_lines_;
  // One of these, by format: documents (json, yaml, name) or a table.
  std::optional<ListDocumentStream> document_;
  std::optional<TableStream> table_;
  size_t count_ = 0;
};

}  // namespace skydeck::cli
