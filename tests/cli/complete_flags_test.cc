// What flag completion makes of the words typed so far and of the flag
// schemas (cli/complete_flags.h).
#include "cli/complete_flags.h"

#include <catch2/catch.hpp>

using namespace skydeck::cli;

TEST_CASE("typed words are unquoted as the shell would", "[cli][complete]") {
  CHECK(ShellUnquote("'python train.py'") == "python train.py");
  CHECK(ShellUnquote("\"python  train.py\"") == "python  train.py");
  CHECK(ShellUnquote("python\\ train.py") == "python train.py");
  CHECK(ShellUnquote("\"a \\\"b\\\" \\x\"") == "a \"b\" \\x");
  CHECK(ShellUnquote("'it'\\''s'") == "it's");
  CHECK(ShellUnquote("'$HOME'") == "$HOME");
  CHECK(ShellUnquote("'unterminated") == "unterminated");
}

TEST_CASE("the words say which schema to complete from", "[cli][complete]") {
  auto c = FindFlagCompletionContext(
      {"exp", "create", "a", "--cmd", "'python train.py'", "--flag", "trainer.lr", "="});
  CHECK(c.base_command == "python train.py");
  CHECK(c.experiment.empty());
  // bash splits --cmd=X at '='.
  CHECK(FindFlagCompletionContext({"sweep", "s", "--cmd", "=", "\"python x.py\"", "--grid"})
            .base_command == "python x.py");
  CHECK(FindFlagCompletionContext({"sweep", "s", "--cmd=./run.sh"}).base_command == "./run.sh");
  CHECK(FindFlagCompletionContext({"sweep", "s", "--grid"}).base_command.empty());

  auto set = FindFlagCompletionContext({"exp", "flags", "lr-a", "set", "model.layers=4"});
  CHECK(set.experiment == "lr-a");
  CHECK_FALSE(set.keys_only);
  auto unset = FindFlagCompletionContext({"-o", "json", "experiment", "flags", "7", "unset"});
  CHECK(unset.experiment == "7");
  CHECK(unset.keys_only);
  CHECK(FindFlagCompletionContext({"exp", "flags", "lr-a"}).experiment.empty());
}

TEST_CASE("candidates are names, choices, bools and seen values", "[cli][complete]") {
  skydeck::v1::ListFlagSchemasResponse resp;
  auto* declared = resp.add_schemas();
  auto* optim = declared->add_flags();
  optim->set_name("trainer.optim");
  optim->set_type(skydeck::v1::FlagSchema::TYPE_CHOICE);
  optim->add_choices("adam");
  optim->add_choices("sgd");
  auto* debug = declared->add_flags();
  debug->set_name("debug");
  debug->set_type(skydeck::v1::FlagSchema::TYPE_BOOL);
  auto* inferred = resp.add_schemas();
  inferred->set_inferred(true);
  auto* layers = inferred->add_flags();
  layers->set_name("model.layers");
  layers->set_type(skydeck::v1::FlagSchema::TYPE_INT);
  layers->add_seen_values()->set_int_value(4);
  layers->add_seen_values()->set_int_value(16);
  auto* again = inferred->add_flags();  // the same flag in another schema
  again->set_name("debug");
  again->set_type(skydeck::v1::FlagSchema::TYPE_BOOL);

  CHECK(FlagCandidates(resp) ==
        std::vector<std::string>{"debug=", "debug=false", "debug=true",
                                 "model.layers=", "model.layers=16", "model.layers=4",
                                 "trainer.optim=", "trainer.optim=adam", "trainer.optim=sgd"});
  CHECK(FlagCandidates({}).empty());
}
