#include "common/loopback.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

TEST_CASE("only literal loopback addresses and localhost are loopback", "[common][loopback]") {
  for (const char* yes :
       {"localhost", "LOCALHOST", "127.0.0.1", "127.1.2.3", "::1", "[::1]", "0:0:0:0:0:0:0:1"}) {
    INFO(yes);
    CHECK(IsLoopbackHost(yes));
  }
  for (const char* no :
       {"", "0.0.0.0", "::", "10.0.0.1", "128.0.0.1", "127.evil.example", "127.0.0.1.nip.io",
        "localhost.evil.example", "evil-localhost", "[::2]", "::ffff:10.0.0.1", "127.0.0.1:80"}) {
    INFO(no);
    CHECK_FALSE(IsLoopbackHost(no));
  }
}

TEST_CASE("the host of an authority drops the port and brackets", "[common][loopback]") {
  CHECK(HostOfAuthority("localhost:8000") == "localhost");
  CHECK(HostOfAuthority("Example.COM") == "example.com");
  CHECK(HostOfAuthority("[::1]:8000") == "::1");
  CHECK(HostOfAuthority("[::1]") == "::1");
  CHECK(HostOfAuthority("::1") == "::1");
  CHECK(HostOfAuthority("127.0.0.1:1") == "127.0.0.1");
}

}  // namespace
}  // namespace skydeck
