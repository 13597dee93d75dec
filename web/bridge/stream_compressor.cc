#include "web/bridge/stream_compressor.h"

#include <zlib.h>

#include <brotli/encode.h>

#include "absl/strings/str_cat.h"

#include "common/status_macros.h"

namespace skydeck::web {
namespace {

constexpr int kGzipLevel = 1;      // as compression.cc's dynamic level
constexpr int kBrotliQuality = 1;  // likewise
constexpr size_t kOutChunk = 16 * 1024;

class GzipStreamCompressor final : public StreamCompressor {
 public:
  ~GzipStreamCompressor() override {
    if (started_) deflateEnd(&zs_);
  }

  absl::Status Start() {
    // windowBits 15 + 16: the gzip wrapper instead of zlib's.
    if (deflateInit2(&zs_, kGzipLevel, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
      return absl::InternalError("zlib: deflateInit2 failed");
    }
    started_ = true;
    return absl::OkStatus();
  }

  ContentCoding coding() const override { return ContentCoding::kGzip; }

  absl::StatusOr<std::string> Flush(absl::string_view piece) override {
    return Deflate(piece, Z_SYNC_FLUSH);
  }

  absl::StatusOr<std::string> Finish() override { return Deflate("", Z_FINISH); }

 private:
  // Runs deflate over `in` with `flush` until zlib has written all of it:
  // zlib is done when it leaves output space unused (for Z_FINISH: when it
  // says Z_STREAM_END).
  absl::StatusOr<std::string> Deflate(absl::string_view in, int flush) {
    std::string out;
    zs_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    zs_.avail_in = static_cast<uInt>(in.size());
    while (true) {
      size_t used = out.size();
      out.resize(used + kOutChunk);
      zs_.next_out = reinterpret_cast<Bytef*>(out.data() + used);
      zs_.avail_out = static_cast<uInt>(kOutChunk);
      int rc = deflate(&zs_, flush);
      out.resize(out.size() - zs_.avail_out);
      if (rc == Z_STREAM_END) break;
      // Z_BUF_ERROR only says no progress was possible: with output space
      // left, that means all was written.
      if (rc != Z_OK && rc != Z_BUF_ERROR) {
        return absl::InternalError(absl::StrCat("zlib: deflate returned ", rc));
      }
      if (zs_.avail_out > 0) {
        if (flush == Z_FINISH) return absl::InternalError("zlib: deflate did not finish");
        break;
      }
    }
    return out;
  }

  z_stream zs_{};
  bool started_ = false;
};

class BrotliStreamCompressor final : public StreamCompressor {
 public:
  ~BrotliStreamCompressor() override {
    if (state_ != nullptr) BrotliEncoderDestroyInstance(state_);
  }

  absl::Status Start() {
    state_ = BrotliEncoderCreateInstance(nullptr, nullptr, nullptr);
    if (state_ == nullptr ||
        !BrotliEncoderSetParameter(state_, BROTLI_PARAM_QUALITY, kBrotliQuality) ||
        !BrotliEncoderSetParameter(state_, BROTLI_PARAM_MODE, BROTLI_MODE_TEXT)) {
      return absl::InternalError("brotli: cannot start an encoder");
    }
    return absl::OkStatus();
  }

  ContentCoding coding() const override { return ContentCoding::kBrotli; }

  absl::StatusOr<std::string> Flush(absl::string_view piece) override {
    return Encode(piece, BROTLI_OPERATION_FLUSH);
  }

  absl::StatusOr<std::string> Finish() override { return Encode("", BROTLI_OPERATION_FINISH); }

 private:
  // The encoder keeps its output; BrotliEncoderTakeOutput hands it over
  // without a buffer of ours. A flush or finish is complete when all input
  // is taken and no output is left.
  absl::StatusOr<std::string> Encode(absl::string_view in, BrotliEncoderOperation op) {
    std::string out;
    size_t avail_in = in.size();
    const uint8_t* next_in = reinterpret_cast<const uint8_t*>(in.data());
    while (true) {
      size_t avail_out = 0;
      if (!BrotliEncoderCompressStream(state_, op, &avail_in, &next_in, &avail_out, nullptr,
                                       nullptr)) {
        return absl::InternalError("brotli: BrotliEncoderCompressStream failed");
      }
      size_t size = 0;
      const uint8_t* bytes = BrotliEncoderTakeOutput(state_, &size);
      out.append(reinterpret_cast<const char*>(bytes), size);
      if (avail_in == 0 && !BrotliEncoderHasMoreOutput(state_)) break;
    }
    return out;
  }

  BrotliEncoderState* state_ = nullptr;
};

}  // namespace

ContentCoding ChooseStreamCoding(absl::string_view accept_encoding) {
  if (AcceptsGzip(accept_encoding)) return ContentCoding::kGzip;
  return ChooseCoding(accept_encoding);  // brotli, or identity
}

absl::StatusOr<std::unique_ptr<StreamCompressor>> StreamCompressor::Create(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::kGzip: {
      auto gzip = std::make_unique<GzipStreamCompressor>();
      RETURN_IF_ERROR(gzip->Start());
      return gzip;
    }
    case ContentCoding::kBrotli: {
      auto brotli = std::make_unique<BrotliStreamCompressor>();
      RETURN_IF_ERROR(brotli->Start());
      return brotli;
    }
    case ContentCoding::kIdentity:
      break;
  }
  return absl::InvalidArgumentError("identity needs no stream compressor");
}

}  // namespace skydeck::web
