#include "daemon/notify/url_redaction.h"

#include <catch2/catch.hpp>

namespace skydeck::notify {
namespace {

TEST_CASE("a webhook URL shows only its scheme, host and port", "[notify]") {
  CHECK(RedactUrl("https://hooks.slack.com/services/T0/B0/SECRET") == "https://hooks.slack.com/…");
  CHECK(RedactUrl("http://127.0.0.1:8080") == "http://127.0.0.1:8080/");
  CHECK(RedactUrl("http://127.0.0.1:8080/") == "http://127.0.0.1:8080/");
  CHECK(RedactUrl("https://example.com?token=SECRET") == "https://example.com/…");
  CHECK(RedactUrl("https://user:SECRET@example.com/x") == "https://example.com/…");
  CHECK(RedactUrl("HTTPS://Example.com/x") == "https://Example.com/…");
  CHECK(RedactUrl("example.com/SECRET") == "<invalid URL>");
  CHECK(RedactUrl("") == "<invalid URL>");
}

TEST_CASE("a webhook URL splits for the HTTP client", "[notify]") {
  auto t = SplitWebhookUrl("https://hooks.slack.com/services/T0/B0/X?a=1#frag");
  REQUIRE(t.ok());
  CHECK(t->scheme_host_port == "https://hooks.slack.com");
  CHECK(t->path_and_query == "/services/T0/B0/X?a=1");
  t = SplitWebhookUrl("http://127.0.0.1:9000");
  REQUIRE(t.ok());
  CHECK(t->path_and_query == "/");
  t = SplitWebhookUrl("http://127.0.0.1:9000?k=v");
  REQUIRE(t.ok());
  CHECK(t->path_and_query == "/?k=v");
  CHECK(SplitWebhookUrl("ftp://x/").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(SplitWebhookUrl("http:///x").status().code() == absl::StatusCode::kInvalidArgument);
  CHECK(SplitWebhookUrl("http://u:p@x/").status().code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a message quoting the URL is redacted", "[notify]") {
  std::string url = "https://hooks.example/T0/SECRET?token=S2";
  CHECK(RedactIn("POST https://hooks.example/T0/SECRET?token=S2 failed", url) ==
        "POST https://hooks.example/… failed");
  CHECK(RedactIn("GET /T0/SECRET?token=S2 -> 404", url) == "GET /… -> 404");
  CHECK(RedactIn("nothing here", url) == "nothing here");
}

}  // namespace
}  // namespace skydeck::notify
