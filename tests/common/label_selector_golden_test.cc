// Label selectors against the golden table the dashboard's filter box is
// tested against too (tests/golden/label_selector.json;
// web/ui/src/logic/labelSelector.test.ts).
#include <map>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "nlohmann/json.hpp"

#include "common/golden.h"
#include "common/model/label_selector.h"

namespace skydeck {
namespace {

TEST_CASE("golden: label selectors match as the table says", "[label_selector][golden]") {
  const nlohmann::json table = ReadGolden("label_selector.json");
  auto label_sets =
      table.at("labels").get<std::map<std::string, std::map<std::string, std::string>>>();
  REQUIRE_FALSE(table.at("cases").empty());
  for (const nlohmann::json& c : table.at("cases")) {
    std::string text = c["selector"].get<std::string>();
    INFO("selector: \"" << text << "\"");
    auto selector = LabelSelector::Parse(text);
    if (c.value("error", false)) {
      CHECK_FALSE(selector.ok());
      continue;
    }
    REQUIRE(selector.ok());
    std::vector<std::string> matched;
    for (const auto& [name, labels] : label_sets) {
      if (selector->Matches(labels)) matched.push_back(name);
    }
    CHECK(matched == c["matches"].get<std::vector<std::string>>());
  }
}

}  // namespace
}  // namespace skydeck
