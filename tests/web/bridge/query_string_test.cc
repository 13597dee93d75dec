#include "web/bridge/query_string.h"

#include <catch2/catch.hpp>

namespace skydeck::web {
namespace {

TEST_CASE("query strings decode like browsers encode them", "[bridge]") {
  CHECK(ParseQueryString("label_selector=team%3Dml&x=a+b&flag") ==
        QueryParams{{"label_selector", "team=ml"}, {"x", "a b"}, {"flag", ""}});
  CHECK(ParseQueryString("") == QueryParams{});
  CHECK(ParseQueryString("&&a=1&") == QueryParams{{"a", "1"}});
  // Repeated parameters stay, in order (a repeated field takes them all).
  CHECK(ParseQueryString("ids=1&ids=2") == QueryParams{{"ids", "1"}, {"ids", "2"}});
  // "=" inside a value is the value's; "%2B" is a plus, "+" a space.
  CHECK(ParseQueryString("q=a=b%2Bc+d") == QueryParams{{"q", "a=b+c d"}});
}

TEST_CASE("a malformed escape is kept as written", "[bridge]") {
  CHECK(ParseQueryString("a=%zz&b=%4&c=100%") ==
        QueryParams{{"a", "%zz"}, {"b", "%4"}, {"c", "100%"}});
  CHECK(ParseQueryString("n=%00x") == QueryParams{{"n", std::string("\0x", 2)}});
}

}  // namespace
}  // namespace skydeck::web
