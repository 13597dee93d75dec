// File: cli/schema.cc
//
// `skydeck schema import|apply|get|delete`: declared flag schemas per base
// command (common/model/flag_schema.h). `import` converts a JSON Schema (as
// Pydantic emits it) on the client and applies the result; `apply` reads the
// native format (JSON or YAML).
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/yaml.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "cli/command.h"
#include "cli/views.h"
#include "common/model/flag_schema.h"
#include "common/model/json_schema_import.h"
#include "common/model/proto_convert.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

using Stub = pb::SkyDeck::Stub;

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

// YAML -> JSON with plain scalars typed the way flags are (4 -> int,
// 3e-4 -> float, true -> bool); quoted scalars stay strings.
nlohmann::json YamlToJson(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Map: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& kv : node) out[kv.first.as<std::string>()] = YamlToJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      nlohmann::json out = nlohmann::json::array();
      for (const auto& item : node) out.push_back(YamlToJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      if (node.Tag() == "!") return node.Scalar();  // quoted
      FlagValue v = ParseFlagValueText(node.Scalar());
      nlohmann::json out;
      std::visit([&](const auto& x) { out = x; }, v);
      return out;
    }
    default:
      return nullptr;
  }
}

// A JSON file, or YAML for other extensions (.yaml/.yml).
absl::StatusOr<nlohmann::json> ReadDocument(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFile(path));
  if (absl::EndsWith(path, ".yaml") || absl::EndsWith(path, ".yml")) {
    try {
      return YamlToJson(YAML::Load(text));
    } catch (const YAML::Exception& e) {
      return absl::InvalidArgumentError(absl::StrCat(path, ": ", e.what()));
    }
  }
  nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError(absl::StrCat(path, ": not JSON"));
  return doc;
}

std::string Bounds(const pb::FlagSchema& f) {
  if (!f.has_min() && !f.has_max()) return "";
  return absl::StrCat("[", f.has_min() ? FormatFlagValue(f.min()) : "", ", ",
                      f.has_max() ? FormatFlagValue(f.max()) : "", "]");
}

std::string TypeText(const pb::FlagSchema& f) {
  std::string name = pb::FlagSchema::Type_Name(f.type());
  name = absl::AsciiStrToLower(name.substr(5));  // TYPE_INT -> int
  if (f.type() == pb::FlagSchema::TYPE_CHOICE) {
    absl::StrAppend(&name, " {", absl::StrJoin(f.choices(), ","), "}");
  }
  return name;
}

// The schema for people: a preamble (command, version, strictness) and the
// flag table; with `rows_only` (--no-headers) only the table's rows, so
// `schema get --no-headers | cut -d' ' -f1` lists flag names.
std::string RenderSchema(const pb::CommandFlagSchema& s, bool rows_only) {
  std::string out = absl::StrCat(
      "Command: ", s.base_command(), "\n",
      s.inferred()
          ? "Inferred from existing experiments\n"
          : absl::StrCat("Version: ", s.version(), "\nStrict:  ", s.strict() ? "yes" : "no", "\n"));
  Table t({"FLAG", "TYPE", "DEFAULT", "RANGE", "REQUIRED", "DESCRIPTION"});
  for (const pb::FlagSchema& f : s.flags()) {
    std::string dflt;
    if (f.has_default_value()) {
      auto v = FromProto(f.default_value());
      if (v.ok()) dflt = FormatFlagValue(*v);
    }
    t.AddRow({f.name(), TypeText(f), dflt, Bounds(f), f.required() ? "yes" : "",
              OneLine(f.description())});
  }
  std::string table = t.Render();
  if (rows_only) return table.substr(table.find('\n') + 1);
  return absl::StrCat(out, table);
}

absl::Status ApplyAndPrint(CommandContext* ctx, const FlagSchema& schema,
                           const std::vector<std::string>& skipped) {
  pb::ApplyFlagSchemaRequest req;
  FlagSchemaToProto(schema, req.mutable_schema());
  pb::ApplyFlagSchemaResponse resp;
  RETURN_IF_ERROR(ctx->client().Call(&Stub::ApplyFlagSchema, req, &resp));
  if (ctx->human()) {
    std::string text = RenderSchema(resp.schema(), ctx->options().no_headers);
    for (const std::string& s : skipped) absl::StrAppend(&text, "skipped: ", s, "\n");
    ctx->Write(text);
  } else {
    nlohmann::ordered_json doc = ProtoToJson(resp.schema(), ctx->int64_encoding());
    if (!skipped.empty()) doc["skipped"] = skipped;
    ctx->WriteDocument(doc);
  }
  return absl::OkStatus();
}

void AddImport(CLI::App* parent, CommandContext* ctx) {
  struct Args {
    std::string command, file;
    bool strict = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd =
      parent->add_subcommand("import",
                             "Declare a command's flags from a JSON Schema (e.g. Pydantic's "
                             "model_json_schema()); prints what was imported and what was skipped");
  cmd->add_option("--cmd", args->command, "Base command the schema is for")->required();
  cmd->add_option("file", args->file, "JSON Schema file")->required();
  cmd->add_flag("--strict", args->strict, "Reject unknown flags (default: warn)");
  SetExamples(cmd, {"python -c 'import json, cfg; "
                    "print(json.dumps(cfg.Config.model_json_schema()))' > schema.json",
                    "skydeck schema import --cmd 'python train.py' schema.json --strict"});
  OnParsed(cmd, ctx, [ctx, args]() -> absl::Status {
    ASSIGN_OR_RETURN(std::string text, AsUsage(ReadFile(args->file)));
    nlohmann::json doc = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
    if (doc.is_discarded()) return UsageError(absl::StrCat(args->file, ": not JSON"));
    ASSIGN_OR_RETURN(JsonSchemaImport imported,
                     AsUsage(ImportJsonSchema(doc, args->command, args->strict)));
    return ApplyAndPrint(ctx, imported.schema, imported.skipped);
  });
}

void AddApply(CLI::App* parent, CommandContext* ctx) {
  auto file = std::make_shared<std::string>();
  CLI::App* cmd = parent->add_subcommand(
      "apply", "Declare (or replace) a command's flag schema from a JSON or YAML file");
  cmd->add_option("-f,--file", *file, "Schema file (.json, .yaml or .yml)")->required();
  SetExamples(cmd, {"skydeck schema apply -f train-flags.yaml"});
  OnParsed(cmd, ctx, [ctx, file]() -> absl::Status {
    ASSIGN_OR_RETURN(nlohmann::json doc, AsUsage(ReadDocument(*file)));
    ASSIGN_OR_RETURN(FlagSchema schema, AsUsage(FlagSchemaFromJson(doc)));
    return ApplyAndPrint(ctx, schema, {});
  });
}

void AddGet(CLI::App* parent, CommandContext* ctx) {
  auto command = std::make_shared<std::string>();
  auto version = std::make_shared<int64_t>(0);
  CLI::App* cmd = parent->add_subcommand(
      "get", "Show flag schemas: declared ones, else inferred from existing experiments");
  cmd->add_option("--cmd", *command, "Only this base command");
  cmd->add_option("--version", *version, "An older declared version (needs --cmd)");
  SetExamples(cmd, {"skydeck schema get", "skydeck schema get --cmd 'python train.py' -o yaml"});
  OnParsed(cmd, ctx, [ctx, command, version]() -> absl::Status {
    pb::ListFlagSchemasRequest req;
    req.set_base_command(*command);
    req.set_version(*version);
    pb::ListFlagSchemasResponse resp;
    RETURN_IF_ERROR(ctx->client().Call(&Stub::ListFlagSchemas, req, &resp));
    if (!ctx->human()) {
      ctx->WriteDocument(ProtoToJson(resp, ctx->int64_encoding()));
      return absl::OkStatus();
    }
    bool rows_only = ctx->options().no_headers;
    std::vector<std::string> blocks;
    for (const auto& s : resp.schemas()) blocks.push_back(RenderSchema(s, rows_only));
    ctx->Write(absl::StrJoin(blocks, rows_only ? "" : "\n"));
    return absl::OkStatus();
  });
}

void AddDelete(CLI::App* parent, CommandContext* ctx) {
  auto command = std::make_shared<std::string>();
  CLI::App* cmd = parent->add_subcommand(
      "delete", "Remove a command's declared flag schema (validation stops)");
  cmd->add_option("--cmd", *command, "Base command")->required();
  SetExamples(cmd, {"skydeck schema delete --cmd 'python train.py'"});
  OnParsed(cmd, ctx, [ctx, command]() -> absl::Status {
    pb::DeleteFlagSchemaRequest req;
    req.set_base_command(*command);
    pb::DeleteFlagSchemaResponse resp;
    RETURN_IF_ERROR(ctx->client().Call(&Stub::DeleteFlagSchema, req, &resp));
    if (ctx->human()) {
      ctx->Write(
          absl::StrCat("deleted flag schema for ", *command, " (version ", resp.version(), ")\n"));
    } else {
      ctx->WriteDocument(ProtoToJson(resp, ctx->int64_encoding()));
    }
    return absl::OkStatus();
  });
}

}  // namespace

void AddSchemaCommands(CLI::App* app, CommandContext* ctx) {
  CLI::App* schema = app->add_subcommand("schema", "Typed flag schemas per base command");
  schema->require_subcommand(1);
  AddImport(schema, ctx);
  AddApply(schema, ctx);
  AddGet(schema, ctx);
  AddDelete(schema, ctx);
  SetExamples(schema, {
                          "skydeck schema import --cmd 'python train.py' schema.json --strict",
                          "skydeck schema get --cmd 'python train.py'",
                          "skydeck schema apply -f train-flags.yaml",
                      });
}

}  // namespace skydeck::cli
