#include "common/model/experiment_search.h"

#include <catch2/catch.hpp>

#include "nlohmann/json.hpp"

#include "common/golden.h"

namespace skydeck {
namespace {

// The cases the dashboard's search box is tested against too
// (web/ui/src/logic/grouping.test.ts): both sides must agree.
nlohmann::json SearchCases() { return ReadGolden("search.json"); }

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
  CHECK(SearchWords("a\xc2\xa0"
                    "b") == std::vector<std::string>{"a\xc2\xa0"
                                                     "b"});
}

TEST_CASE("the daemon's search matches what the dashboard's does", "[search]") {
  nlohmann::json cases = SearchCases();
  std::vector<Stored> experiments;
  for (const auto& e : cases["experiments"]) {
    Stored s{std::stoll(e["id"].get<std::string>()),
             e["name"],
             e["description"],
             e["base_command"],
             {},
             {}};
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
