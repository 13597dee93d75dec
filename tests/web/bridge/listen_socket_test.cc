#include "web/bridge/listen_socket.h"

#include <unistd.h>

#include <catch2/catch.hpp>
#include <sys/socket.h>

namespace skydeck::web {
namespace {

TEST_CASE("port 0 binds a free port, without SO_REUSEPORT", "[bridge][listen]") {
  auto s = OpenListenSocket("127.0.0.1", 0, 16);
  REQUIRE(s.ok());
  CHECK(s->port > 0);
  CHECK_FALSE(s->ipv6);
  int reuse_port = -1;
  socklen_t len = sizeof(reuse_port);
  REQUIRE(getsockopt(s->fd, SOL_SOCKET, SO_REUSEPORT, &reuse_port, &len) == 0);
  CHECK(reuse_port == 0);
  close(s->fd);
}

// Before, the HTTP edge set SO_REUSEPORT and a second daemon on the same
// port started "fine", splitting requests between two databases.
TEST_CASE("a busy port is refused with a message that says so", "[bridge][listen]") {
  auto first = OpenListenSocket("127.0.0.1", 0, 16);
  REQUIRE(first.ok());
  auto second = OpenListenSocket("127.0.0.1", first->port, 16);
  REQUIRE_FALSE(second.ok());
  CHECK(absl::IsUnavailable(second.status()));
  CHECK_THAT(std::string(second.status().message()),
             Catch::Contains("127.0.0.1:" + std::to_string(first->port)) &&
                 Catch::Contains("in use by another process"));
  close(first->fd);
  // Free again once closed (SO_REUSEADDR: no wait for TIME_WAIT).
  auto again = OpenListenSocket("127.0.0.1", first->port, 16);
  REQUIRE(again.ok());
  close(again->fd);
}

TEST_CASE("IPv6 loopback and host names bind", "[bridge][listen]") {
  auto v6 = OpenListenSocket("::1", 0, 16);
  if (v6.ok()) {  // a host without IPv6 has no ::1
    CHECK(v6->ipv6);
    close(v6->fd);
  }
  auto name = OpenListenSocket("localhost", 0, 16);
  REQUIRE(name.ok());
  close(name->fd);
  auto bad = OpenListenSocket("no-such-host.invalid", 0, 16);
  CHECK(absl::IsInvalidArgument(bad.status()));
}

}  // namespace
}  // namespace skydeck::web
