#include "common/model/label_selector.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

bool Match(absl::string_view selector, const std::map<std::string, std::string>& labels) {
  auto s = LabelSelector::Parse(selector);
  REQUIRE(s.ok());
  return s->Matches(labels);
}

TEST_CASE("selectors support equality and set and existence requirements", "[selector]") {
  std::map<std::string, std::string> labels{{"sweep", "lr"}, {"size", "m"}};
  CHECK(Match("", labels));
  CHECK(Match("sweep=lr", labels));
  CHECK(Match("sweep==lr", labels));
  CHECK_FALSE(Match("sweep=x", labels));
  CHECK(Match("sweep!=x", labels));
  CHECK(Match("team!=infra", labels));
  CHECK(Match("size in (s, m)", labels));
  CHECK_FALSE(Match("size notin (m,l)", labels));
  CHECK(Match("size", labels));
  CHECK(Match("!draft", labels));
  CHECK_FALSE(Match("!size", labels));
  CHECK(Match("sweep=lr,size in (s,m),!draft", labels));
  CHECK_FALSE(Match("sweep=lr,size in (s,l)", labels));
}

TEST_CASE("malformed selectors are INVALID_ARGUMENT", "[selector]") {
  for (const char* bad : {"a in (x", "a in x", "a in ()", ",", "a b=c", "=x", "a,,b"}) {
    INFO(bad);
    CHECK(absl::IsInvalidArgument(LabelSelector::Parse(bad).status()));
  }
}

TEST_CASE("huge selectors are refused with short messages", "[selector]") {
  std::string huge(kMaxSelectorBytes + 1, 'a');
  auto s = LabelSelector::Parse(huge);
  CHECK(absl::IsInvalidArgument(s.status()));
  CHECK_THAT(std::string(s.status().message()), Catch::Contains("at most 4096 bytes"));
  // A bad selector just under the limit is echoed truncated, never whole.
  std::string bad = std::string(4000, 'k') + " x=y";
  s = LabelSelector::Parse(bad);
  REQUIRE(absl::IsInvalidArgument(s.status()));
  CHECK(s.status().message().size() < 300);
  CHECK(absl::IsInvalidArgument(LabelSelector::Parse("a in (x\n").status()));
  CHECK(LabelSelector::Parse("a in (x\n").status().message().find('\n') == std::string::npos);
}

}  // namespace
}  // namespace skydeck
