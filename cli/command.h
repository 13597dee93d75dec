// File: cli/command.h
//
// What every verb shares: the global options, the one Client, where output
// goes, and how a verb's outcome becomes an exit code. Each noun file
// (exp.cc, job.cc, system.cc) registers its CLI11 subcommands here; a verb's
// callback only records what to run, and main() runs it after parsing, so
// CLI11 exceptions never meet gRPC and every error takes one path out.
//
//   CommandContext ctx;
//   AddExpCommands(&app, &ctx);
//   app.parse(argc, argv);           // sets ctx's action
//   absl::Status s = ctx.Run();      // one verb, usually one RPC
//   return ExitCodeFor(s);
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

#include "CLI/CLI.hpp"
#include "cli/client.h"
#include "cli/output.h"

namespace skydeck::cli {

struct GlobalOptions {
  // --server; empty: $SKYDECK_SERVER, then 127.0.0.1:50051.
  std::string server;
  // -o/--output: table, wide, json, yaml or name (CLI11 checks the choice).
  std::string output = "table";
  // --no-headers: tables without their header line.
  bool no_headers = false;
};

// Thread-safety: single-threaded, like the CLI.
class CommandContext {
 public:
  GlobalOptions& options() { return options_; }

  // The chosen verb. Set by a subcommand callback during parsing.
  void SetAction(std::function<absl::Status()> action) { action_ = std::move(action); }
  // Runs the action. REQUIRES: parsing finished and set an action.
  absl::Status Run();

  // The client for options().server, created on first use.
  Client& client();

  OutputFormat format() const;
  // Tables (table, wide) rather than documents (json, yaml, name).
  bool human() const { return format() == OutputFormat::kTable || format() == OutputFormat::kWide; }
  bool wide() const { return format() == OutputFormat::kWide; }
  // Whether state words in human output are coloured: a table format, and
  // stdout a terminal that wants colour (terminal.h ColorAllowed). Never for
  // json, yaml or name.
  bool color() const;
  // How int64 fields appear in documents for format().
  Int64Encoding int64_encoding() const;

  // Writes text as given on stdout (tables, raw logs).
  void Write(absl::string_view text) const;
  // Writes a rendered table, without its first line under --no-headers.
  void WriteTable(absl::string_view table) const;
  // Writes `doc` as JSON, YAML or (-o name) NamesOf(doc). REQUIRES: !human().
  void WriteDocument(const nlohmann::ordered_json& doc) const;

  // Wall-clock now, for ages in tables.
  int64_t NowMillis() const;

 private:
  GlobalOptions options_;
  std::function<absl::Status()> action_;
  std::unique_ptr<Client> client_;
};

// ---------------------------------------------------------------------------
// Errors and exit codes.

// A problem with what the user typed, found before any request was sent:
// exit code 2. Keeps `status`'s message; marks it so ExitCodeFor() can tell
// it from the daemon's own INVALID_ARGUMENT (exit code 1).
absl::Status UsageError(absl::string_view message);
absl::Status AsUsageError(const absl::Status& status);
bool IsUsageError(const absl::Status& status);

// A wait that gave up (`skydeck wait`, `--wait`): exit code 4.
absl::Status WaitTimeoutError(absl::string_view message);
bool IsWaitTimeout(const absl::Status& status);

// `logs` of a job that ended in failure, after its log was printed: exit
// code 5, as `sky jobs logs` exits non-zero for a failed job.
absl::Status JobFailedError(absl::string_view message);
bool IsJobFailed(const absl::Status& status);

// The value, or its error turned into a usage error (for argument parsing).
template <typename T>
absl::StatusOr<T> AsUsage(absl::StatusOr<T> value) {
  if (!value.ok()) return AsUsageError(value.status());
  return value;
}

// ExitCodeFor(absl::Status)
//
// OK -> 0; a UsageError -> 2; a WaitTimeoutError -> 4; a JobFailedError
// -> 5; an UnreachableError
// (client.h: gRPC could not reach the daemon or it never answered) -> 3;
// anything else, including an UNAVAILABLE the daemon itself sent, -> 1.
int ExitCodeFor(const absl::Status& status);

// "skydeck: error: <message>" on stderr.
void PrintError(const absl::Status& status);
// "skydeck: warning: <w>" on stderr for each warning the daemon returned
// (e.g. an unknown flag a lenient schema let through).
void PrintWarnings(const google::protobuf::RepeatedPtrField<std::string>& warnings);

// RunForEach()
//
// Runs `op` on every ref, continuing past failures (a bulk delete must not
// stop at the first bad id). With one ref, returns its error as is. With
// several, prints each failure as "<ref>: <message>" and returns an error
// with the first failure's code and marks (so its exit code) that counts them.
absl::Status RunForEach(const std::vector<std::string>& refs,
                        const std::function<absl::Status(const std::string&)>& op);

// Makes `command`, once parsed, select `run` as the action to run.
void OnParsed(CLI::App* command, CommandContext* ctx, std::function<absl::Status()> run);

// Adds the help footer every command carries: "Examples:" and the lines.
void SetExamples(CLI::App* command, std::initializer_list<absl::string_view> examples);

// A check for counts and sizes: a whole number, 0 or more, refused in
// words ("-1" is not a whole number of 0 or more). CLI11's
// NonNegativeNumber would print its range up to the largest double: 309
// digits.
CLI::Validator NonNegative();

// ---------------------------------------------------------------------------
// Nouns.

void AddExpCommands(CLI::App* app, CommandContext* ctx);
void AddJobCommands(CLI::App* app, CommandContext* ctx);
// health, version, refresh, reconcile.
void AddSystemCommands(CLI::App* app, CommandContext* ctx);
// notify test (cli/notify.cc).
void AddNotifyCommands(CLI::App* app, CommandContext* ctx);
// schema import|apply|get|delete (cli/schema.cc).
void AddSchemaCommands(CLI::App* app, CommandContext* ctx);
// sweep (cli/sweep.cc).
void AddSweepCommands(CLI::App* app, CommandContext* ctx);
// template apply|get|list|delete (cli/template.cc).
void AddTemplateCommands(CLI::App* app, CommandContext* ctx);
// apply, diff (cli/apply.cc).
void AddApplyCommands(CLI::App* app, CommandContext* ctx);
// completion (cli/completion.cc): describes the whole tree when run.
void AddCompletionCommand(CLI::App* app, CommandContext* ctx);
// wait (cli/wait.cc).
void AddWaitCommand(CLI::App* app, CommandContext* ctx);
// backup (cli/backup.cc).
void AddBackupCommand(CLI::App* app, CommandContext* ctx);
void AddCostCommand(CLI::App* app, CommandContext* ctx);
// import --seed-db (cli/import.cc).
void AddImportCommand(CLI::App* app, CommandContext* ctx);
// __complete-flags (cli/complete_flags.cc): hidden, for the completion scripts.
void AddCompleteFlagsCommand(CLI::App* app, CommandContext* ctx);

}  // namespace skydeck::cli
