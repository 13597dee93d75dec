// What `--server` should have been (cli/server_address.h).
#include "cli/server_address.h"

#include <catch2/catch.hpp>

using skydeck::cli::ServerAddressHint;

TEST_CASE("a URL, a missing port or the HTTP port say what to pass", "[cli][server]") {
  CHECK(ServerAddressHint("http://box:8000", "DNS resolution failed").find("is a URL") !=
        std::string::npos);
  CHECK(ServerAddressHint("HTTPS://box", "").find("127.0.0.1:50051") != std::string::npos);
  CHECK(ServerAddressHint("box", "failed to connect").find("has no port") != std::string::npos);
  CHECK(ServerAddressHint("[::1]", "").find("has no port") != std::string::npos);
  std::string http = ServerAddressHint("box:8000", "Trying to connect an http1.x server");
  CHECK(http.find("dashboard and HTTP API port") != std::string::npos);
  CHECK(http.find("--grpc-port") != std::string::npos);
}

TEST_CASE("a well-formed address gets no hint", "[cli][server]") {
  CHECK(ServerAddressHint("box:50051", "failed to connect to all addresses").empty());
  CHECK(ServerAddressHint("[::1]:50051", "Connection refused").empty());
  CHECK(ServerAddressHint("unix:/run/skydeck.sock", "No such file").empty());
}
