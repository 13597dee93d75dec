// File: cli/template.cc
//
// `skydeck template apply|get|list|delete`: task templates, SkyPilot task
// YAML stored in the daemon under a name (common/model/task_template.h). `apply
// -f task.yaml` takes a SkyPilot user's existing task file as it is, minus
// `run` and `num_nodes` (the experiment's); the name is --name, else the
// YAML's own `name:`, else the file's base name.
#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "cli/code_upload.h"
#include "cli/command.h"
#include "cli/views.h"
#include "cli/workload_args.h"
#include "common/code_manifest.h"
#include "common/model/task_template.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

absl::StatusOr<std::string> ReadTemplateFile(const std::string& file) {
  if (file == "-") return std::string(std::istreambuf_iterator<char>(std::cin), {});
  std::ifstream in(file);
  if (!in) return UsageError(absl::StrCat("cannot read ", file));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// "task" for "configs/task.yaml": a name for a template whose YAML has none.
std::string BaseName(const std::string& file) {
  if (file == "-") return "";
  return std::filesystem::path(file).stem().string();
}

// Whether the YAML names itself (`name:` at the top). The daemon checks
// the rest; YAML it cannot read is its to report, with the line.
bool HasOwnName(const std::string& yaml) {
  try {
    YAML::Node root = YAML::Load(yaml);
    const YAML::Node& view = root;
    return view.IsMap() && view["name"] && view["name"].IsScalar() &&
           !view["name"].Scalar().empty();
  } catch (const YAML::Exception&) {
    return true;  // send it as it is
  }
}

// Where a local file mount source is on this machine: "~" is $HOME, a
// relative path is relative to the current directory (as `sky launch`
// reads a task's file_mounts).
absl::StatusOr<std::string> LocalSourcePath(const std::string& source) {
  std::string path = source;
  if (path == "~" || path.rfind("~/", 0) == 0) {
    const char* home = std::getenv("HOME");
    if (home == nullptr || *home == '\0') {
      return UsageError(absl::StrCat("file_mounts source ", source, ": $HOME is not set"));
    }
    path = absl::StrCat(home, path.substr(1));
  }
  if (!path.empty() && path[0] == '/') {
    return std::filesystem::path(path).lexically_normal().string();
  }
  ASSIGN_OR_RETURN(std::string cwd, CurrentDirectory());
  return (std::filesystem::path(cwd) / path).lexically_normal().string();
}

// Uploads a snapshot of every local file mount source (when the daemon
// wants them) into the request.
absl::Status AttachMountSnapshots(CommandContext& ctx, const std::string& yaml,
                                  pb::TaskTemplate* t) {
  absl::StatusOr<TaskTemplate> parsed = ParseTaskTemplate(yaml);
  if (!parsed.ok() || parsed->local_sources.empty()) return absl::OkStatus();  // the daemon says
  CodeUploader uploader(ctx);
  for (const std::string& source : parsed->local_sources) {
    ASSIGN_OR_RETURN(std::string path, LocalSourcePath(source));
    ASSIGN_OR_RETURN(std::optional<pb::CodeSnapshot> s,
                     uploader.Upload(path, absl::StrCat("file_mounts source ", source)));
    if (!s) return absl::OkStatus();  // the daemon's backend reads no snapshots
    (*t->mutable_mount_snapshots())[source] = *s;
  }
  return absl::OkStatus();
}

std::string Mounts(const pb::TaskTemplate& t) {
  std::vector<std::string> out;
  for (const auto& [source, s] : t.mount_snapshots()) {
    out.push_back(absl::StrCat(source, " (", ShortSnapshotId(s.id()), ", ",
                               FormatBytes(s.size_bytes()), ")"));
  }
  std::sort(out.begin(), out.end());
  return absl::StrJoin(out, ", ");
}

std::string Accelerators(const pb::TaskTemplate& t) {
  return t.accelerators().empty() ? "-" : absl::StrJoin(t.accelerators(), ",");
}

void PrintTemplates(CommandContext& ctx, const std::vector<pb::TaskTemplate>& templates) {
  if (!ctx.human()) {
    ctx.WriteDocument(ListDocument("templates", templates, ctx.int64_encoding()));
    return;
  }
  if (templates.empty()) {
    std::fputs("No task templates.\n", stderr);
    return;
  }
  Table table({"NAME", "VERSION", "ACCELERATORS", "SECRETS", "UPDATED"});
  for (const pb::TaskTemplate& t : templates) {
    table.AddRow({t.name(), absl::StrCat(t.version()), Accelerators(t),
                  t.secrets().empty() ? "-" : absl::StrJoin(t.secrets(), ","),
                  FormatAge(MillisOf(t.create_time()), ctx.NowMillis())});
  }
  ctx.WriteTable(table.Render());
}

void PrintTemplate(CommandContext& ctx, const pb::TaskTemplate& t) {
  if (!ctx.human()) {
    ctx.WriteDocument(ProtoToJson(t, ctx.int64_encoding()));
    return;
  }
  ctx.Write(RenderKeyValues({
      {"Name", t.name()},
      {"Version", absl::StrCat(t.version())},
      {"Accelerators", t.accelerators().empty() ? "" : absl::StrJoin(t.accelerators(), ", ")},
      {"Secrets", absl::StrJoin(t.secrets(), ", ")},
      {"Local mounts", Mounts(t)},
      {"Applied by", t.actor()},
      {"Applied", FormatAge(MillisOf(t.create_time()), ctx.NowMillis())},
  }));
  ctx.Write(absl::StrCat("\n", t.yaml(), t.yaml().empty() || t.yaml().back() == '\n' ? "" : "\n"));
}

struct ApplyArgs {
  std::string file, name;
  bool dry_run = false;
};

absl::Status RunApply(CommandContext& ctx, const ApplyArgs& args) {
  ASSIGN_OR_RETURN(std::string yaml, ReadTemplateFile(args.file));
  pb::ApplyTaskTemplateRequest req;
  req.mutable_template_()->set_yaml(yaml);
  req.set_validate_only(args.dry_run);
  std::string name = args.name;
  if (name.empty() && !HasOwnName(yaml)) {
    name = BaseName(args.file);
    if (name.empty()) return UsageError("template apply -f -: the YAML has no name:; give --name");
  }
  req.mutable_template_()->set_name(name);
  RETURN_IF_ERROR(AttachMountSnapshots(ctx, yaml, req.mutable_template_()));
  pb::ApplyTaskTemplateResponse resp;
  RETURN_IF_ERROR(ctx.client().Call(&Stub::ApplyTaskTemplate, req, &resp));
  if (ctx.human()) {
    const pb::TaskTemplate& t = resp.template_();
    std::string what = !resp.changed() ? "unchanged"
                       : args.dry_run  ? absl::StrCat("would be version ", t.version())
                                       : absl::StrCat("version ", t.version());
    ctx.Write(absl::StrCat("task template ", t.name(), ": ", what, "\n"));
  } else {
    nlohmann::ordered_json doc = ProtoToJson(resp.template_(), ctx.int64_encoding());
    doc["changed"] = resp.changed();
    ctx.WriteDocument(doc);
  }
  return absl::OkStatus();
}

}  // namespace

void AddTemplateCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* noun = app->add_subcommand(
      "template", "Task templates: SkyPilot task YAML that experiments start from");
  noun->require_subcommand(1);
  SetExamples(noun,
              {
                  "skydeck template apply -f task.yaml        # your SkyPilot task, minus run and "
                  "num_nodes",
                  "skydeck template list",
                  "skydeck exp create big --cmd 'torchrun train.py' --template h100-train --gpus 8",
              });

  auto apply_args = std::make_shared<ApplyArgs>();
  CLI::App* apply = noun->add_subcommand(
      "apply", "Store a SkyPilot task YAML as a template (a new version when it changed)");
  apply->add_option("-f,--file", apply_args->file, "Task YAML; - for stdin")->required();
  apply->add_option("--name", apply_args->name,
                    "Template name (default: the YAML's name:, else the file's base name)");
  apply->add_flag("--dry-run", apply_args->dry_run, "Check it; store nothing");
  SetExamples(apply, {
                         "skydeck template apply -f h100-train.yaml",
                         "skydeck template apply -f task.yaml --name h100",
                         "skydeck exp create big --cmd 'torchrun train.py' --template h100 --start",
                     });
  apply->footer(std::string(apply->get_footer()) +
                "\n\nA template may hold any field of SkyPilot's task format SkyDeck knows: "
                "name, resources (accelerators, cpus, memory, disk_size, image_id, "
                "any_of/ordered, ports, infra, use_spot, ...), envs, secrets (names only: "
                "KEY: null), file_mounts (buckets, URLs, or local files and directories, "
                "uploaded as code snapshots: relative paths are relative to the current "
                "directory), volumes, workdir (a git {url, ref}), setup and config. run and "
                "num_nodes are the experiment's: "
                "remove them. Anything else is refused with its line.");
  OnParsed(apply, ctx, [ctx, apply_args] { return RunApply(*ctx, *apply_args); });

  struct GetArgs {
    std::string name;
    int64_t version = 0;
  };
  auto get_args = std::make_shared<GetArgs>();
  CLI::App* get = noun->add_subcommand("get", "Show a template (its YAML as applied)");
  get->add_option("NAME", get_args->name, "Template name")->required();
  get->add_option("--version", get_args->version, "An older version")->check(NonNegative());
  SetExamples(get, {"skydeck template get h100", "skydeck template get h100 --version 2 -o yaml"});
  OnParsed(get, ctx, [ctx, get_args]() -> absl::Status {
    pb::GetTaskTemplateRequest req;
    req.set_name(get_args->name);
    req.set_version(get_args->version);
    pb::GetTaskTemplateResponse resp;
    RETURN_IF_ERROR(ctx->client().Call(&Stub::GetTaskTemplate, req, &resp));
    PrintTemplate(*ctx, resp.template_());
    return absl::OkStatus();
  });

  CLI::App* list = noun->add_subcommand("list", "List templates (current versions)");
  list->alias("ls");
  SetExamples(list, {"skydeck template list", "skydeck template list -o json"});
  OnParsed(list, ctx, [ctx]() -> absl::Status {
    pb::ListTaskTemplatesResponse resp;
    RETURN_IF_ERROR(
        ctx->client().Call(&Stub::ListTaskTemplates, pb::ListTaskTemplatesRequest(), &resp));
    PrintTemplates(*ctx, {resp.templates().begin(), resp.templates().end()});
    return absl::OkStatus();
  });

  auto names = std::make_shared<std::vector<std::string>>();
  CLI::App* del = noun->add_subcommand(
      "delete", "Delete templates (refused while experiments name them; versions are kept)");
  del->alias("rm");
  del->add_option("NAME", *names, "Template names")->required();
  SetExamples(del, {"skydeck template delete h100"});
  OnParsed(del, ctx, [ctx, names]() -> absl::Status {
    return RunForEach(*names, [&](const std::string& name) -> absl::Status {
      pb::DeleteTaskTemplateRequest req;
      req.set_name(name);
      pb::DeleteTaskTemplateResponse resp;
      RETURN_IF_ERROR(ctx->client().Call(&Stub::DeleteTaskTemplate, req, &resp));
      if (ctx->human()) ctx->Write(absl::StrCat("task template ", name, " deleted\n"));
      return absl::OkStatus();
    });
  });
}

}  // namespace skydeck::cli
