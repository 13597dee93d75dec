#include "common/experiment_search.h"

#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "nlohmann/json.hpp"

namespace skydeck {
namespace {

// The cases the dashboard's search box is tested against too
// (web/ui/src/logic/grouping.test.ts): both sides must agree.
nlohmann::json SearchCases() {
  std::ifstream in(SKYDECK_SOURCE_DIR "/web/ui/src/logic/searchCases.json");
  REQUIRE(in.good());
  std::stringstream text;
  text << in.rdbuf();
  return nlohmann::json::parse(text.str());
}

// A FlagValue from its proto JSON form ({"double_value": 0.1}, {"int_value": "4"}, ...).
FlagValue FlagFromProtoJson(const nlohmann::json& v) {
  if (v.contains("double_value")) return v["double_value"].get<double>();
  if (v.contains("int_value")) return static_cast<int64_t>(std::stoll(v["int_value"].get<std::string>()));
  if (v.contains("bool_value")) return v["bool_value"].get<bool>();
  return v["string_value"].get<std::string>();
}

struct Stored {
  int64_t id;
  std::string name, description, base_command;
  std::map<std::string, std::string> labels;
  FlagMap flags;
};

TEST_CASE("search words split on ASCII white space and lower ASCII letters only", "[search]") {
  CHECK(SearchWords("  LR=0.1\tSweep \n") == std::vector<std::string>{"lr=0.1", "sweep"});
  CHECK(SearchWords("").empty());
  CHECK(SearchWords("CAF\xc3\x89") == std::vector<std::string>{"caf\xc3\x89"});
  CHECK(SearchWords("a\xc2\xa0" "b") == std::vector<std::string>{"a\xc2\xa0" "b"});
}

TEST_CASE("the daemon's search matches what the dashboard's does", "[search]") {
  nlohmann::json cases = SearchCases();
  std::vector<Stored> experiments;
  for (const auto& e : cases["experiments"]) {
    Stored s{std::stoll(e["id"].get<std::string>()), e["name"], e["description"],
             e["base_command"], {}, {}};
    for (const auto& [k, v] : e["labels"].items()) s.labels[k] = v.get<std::string>();
    for (const auto& [k, v] : e["flags"].items()) s.flags[k] = FlagFromProtoJson(v);
    experiments.push_back(std::move(s));
  }
  for (const auto& c : cases["cases"]) {
    std::string search = c["search"];
    std::vector<std::string> want;
    for (const auto& id : c["matches"]) want.push_back(id.get<std::string>());
    std::vector<std::string> got;
    for (const Stored& s : experiments) {
      if (MatchesSearch(SearchWords(search),
                        {s.id, s.name, s.description, s.base_command, &s.labels, &s.flags})) {
        got.push_back(std::to_string(s.id));
      }
    }
    INFO("search: " << search);
    CHECK(got == want);
  }
}

}  // namespace
}  // namespace skydeck
