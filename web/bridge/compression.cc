#include "web/bridge/compression.h"

#include <zlib.h>

#include <map>
#include <vector>

#include <brotli/encode.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

namespace skydeck::web {
namespace {

constexpr int kGzipLevel = 1;
constexpr int kBrotliQuality = 1;

// Accept-Encoding's codings (lower case) and their q values.
std::map<std::string, double> ParseAcceptEncoding(absl::string_view header) {
  std::map<std::string, double> codings;
  for (absl::string_view item : absl::StrSplit(header, ',')) {
    std::vector<absl::string_view> parts = absl::StrSplit(item, ';');
    std::string coding = absl::AsciiStrToLower(absl::StripAsciiWhitespace(parts[0]));
    if (coding.empty()) continue;
    double q = 1;
    for (size_t i = 1; i < parts.size(); ++i) {
      absl::string_view param = absl::StripAsciiWhitespace(parts[i]);
      if (absl::StartsWithIgnoreCase(param, "q=") && !absl::SimpleAtod(param.substr(2), &q)) q = 0;
    }
    if (coding == "x-gzip") coding = "gzip";
    codings[coding] = q;
  }
  return codings;
}

double QualityOf(const std::map<std::string, double>& codings, const std::string& coding) {
  if (auto it = codings.find(coding); it != codings.end()) return it->second;
  if (auto star = codings.find("*"); star != codings.end()) return star->second;
  return 0;
}

}  // namespace

ContentCoding ChooseCoding(absl::string_view accept_encoding) {
  auto codings = ParseAcceptEncoding(accept_encoding);
  double br = QualityOf(codings, "br"), gzip = QualityOf(codings, "gzip");
  if (br > 0 && br >= gzip) return ContentCoding::kBrotli;
  if (gzip > 0) return ContentCoding::kGzip;
  return ContentCoding::kIdentity;
}

bool AcceptsGzip(absl::string_view accept_encoding) {
  return QualityOf(ParseAcceptEncoding(accept_encoding), "gzip") > 0;
}

absl::string_view CodingName(ContentCoding coding) {
  switch (coding) {
    case ContentCoding::kGzip:
      return "gzip";
    case ContentCoding::kBrotli:
      return "br";
    case ContentCoding::kIdentity:
      break;
  }
  return "";
}

absl::StatusOr<std::string> Compress(absl::string_view data, ContentCoding coding) {
  switch (coding) {
    case ContentCoding::kGzip:
      return Gzip(data, kGzipLevel);
    case ContentCoding::kBrotli:
      return Brotli(data, kBrotliQuality);
    case ContentCoding::kIdentity:
      break;
  }
  return std::string(data);
}

absl::StatusOr<std::string> Gzip(absl::string_view data, int level) {
  z_stream zs{};
  // windowBits 15 + 16: the gzip wrapper instead of zlib's.
  if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return absl::InternalError("zlib: deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&zs, data.size()));
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&zs, Z_FINISH);
  deflateEnd(&zs);
  if (rc != Z_STREAM_END) return absl::InternalError(absl::StrCat("zlib: deflate returned ", rc));
  out.resize(zs.total_out);
  return out;
}

absl::StatusOr<std::string> Brotli(absl::string_view data, int quality) {
  std::string out(BrotliEncoderMaxCompressedSize(data.size()), '\0');
  if (out.empty()) out.resize(16);  // 0 means "too large" only for huge inputs
  size_t size = out.size();
  if (!BrotliEncoderCompress(quality, BROTLI_DEFAULT_WINDOW, BROTLI_MODE_TEXT, data.size(),
                             reinterpret_cast<const uint8_t*>(data.data()), &size,
                             reinterpret_cast<uint8_t*>(out.data()))) {
    return absl::InternalError("brotli: BrotliEncoderCompress failed");
  }
  out.resize(size);
  return out;
}

}  // namespace skydeck::web
