// File: cli/experiment_list_printer.cc
#include "cli/experiment_list_printer.h"

#include <cstdio>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

#include "cli/views.h"

namespace skydeck::cli {

ExperimentListPrinter::ExperimentListPrinter(CommandContext& ctx, bool watch_json_lines)
    : ctx_(ctx), json_lines_(watch_json_lines && ctx.format() == OutputFormat::kJson) {
  if (ctx_.human()) {
    table_.emplace(ExperimentColumns(ctx_.wide()), !ctx_.options().no_headers);
  } else if (!json_lines_ && ctx_.format() != OutputFormat::kName) {
    document_.emplace(ctx_.format(), "experiments");
  }
}

void ExperimentListPrinter::AddPage(
    const google::protobuf::RepeatedPtrField<skydeck::v1::Experiment>& page) {
  // An empty page (the last one can be) prints nothing: no header for a
  // table that may stay empty.
  if (page.empty()) return;
  count_ += page.size();
  std::string out;
  if (table_) {
    std::vector<std::vector<std::string>> rows;
    rows.reserve(page.size());
    int64_t now_ms = ctx_.NowMillis();
    for (const auto& e : page) rows.push_back(ExperimentRow(e, now_ms, ctx_.color(), ctx_.wide()));
    out = table_->AddRows(rows);
  } else if (document_) {
    for (const auto& e : page) out += document_->Add(ProtoToJson(e, ctx_.int64_encoding()));
  } else if (json_lines_) {
    // The shape of the changes that follow (no event: this is the
    // starting point), one object per line from the first line on.
    for (const auto& e : page) {
      nlohmann::ordered_json line = nlohmann::ordered_json::object();
      line["event"] = nullptr;
      line["experiment"] = ProtoToJson(e, ctx_.int64_encoding());
      absl::StrAppend(&out, line.dump(), "\n");
    }
  } else {
    // -o name straight from the protos: scripts loop over it, and building
    // JSON first made it slower than the table.
    for (const auto& e : page) absl::StrAppend(&out, e.name(), "\n");
  }
  if (!out.empty()) ctx_.Write(out);
}

void ExperimentListPrinter::Finish() {
  if (document_) {
    ctx_.Write(document_->Finish());
  } else if (table_ && count_ == 0) {
    // A note, not data: stdout stays empty for `| wc -l` and friends.
    std::fputs("No experiments found.\n", stderr);
  }
}

}  // namespace skydeck::cli
