// cli/manifest.h: parsing manifests, diffing them against the daemon's
// experiment, and the round trip through `exp get -o yaml`.
#include "cli/manifest.h"

#include <catch2/catch.hpp>

#include "cli/output.h"
#include "cli/views.h"

using namespace skydeck::cli;
using skydeck::FlagMap;

TEST_CASE("manifests type flags like --flag; quoted scalars stay strings", "[cli][manifest]") {
  auto docs = ParseManifests(
      "name: a\nbase_command: python t.py\nflags:\n  lr: 3e-4\n  layers: 4\n  on: true\n"
      "  tag: \"42\"\n  opt: adam\nnodes: 2\nspot: true\nlabels:\n  sweep: s\n"
      "desired_state: running\n---\n---\nname: b\nbase_command: x\n");
  REQUIRE(docs.ok());
  REQUIRE(docs->size() == 2);
  const Manifest& a = (*docs)[0];
  CHECK(FlagsOf(a.spec.flags()) == FlagMap{{"lr", 3e-4},
                                           {"layers", int64_t{4}},
                                           {"on", true},
                                           {"tag", std::string("42")},
                                           {"opt", std::string("adam")}});
  CHECK(a.spec.nodes() == 2);
  CHECK(a.spec.spot());
  CHECK(a.spec.labels().at("sweep") == "s");
  CHECK(a.spec.desired_state() == pb::DESIRED_STATE_RUNNING);
  CHECK(a.fields.count("gpus") == 0);
  CHECK((*docs)[1].spec.name() == "b");
  CHECK((*docs)[1].line == 16);
}

TEST_CASE("manifest errors name the line", "[cli][manifest]") {
  auto unknown = ParseManifests("name: a\nbase_command: x\ncolour: red\n");
  REQUIRE(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(unknown.status().message().find("line 3") != std::string::npos);
  CHECK(unknown.status().message().find("colour") != std::string::npos);
  auto typed = ParseManifests("name: a\nnodes: many\n");
  CHECK(typed.status().message().find("line 2: nodes") != std::string::npos);
  CHECK(!ParseManifests("base_command: x\n").ok());
  CHECK(!ParseManifests("name: a\n---\nname: a\n").ok());
  CHECK(!ParseManifests("- a\n").ok());
  CHECK(!ParseManifests("name: [\n").ok());
  CHECK(!ParseManifests("name: a\ndesired_state: PAUSED\n").ok());
}

TEST_CASE("diffs cover only the fields given", "[cli][manifest]") {
  pb::Experiment have;
  have.set_name("a");
  have.set_base_command("python t.py");
  have.set_nodes(1);
  (*have.mutable_labels())["sweep"] = "s";
  (*have.mutable_flags())["lr"].set_double_value(1e-4);
  have.set_desired_state(pb::DESIRED_STATE_STOPPED);

  auto same = ParseManifests("name: a\nbase_command: python t.py\nnodes: 0\n");
  REQUIRE(same.ok());
  CHECK(DiffManifest((*same)[0], have).empty());

  auto changed = ParseManifests(
      "name: a\nflags:\n  lr: 3e-4\n  layers: 4\nlabels: {}\ndesired_state: RUNNING\n");
  REQUIRE(changed.ok());
  auto diff = DiffManifest((*changed)[0], have);
  REQUIRE(diff.size() == 4);
  CHECK(diff[0].field == "flags.layers");
  CHECK(diff[0].from == "<none>");
  CHECK(diff[0].to == "4");
  CHECK(diff[1].field == "flags.lr");
  CHECK(diff[1].from == "0.0001");
  CHECK(diff[1].mask_path == "flags");
  CHECK(diff[2].field == "labels.sweep");
  CHECK(diff[2].to == "<none>");
  CHECK(diff[3].field == "desired_state");
  CHECK(diff[3].to == "RUNNING");
}

TEST_CASE("exp get -o yaml reads back as the same spec", "[cli][manifest]") {
  pb::Experiment e;
  e.set_id(42);
  e.set_generation(7);
  e.set_name("a");
  e.set_base_command("python t.py");
  e.set_nodes(2);
  e.set_gpus(8);
  e.set_spot(true);
  e.set_max_restarts(0);
  (*e.mutable_flags())["lr"].set_double_value(3e-4);
  (*e.mutable_flags())["width"].set_double_value(4.0);
  (*e.mutable_flags())["tag"].set_string_value("42");
  (*e.mutable_flags())["yes"].set_string_value("true");
  (*e.mutable_flags())["n"].set_int_value(3);
  (*e.mutable_labels())["sweep"] = "s";
  e.set_desired_state(pb::DESIRED_STATE_RUNNING);
  std::string yaml = RenderYaml(ManifestOf(e));
  CHECK(yaml.find("generation") == std::string::npos);
  CHECK(yaml.find("id:") == std::string::npos);
  auto back = ParseManifests(yaml);
  REQUIRE(back.ok());
  REQUIRE(back->size() == 1);
  CHECK(DiffManifest((*back)[0], e).empty());
  CHECK(FlagsOf((*back)[0].spec.flags()) == FlagsOf(e.flags()));
  CHECK((*back)[0].spec.has_max_restarts());
}

TEST_CASE("manifests carry template, envs, secrets and workdir", "[cli][manifest]") {
  auto docs = ParseManifests(
      "name: a\nbase_command: x\ntemplate: h100\nenvs:\n  WANDB_PROJECT: llm\n  N: 4\n"
      "secrets: [WANDB_API_KEY, HF_TOKEN]\nworkdir: ../code\n---\nname: b\ntemplate:\n");
  REQUIRE(docs.ok());
  const pb::Experiment& a = (*docs)[0].spec;
  CHECK(a.template_() == "h100");
  CHECK(a.envs().at("N") == "4");
  REQUIRE(a.secrets_size() == 2);
  CHECK(a.secrets(1) == "HF_TOKEN");
  CHECK(a.workdir() == "../code");         // the caller resolves it
  CHECK((*docs)[1].spec.has_template_());  // `template:` means none
  CHECK((*docs)[1].spec.template_().empty());
  CHECK(ParseManifests("name: a\nsecrets: WANDB_API_KEY\n")
            .status()
            .message()
            .find("line 2: secrets: must be a list") != std::string::npos);

  pb::Experiment have = a;
  (*have.mutable_envs())["N"] = "8";
  have.clear_secrets();
  have.set_template_("a100");
  std::vector<FieldChange> changes = DiffManifest((*docs)[0], have);
  std::vector<std::string> fields;
  for (const FieldChange& c : changes) fields.push_back(c.field + ":" + c.from + "->" + c.to);
  CHECK(fields == std::vector<std::string>{"template:a100->h100", "envs.N:8->4",
                                           "secrets:<none>->WANDB_API_KEY,HF_TOKEN"});

  // exp get -o yaml reads back through apply.
  pb::Experiment stored = a;  // as the daemon answers: every field set
  stored.set_nodes(1);
  stored.set_desired_state(pb::DESIRED_STATE_STOPPED);
  auto back = ParseManifests(RenderYaml(ManifestOf(stored)));
  REQUIRE(back.ok());
  CHECK(DiffManifest((*back)[0], stored).empty());
  CHECK((*back)[0].fields.count("workdir") == 1);
}
