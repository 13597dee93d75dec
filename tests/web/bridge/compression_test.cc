#include "web/bridge/compression.h"

#include <string>

#include <catch2/catch.hpp>

#include "decompress.h"

namespace skydeck::web {
namespace {

using testing::Gunzip;
using testing::Unbrotli;

std::string SomeJson() {
  std::string json = "[";
  for (int i = 0; i < 500; ++i) json += R"({"name":"exp-)" + std::to_string(i) + R"(","state":1},)";
  return json + "{}]";
}

TEST_CASE("Accept-Encoding picks brotli, then gzip, else nothing", "[bridge][compression]") {
  CHECK(ChooseCoding("gzip, deflate, br") == ContentCoding::kBrotli);  // a browser
  CHECK(ChooseCoding("gzip") == ContentCoding::kGzip);
  CHECK(ChooseCoding("x-gzip") == ContentCoding::kGzip);
  CHECK(ChooseCoding("GZip;q=0.5, br;q=0.4") == ContentCoding::kGzip);
  CHECK(ChooseCoding("br;q=0, gzip") == ContentCoding::kGzip);
  CHECK(ChooseCoding("*") == ContentCoding::kBrotli);
  CHECK(ChooseCoding("br;q=0, *;q=0.1") == ContentCoding::kGzip);  // "*" is the unnamed ones
  CHECK(ChooseCoding("") == ContentCoding::kIdentity);
  CHECK(ChooseCoding("identity") == ContentCoding::kIdentity);
  CHECK(ChooseCoding("deflate") == ContentCoding::kIdentity);
  CHECK(ChooseCoding("gzip;q=0, br;q=0") == ContentCoding::kIdentity);
  CHECK(ChooseCoding("gzip;q=abc") == ContentCoding::kIdentity);
  CHECK(AcceptsGzip("br, gzip"));
  CHECK_FALSE(AcceptsGzip("br"));
  CHECK_FALSE(AcceptsGzip("gzip;q=0, *"));
  CHECK(CodingName(ContentCoding::kBrotli) == "br");
  CHECK(CodingName(ContentCoding::kGzip) == "gzip");
  CHECK(CodingName(ContentCoding::kIdentity).empty());
}

TEST_CASE("compressed bodies decode to what was compressed", "[bridge][compression]") {
  std::string json = SomeJson();
  for (int level : {1, 6, 9}) {
    auto gz = Gzip(json, level);
    REQUIRE(gz.ok());
    CHECK(static_cast<unsigned char>((*gz)[0]) == 0x1f);  // gzip magic
    CHECK(static_cast<unsigned char>((*gz)[1]) == 0x8b);
    CHECK(gz->size() < json.size() / 4);
    CHECK(Gunzip(*gz) == json);
  }
  for (int quality : {0, 1, 11}) {
    auto br = Brotli(json, quality);
    REQUIRE(br.ok());
    CHECK(br->size() < json.size() / 4);
    CHECK(Unbrotli(*br) == json);
  }
  auto dynamic_br = Compress(json, ContentCoding::kBrotli);
  REQUIRE(dynamic_br.ok());
  CHECK(Unbrotli(*dynamic_br) == json);
  auto dynamic_gz = Compress(json, ContentCoding::kGzip);
  REQUIRE(dynamic_gz.ok());
  CHECK(Gunzip(*dynamic_gz) == json);
  CHECK(*Compress(json, ContentCoding::kIdentity) == json);
  CHECK(Gunzip(*Gzip("", 1)).empty());
  CHECK(Unbrotli(*Brotli("", 1)).empty());
}

}  // namespace
}  // namespace skydeck::web
