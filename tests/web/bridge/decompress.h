// File: tests/web/bridge/decompress.h
//
// Decoders for the bridge tests: what a client makes of a gzip or brotli
// body. REQUIREs that the body decodes.
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

}  // namespace skydeck::testing
