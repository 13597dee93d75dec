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
  std::string observed_state;
  int64_t state_since_ms = 0;
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
  int64_t now_ms = cases["now_ms"];
  std::vector<Stored> experiments;
  for (const auto& e : cases["experiments"]) {
    Stored s{std::stoll(e["id"].get<std::string>()),
             e["name"],
             e["description"],
             e["base_command"],
             {},
             {},
             e["observed_state"],
             e["state_since_ms"]};
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
      if (MatchesSearch(SearchWords(search), {s.id, s.name, s.description, s.base_command,
                                              &s.labels, &s.flags, s.observed_state,
                                              s.state_since_ms, now_ms})) {
        got.push_back(std::to_string(s.id));
      }
    }
    INFO("search: " << search);
    CHECK(got == want);
  }
}

TEST_CASE("time-in-state words parse as STATE>DURATION or STATE<DURATION", "[search]") {
  std::optional<StateAge> age = ParseStateAge("Running>1h30m");
  REQUIRE(age);
  CHECK(age->state == "running");
  CHECK(age->longer);
  CHECK(age->ms == 5400000);
  age = ParseStateAge("pending<2d");
  REQUIRE(age);
  CHECK_FALSE(age->longer);
  CHECK(age->ms == 2 * 86400000LL);
  CHECK(ParseStateAge("pending>45s")->ms == 45000);
  for (const char* bad : {"running", ">2d", "running>", "running>2", "running>d", "run ning>2d",
                          "running>2w", "running>1d-1h", "running>>2d", "running>1234567890s",
                          "r1>2d"}) {
    INFO(bad);
    CHECK_FALSE(ParseStateAge(bad));
  }
}

TEST_CASE("a time-in-state word compares the time in state with the duration", "[search]") {
  StateAge age{"running", true, 60000};
  CHECK(MatchesStateAge(age, "RUNNING", 1000, 1000 + 60001));
  CHECK_FALSE(MatchesStateAge(age, "RUNNING", 1000, 1000 + 60000));  // not longer
  CHECK_FALSE(MatchesStateAge(age, "PENDING", 1000, 1000 + 600000));
  CHECK_FALSE(MatchesStateAge(age, "RUNNING", 0, 600000));  // unknown since
  age.longer = false;
  CHECK(MatchesStateAge(age, "running", 1000, 1000 + 59999));
  CHECK_FALSE(MatchesStateAge(age, "running", 1000, 1000 + 60000));
}

}  // namespace
}  // namespace skydeck
