#include "web/bridge/request_origin.h"

#include <catch2/catch.hpp>

namespace skydeck::web {
namespace {

TEST_CASE("without a token only loopback Host headers are served", "[bridge][origin]") {
  OriginPolicy open{};
  for (const char* host : {"127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost", ""}) {
    INFO(host);
    CHECK(CheckRequestOrigin(open, "POST", host, "").ok());
  }
  for (const char* host : {"attacker.example:8000", "127.evil.example:8000", "10.0.0.2:8000",
                           "localhost.attacker.example"}) {
    INFO(host);
    absl::Status s = CheckRequestOrigin(open, "GET", host, "");
    CHECK(s.code() == absl::StatusCode::kPermissionDenied);
    CHECK_THAT(std::string(s.message()), Catch::Contains("DNS rebinding"));
  }
  OriginPolicy proxied{false, {"skydeck.internal"}};
  CHECK(CheckRequestOrigin(proxied, "GET", "SkyDeck.Internal:443", "").ok());
  CHECK_FALSE(CheckRequestOrigin(proxied, "GET", "other.internal", "").ok());
}

TEST_CASE("with a token any Host is served", "[bridge][origin]") {
  OriginPolicy guarded{true, {}};
  CHECK(CheckRequestOrigin(guarded, "POST", "gpu-box.lab:8000", "").ok());
  CHECK(CheckRequestOrigin(guarded, "POST", "gpu-box.lab:8000", "http://gpu-box.lab:8000").ok());
}

TEST_CASE("state-changing requests must come from the server's own origin", "[bridge][origin]") {
  OriginPolicy open{};
  CHECK(CheckRequestOrigin(open, "POST", "127.0.0.1:8000", "http://127.0.0.1:8000").ok());
  CHECK(CheckRequestOrigin(open, "DELETE", "localhost:8000", "http://LOCALHOST:8000").ok());
  for (const char* origin : {"http://attacker.example", "http://127.0.0.1:9999", "null",
                             "http://localhost:8000.attacker.example"}) {
    INFO(origin);
    CHECK(CheckRequestOrigin(open, "POST", "127.0.0.1:8000", origin).code() ==
          absl::StatusCode::kPermissionDenied);
    CHECK(CheckRequestOrigin(OriginPolicy{true, {}}, "PUT", "127.0.0.1:8000", origin).code() ==
          absl::StatusCode::kPermissionDenied);
  }
  // Reads may come from anywhere the browser allows (no CORS headers are sent).
  CHECK(CheckRequestOrigin(open, "GET", "127.0.0.1:8000", "http://attacker.example").ok());
}

}  // namespace
}  // namespace skydeck::web
