// File: web/bridge/compression.h
//
// Content codings for HTTP answers. Dynamic JSON is compressed with brotli
// quality 1 for clients that accept it (browsers do), else gzip level 1:
// both cost a few percent of a list request, and brotli 1 is the smaller
// and the cheaper of the two (bench/README.md, "compression"); higher
// levels cost more than the request. Event streams have their own rule
// and compressor (stream_compressor.h). The dashboard's files are
// compressed once, at build time (web/ui/build.sh), as gzip twins.
//
//   ContentCoding coding = ChooseCoding(request.Header("Accept-Encoding"));
//   if (coding != ContentCoding::kIdentity && body.size() >= kMinCompressBytes) {
//     ASSIGN_OR_RETURN(body, Compress(body, coding));  // Content-Encoding: CodingName(coding)
//   }
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck::web {

enum class ContentCoding { kIdentity, kGzip, kBrotli };

// Bodies smaller than this are sent as they are: the frame and the CPU are
// not worth it.
inline constexpr size_t kMinCompressBytes = 1024;

// ChooseCoding()
//
// The coding to answer with for an Accept-Encoding header: of "br" and
// "gzip" (or "x-gzip"), the one with the highest q above 0, br on a tie;
// "*" stands for any coding the header does not name. Case-insensitive;
// absent or empty: identity.
//
//   ChooseCoding("gzip, deflate, br") == ContentCoding::kBrotli
//   ChooseCoding("gzip;q=1, br;q=0.5") == ContentCoding::kGzip
//   ChooseCoding("br;q=0, gzip;q=0") == ContentCoding::kIdentity
ContentCoding ChooseCoding(absl::string_view accept_encoding);

// Whether gzip is acceptable (for the build-time gzip twins of static files).
bool AcceptsGzip(absl::string_view accept_encoding);

// The Content-Encoding value: "gzip", "br", or "" for identity.
absl::string_view CodingName(ContentCoding coding);

// `data` in `coding` at the dynamic level (gzip 1, brotli 1); identity
// returns it as it is. Errors: INTERNAL when the library fails.
absl::StatusOr<std::string> Compress(absl::string_view data, ContentCoding coding);

// Gzip (RFC 1952) at zlib level 1..9; Brotli (RFC 7932) at quality 0..11.
// Errors: INTERNAL when the library fails.
absl::StatusOr<std::string> Gzip(absl::string_view data, int level);
absl::StatusOr<std::string> Brotli(absl::string_view data, int quality);

}  // namespace skydeck::web
