#include "web/bridge/static_files.h"

#include <map>

#include "absl/strings/match.h"
#include "web/bridge/route_table.h"

namespace skydeck::web {
namespace fs = std::filesystem;

std::string ContentTypeFor(const fs::path& path) {
  static const std::map<std::string, std::string> kTypes = {
      {".html", "text/html; charset=utf-8"},
      {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},
      {".json", "application/json"},
      {".svg", "image/svg+xml"},
      {".png", "image/png"},
      {".ico", "image/x-icon"},
      {".woff2", "font/woff2"},
      {".txt", "text/plain; charset=utf-8"},
      {".map", "application/json"},
  };
  auto it = kTypes.find(path.extension().string());
  return it == kTypes.end() ? "application/octet-stream" : it->second;
}

StaticFiles::StaticFiles(fs::path root) {
  std::error_code ec;
  fs::path canonical = fs::canonical(root, ec);
  if (!ec && fs::is_directory(canonical)) root_ = canonical;
}

std::optional<StaticFile> StaticFiles::Resolve(absl::string_view url_path) const {
  if (root_.empty()) return std::nullopt;
  auto decoded = PercentDecode(url_path);
  if (!decoded.ok()) return std::nullopt;
  std::string rel = *decoded;
  if (rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos) {
    return std::nullopt;
  }
  // Refuse any ".." segment outright rather than trusting normalisation.
  fs::path relative = fs::path(rel).relative_path();
  for (const auto& part : relative) {
    if (part == "..") return std::nullopt;
  }
  bool spa_route = relative.empty() || !relative.has_extension();
  fs::path candidate = relative.empty() ? root_ / "index.html" : root_ / relative;
  std::error_code ec;
  if (!fs::is_regular_file(candidate, ec)) {
    if (!spa_route) return std::nullopt;
    candidate = root_ / "index.html";
  }
  fs::path canonical = fs::canonical(candidate, ec);
  if (ec || !fs::is_regular_file(canonical, ec)) return std::nullopt;
  // Symlinks must not lead outside the root.
  auto [root_end, _] = std::mismatch(root_.begin(), root_.end(), canonical.begin(), canonical.end());
  if (root_end != root_.end()) return std::nullopt;
  StaticFile file;
  file.path = canonical;
  file.content_type = ContentTypeFor(canonical);
  bool hashed_asset = absl::StrContains(canonical.string(), "/assets/");
  file.cache_control = hashed_asset ? "public, max-age=31536000, immutable" : "no-cache";
  return file;
}

}  // namespace skydeck::web
