// File: cli/command.cc
#include "cli/command.h"

#include <cstdio>
#include <iostream>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "cli/terminal.h"
#include "common/time_util.h"

namespace skydeck::cli {
namespace {

// Payload that marks a locally detected usage error. The URL only has to be
// unique; it is never sent anywhere.
constexpr absl::string_view kUsagePayload = "type.skydeck.dev/cli.UsageError";
constexpr absl::string_view kWaitTimeoutPayload = "type.skydeck.dev/cli.WaitTimeout";
constexpr absl::string_view kJobFailedPayload = "type.skydeck.dev/cli.JobFailed";

}  // namespace

absl::Status CommandContext::Run() {
  if (!action_) return UsageError("no command given; see skydeck --help");
  return action_();
}

Client& CommandContext::client() {
  if (client_ == nullptr) client_ = std::make_unique<Client>(ResolveServerAddress(options_.server));
  return *client_;
}

OutputFormat CommandContext::format() const {
  // CLI11 has already restricted the text to the three choices.
  return ParseOutputFormat(options_.output).value_or(OutputFormat::kTable);
}

bool CommandContext::color() const { return human() && ColorAllowedFor(stdout); }

Int64Encoding CommandContext::int64_encoding() const {
  return format() == OutputFormat::kYaml ? Int64Encoding::kNumber : Int64Encoding::kJsonString;
}

void CommandContext::Write(absl::string_view text) const {
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fflush(stdout);
}

void CommandContext::WriteTable(absl::string_view table) const {
  if (options_.no_headers) {
    size_t newline = table.find('\n');
    table = newline == absl::string_view::npos ? "" : table.substr(newline + 1);
  }
  Write(table);
}

void CommandContext::WriteDocument(const nlohmann::ordered_json& doc) const {
  switch (format()) {
    case OutputFormat::kYaml:
      return Write(RenderYaml(doc));
    case OutputFormat::kName:
      return Write(NamesOf(doc));
    default:
      return Write(RenderJson(doc));
  }
}

int64_t CommandContext::NowMillis() const { return skydeck::NowMillis(); }

absl::Status UsageError(absl::string_view message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsagePayload, absl::Cord("1"));
  return status;
}

absl::Status AsUsageError(const absl::Status& status) {
  if (status.ok()) return status;
  return UsageError(status.message());
}

bool IsUsageError(const absl::Status& status) {
  return status.GetPayload(kUsagePayload).has_value();
}

absl::Status WaitTimeoutError(absl::string_view message) {
  absl::Status status = absl::DeadlineExceededError(message);
  status.SetPayload(kWaitTimeoutPayload, absl::Cord("1"));
  return status;
}

bool IsWaitTimeout(const absl::Status& status) {
  return status.GetPayload(kWaitTimeoutPayload).has_value();
}

absl::Status JobFailedError(absl::string_view message) {
  absl::Status status = absl::FailedPreconditionError(message);
  status.SetPayload(kJobFailedPayload, absl::Cord("1"));
  return status;
}

bool IsJobFailed(const absl::Status& status) {
  return status.GetPayload(kJobFailedPayload).has_value();
}

int ExitCodeFor(const absl::Status& status) {
  if (status.ok()) return kExitOk;
  if (IsUsageError(status)) return kExitUsage;
  if (IsWaitTimeout(status)) return kExitTimeout;
  if (IsJobFailed(status)) return kExitJobFailed;
  if (IsUnreachable(status)) return kExitUnreachable;
  return kExitServerError;
}

void PrintError(const absl::Status& status) {
  std::fflush(stdout);
  std::cerr << "skydeck: error: " << status.message() << std::endl;
}

void PrintWarnings(const google::protobuf::RepeatedPtrField<std::string>& warnings) {
  for (const std::string& w : warnings) std::cerr << "skydeck: warning: " << w << "\n";
  std::cerr << std::flush;
}

absl::Status RunForEach(const std::vector<std::string>& refs,
                        const std::function<absl::Status(const std::string&)>& op) {
  if (refs.size() == 1) return op(refs.front());
  absl::Status first;
  int failed = 0;
  for (const std::string& ref : refs) {
    absl::Status status = op(ref);
    if (status.ok()) continue;
    ++failed;
    PrintError(absl::Status(status.code(), absl::StrCat(ref, ": ", status.message())));
    if (first.ok()) first = status;
  }
  if (failed == 0) return absl::OkStatus();
  // Keeps the first failure's marks too, so its exit code (3 for an
  // unreachable daemon) survives the summary.
  absl::Status summary(first.code(), absl::StrCat(failed, " of ", refs.size(), " failed"));
  first.ForEachPayload([&summary](absl::string_view url, const absl::Cord& payload) {
    summary.SetPayload(url, payload);
  });
  return summary;
}

void OnParsed(CLI::App* command, CommandContext* ctx, std::function<absl::Status()> run) {
  command->callback([ctx, run = std::move(run)] { ctx->SetAction(run); });
}

void SetExamples(CLI::App* command, std::initializer_list<absl::string_view> examples) {
  command->footer(absl::StrCat(
      "\nExamples:\n  ", absl::StrJoin(examples, "\n  "),
      "\n\nGlobal options: --server HOST:PORT, -o table|wide|json|yaml|name, --no-headers"));
}

CLI::Validator NonNegative() {
  return CLI::Validator(
      [](std::string& text) -> std::string {
        int64_t value = 0;
        if (absl::SimpleAtoi(text, &value) && value >= 0) return "";
        return absl::StrCat("\"", text, "\" is not a whole number of 0 or more");
      },
      "N>=0");
}

}  // namespace skydeck::cli
