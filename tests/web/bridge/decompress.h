// File: tests/web/bridge/decompress.h
//
// Decoders for the bridge tests: what a client makes of a gzip or brotli
// body, whole or as it arrives (a compressed event stream). REQUIREs that
// the bytes decode.
#pragma once

#include <zlib.h>

#include <cstdint>
#include <string>

#include <brotli/decode.h>
#include <catch2/catch.hpp>

namespace skydeck::testing {

inline std::string Gunzip(const std::string& data) {
  z_stream zs{};
  REQUIRE(inflateInit2(&zs, 15 + 16) == Z_OK);
  std::string out(data.size() * 50 + 64, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = inflate(&zs, Z_FINISH);
  inflateEnd(&zs);
  REQUIRE(rc == Z_STREAM_END);
  out.resize(zs.total_out);
  return out;
}

inline std::string Unbrotli(const std::string& data) {
  std::string out(data.size() * 100 + 64, '\0');
  size_t size = out.size();
  REQUIRE(BrotliDecoderDecompress(data.size(), reinterpret_cast<const uint8_t*>(data.data()), &size,
                                  reinterpret_cast<uint8_t*>(out.data())) ==
          BROTLI_DECODER_RESULT_SUCCESS);
  out.resize(size);
  return out;
}

// A gzip stream decoded as it arrives, as a browser does: Feed() returns
// what the bytes so far decode to beyond what earlier calls returned —
// everything the encoder flushed.
class GzipStreamDecoder {
 public:
  GzipStreamDecoder() { REQUIRE(inflateInit2(&zs_, 15 + 16) == Z_OK); }
  ~GzipStreamDecoder() { inflateEnd(&zs_); }
  GzipStreamDecoder(const GzipStreamDecoder&) = delete;
  GzipStreamDecoder& operator=(const GzipStreamDecoder&) = delete;

  std::string Feed(const std::string& data) {
    REQUIRE_FALSE(ended_);
    std::string out;
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
    zs_.avail_in = static_cast<uInt>(data.size());
    while (true) {
      char buf[16 * 1024];
      zs_.next_out = reinterpret_cast<Bytef*>(buf);
      zs_.avail_out = sizeof(buf);
      int rc = inflate(&zs_, Z_SYNC_FLUSH);
      REQUIRE((rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR));
      out.append(buf, sizeof(buf) - zs_.avail_out);
      if (rc == Z_STREAM_END) {
        ended_ = true;  // the trailer's CRC and length matched
        REQUIRE(zs_.avail_in == 0);
        break;
      }
      if (zs_.avail_out > 0) break;  // took all it could
    }
    return out;
  }
  // The trailer arrived and checked out.
  bool ended() const { return ended_; }

 private:
  z_stream zs_{};
  bool ended_ = false;
};

// The same for brotli.
class BrotliStreamDecoder {
 public:
  BrotliStreamDecoder() : state_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {
    REQUIRE(state_ != nullptr);
  }
  ~BrotliStreamDecoder() { BrotliDecoderDestroyInstance(state_); }
  BrotliStreamDecoder(const BrotliStreamDecoder&) = delete;
  BrotliStreamDecoder& operator=(const BrotliStreamDecoder&) = delete;

  std::string Feed(const std::string& data) {
    REQUIRE_FALSE(ended_);
    std::string out;
    size_t avail_in = data.size();
    const uint8_t* next_in = reinterpret_cast<const uint8_t*>(data.data());
    while (true) {
      size_t avail_out = 0;  // the decoder's own buffer, taken below
      BrotliDecoderResult rc =
          BrotliDecoderDecompressStream(state_, &avail_in, &next_in, &avail_out, nullptr, nullptr);
      REQUIRE(rc != BROTLI_DECODER_RESULT_ERROR);
      size_t size = 0;
      const uint8_t* bytes = BrotliDecoderTakeOutput(state_, &size);
      out.append(reinterpret_cast<const char*>(bytes), size);
      if (rc == BROTLI_DECODER_RESULT_SUCCESS) {
        ended_ = true;
        REQUIRE(avail_in == 0);
        break;
      }
      if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) break;
    }
    return out;
  }
  bool ended() const { return ended_; }

 private:
  BrotliDecoderState* state_;
  bool ended_ = false;
};

}  // namespace skydeck::testing
