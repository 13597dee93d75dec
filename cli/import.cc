// File: cli/import.cc
//
// `skydeck import --seed-db FILE`: brings the experiments and job history
// of the earlier SkyDeck dashboard's database (seed_import.h) into the
// daemon, in one ImportExperiments call. The file is only read.
#include <memory>
#include <string>

#include "absl/strings/str_cat.h"

#include "cli/command.h"
#include "cli/seed_import.h"
#include "common/status_macros.h"

namespace skydeck::cli {

void AddImportCommand(CLI::App* app, CommandContext* ctx) {
  struct Args {
    std::string seed_db;
    bool keep_running = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app->add_subcommand(
      "import",
      "Import the experiments (flags, desired state, groups and tags as labels) and job "
      "history of the earlier SkyDeck dashboard's database. Names that exist are skipped, so "
      "running it again adds nothing");
  cmd->add_option("--seed-db", args->seed_db, "The earlier dashboard's SQLite file (only read)")
      ->required();
  cmd->add_flag("--keep-running", args->keep_running,
                "Import desired state RUNNING as RUNNING (launches at once); by default such "
                "experiments are imported STOPPED with label seed-desired=RUNNING");
  SetExamples(cmd, {"skydeck import --seed-db ~/.skydeck/skydeck.db",
                    "skydeck exp start -l seed-desired=RUNNING"});
  OnParsed(cmd, ctx, [ctx, args]() -> absl::Status {
    auto seed = ReadSeedDatabase(args->seed_db, args->keep_running);
    if (!seed.ok()) return AsUsageError(seed.status());
    pb::ImportExperimentsResponse resp;
    RETURN_IF_ERROR(
        ctx->client().Call(&pb::SkyDeck::Stub::ImportExperiments, seed->request, &resp));
    int imported = 0, refused = 0;
    nlohmann::ordered_json results = nlohmann::ordered_json::array();
    for (const auto& r : resp.results()) {
      imported += r.outcome() == "imported";
      refused += r.outcome() == "refused";
      if (ctx->human()) {
        std::string line = absl::StrCat(r.name(), ": ", r.outcome());
        if (r.outcome() == "imported") absl::StrAppend(&line, " (", r.jobs(), " jobs)");
        if (!r.error().empty()) absl::StrAppend(&line, ": ", r.error());
        ctx->Write(line + "\n");
      } else {
        results.push_back({{"name", r.name()},
                           {"id", r.id()},
                           {"outcome", r.outcome()},
                           {"jobs", r.jobs()},
                           {"error", r.error()}});
      }
    }
    if (ctx->human()) {
      ctx->Write(absl::StrCat(
          "imported ", imported, " of ", resp.results_size(), " experiments from ", args->seed_db,
          seed->skipped_deleted ? absl::StrCat(" (", seed->skipped_deleted, " deleted left out)")
                                : "",
          "\n"));
    } else {
      ctx->WriteDocument(results);
    }
    if (refused > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(refused, " experiments were refused (see above)"));
    }
    return absl::OkStatus();
  });
}

}  // namespace skydeck::cli
