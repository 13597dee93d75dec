#include "common/sha256.h"

#include <string>

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

TEST_CASE("SHA-256 matches the standard's test vectors, fed whole or in pieces", "[sha256]") {
  Sha256 empty;
  CHECK(empty.HexDigest() == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  Sha256 abc;
  abc.Update("abc");
  CHECK(abc.HexDigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  // FIPS 180-2's 448-bit message, split at an odd place.
  std::string message = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  Sha256 pieces;
  pieces.Update(message.substr(0, 7));
  pieces.Update(message.substr(7));
  CHECK(pieces.HexDigest() == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

}  // namespace
}  // namespace skydeck
