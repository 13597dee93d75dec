#include "web/bridge/stream_compressor.h"

#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "decompress.h"

namespace skydeck::web {
namespace {

using testing::BrotliStreamDecoder;
using testing::Gunzip;
using testing::GzipStreamDecoder;
using testing::Unbrotli;

// What an event stream carries: a comment, similar events, a keep-alive,
// an empty write, one large event.
std::vector<std::string> Pieces() {
  std::vector<std::string> pieces = {": connected\n\n"};
  for (int i = 0; i < 40; ++i) {
    pieces.push_back(R"(data: {"event":{"id":")" + std::to_string(i) +
                     R"(","type":"Created"},"experiment":{"name":"exp-)" + std::to_string(i) +
                     R"(","state":"RUNNING"}})"
                     "\n\n");
    if (i == 20) pieces.push_back(": ping\n\n");
  }
  pieces.push_back("");
  std::string big = "data: [";
  for (int i = 0; i < 3000; ++i) big += R"({"name":"exp-)" + std::to_string(i) + R"("},)";
  pieces.push_back(big + "{}]\n\n");
  return pieces;
}

// Feeds each flushed piece to `decoder` alone: it must yield that piece
// at once, with no later bytes. Returns the whole coded stream.
template <typename Decoder>
std::string CheckEachPieceDecodesAtOnce(StreamCompressor& compressor, Decoder& decoder) {
  std::string wire;
  for (const std::string& piece : Pieces()) {
    absl::StatusOr<std::string> coded = compressor.Flush(piece);
    REQUIRE(coded.ok());
    CHECK(coded->empty() == piece.empty());  // nothing new: nothing to flush
    wire += *coded;
    CHECK(decoder.Feed(*coded) == piece);
  }
  absl::StatusOr<std::string> tail = compressor.Finish();
  REQUIRE(tail.ok());
  CHECK(decoder.Feed(*tail).empty());
  CHECK(decoder.ended());
  wire += *tail;
  return wire;
}

std::string Joined(const std::vector<std::string>& pieces) {
  std::string all;
  for (const std::string& p : pieces) all += p;
  return all;
}

TEST_CASE("a gzip stream decodes piece by piece and ends with a valid trailer",
          "[bridge][compression]") {
  auto compressor = StreamCompressor::Create(ContentCoding::kGzip);
  REQUIRE(compressor.ok());
  CHECK((*compressor)->coding() == ContentCoding::kGzip);
  GzipStreamDecoder decoder;
  std::string wire = CheckEachPieceDecodesAtOnce(**compressor, decoder);
  CHECK(static_cast<unsigned char>(wire[0]) == 0x1f);  // gzip magic
  CHECK(static_cast<unsigned char>(wire[1]) == 0x8b);
  std::string all = Joined(Pieces());
  CHECK(Gunzip(wire) == all);  // checks the CRC and length
  CHECK(wire.size() < all.size() / 5);
}

TEST_CASE("a brotli stream decodes piece by piece and ends", "[bridge][compression]") {
  auto compressor = StreamCompressor::Create(ContentCoding::kBrotli);
  REQUIRE(compressor.ok());
  CHECK((*compressor)->coding() == ContentCoding::kBrotli);
  BrotliStreamDecoder decoder;
  std::string wire = CheckEachPieceDecodesAtOnce(**compressor, decoder);
  std::string all = Joined(Pieces());
  CHECK(Unbrotli(wire) == all);
  CHECK(wire.size() < all.size() / 5);
}

// Why one compressor per stream and not per event: an event shrinks by what
// it shares with the ones before it.
TEST_CASE("later gzip pieces refer back to earlier ones", "[bridge][compression]") {
  std::string event =
      R"(data: {"event":{"type":"Created","actor":"web"},"experiment":{"base_command":"python train.py --data /datasets/imagenet","labels":{"team":"vision"}}})"
      "\n\n";
  auto compressor = StreamCompressor::Create(ContentCoding::kGzip);
  REQUIRE(compressor.ok());
  size_t first = (*compressor)->Flush(event)->size();
  size_t second = (*compressor)->Flush(event)->size();
  INFO("first " << first << " bytes, second " << second);
  CHECK(second * 4 < first);
}

TEST_CASE("streams prefer gzip, then brotli", "[bridge][compression]") {
  CHECK(ChooseStreamCoding("gzip, deflate, br") == ContentCoding::kGzip);  // a browser
  CHECK(ChooseStreamCoding("br;q=1, gzip;q=0.5") == ContentCoding::kGzip);
  CHECK(ChooseStreamCoding("br") == ContentCoding::kBrotli);
  CHECK(ChooseStreamCoding("gzip;q=0, *") == ContentCoding::kBrotli);
  CHECK(ChooseStreamCoding("") == ContentCoding::kIdentity);
  CHECK(ChooseStreamCoding("deflate, br;q=0") == ContentCoding::kIdentity);
}

TEST_CASE("identity has no stream compressor", "[bridge][compression]") {
  CHECK(StreamCompressor::Create(ContentCoding::kIdentity).status().code() ==
        absl::StatusCode::kInvalidArgument);
}

TEST_CASE("a stream with no pieces is a valid empty body", "[bridge][compression]") {
  auto gzip = StreamCompressor::Create(ContentCoding::kGzip);
  REQUIRE(gzip.ok());
  CHECK(Gunzip(*(*gzip)->Finish()).empty());
  auto brotli = StreamCompressor::Create(ContentCoding::kBrotli);
  REQUIRE(brotli.ok());
  CHECK(Unbrotli(*(*brotli)->Finish()).empty());
}

}  // namespace
}  // namespace skydeck::web
