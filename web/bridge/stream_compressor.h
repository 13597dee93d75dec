// File: web/bridge/stream_compressor.h
//
// Compression of an answer whose end is not known in advance (a
// Server-Sent Event stream): each piece is compressed and flushed at once,
// so it reaches the client now and decodes with what came before it,
// while later pieces still refer back to earlier ones (gzip's 32 KiB
// window: a stream of similar events shrinks far more than each event
// alone would; brotli 1 does not do that, see ChooseStreamCoding). Finish()
// writes the end of the coding (gzip's trailer).
// Levels are the dynamic ones of compression.h: gzip 1, brotli 1.
//
//   ASSIGN_OR_RETURN(auto compressor, StreamCompressor::Create(ContentCoding::kGzip));
//   ASSIGN_OR_RETURN(std::string wire, compressor->Flush(": connected\n\n"));
//   ... more Flush(event) ...
//   ASSIGN_OR_RETURN(std::string tail, compressor->Finish());
//
// Thread-safety: none; one stream, one caller at a time.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "web/bridge/compression.h"

namespace skydeck::web {

// ChooseStreamCoding()
//
// The coding of an event stream for an Accept-Encoding header: gzip
// whenever it is acceptable, else brotli if that is, else identity. Not
// ChooseCoding()'s brotli-first: brotli quality 1 compresses each flushed
// piece on its own, so a stream of small events (Watch) came out 7.7x larger
// than gzip's, whose window spans events (bench/README.md, "SSE").
//
//   ChooseStreamCoding("gzip, deflate, br") == ContentCoding::kGzip
//   ChooseStreamCoding("br") == ContentCoding::kBrotli
ContentCoding ChooseStreamCoding(absl::string_view accept_encoding);

class StreamCompressor {
 public:
  // StreamCompressor::Create()
  //
  // A compressor for `coding` (kGzip or kBrotli). Errors: INVALID_ARGUMENT
  // for kIdentity; INTERNAL when the library cannot start one (memory).
  static absl::StatusOr<std::unique_ptr<StreamCompressor>> Create(ContentCoding coding);

  virtual ~StreamCompressor() = default;

  // The coding, for the Content-Encoding header (CodingName()).
  virtual ContentCoding coding() const = 0;

  // StreamCompressor::Flush()
  //
  // `piece` compressed, followed by a flush: everything returned so far,
  // decoded, is every piece so far (the decoder needs nothing more to
  // yield it). An empty piece returns nothing (all was flushed already).
  // REQUIRES: Finish() has not been called.
  // Errors: INTERNAL when the library fails; the stream is then unusable.
  virtual absl::StatusOr<std::string> Flush(absl::string_view piece) = 0;

  // StreamCompressor::Finish()
  //
  // The end of the coded stream (gzip: the final block and the CRC/length
  // trailer). REQUIRES: called at most once. Errors: as Flush().
  virtual absl::StatusOr<std::string> Finish() = 0;
};

}  // namespace skydeck::web
