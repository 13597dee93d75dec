#include "web/bridge/static_files.h"

#include <fstream>
#include <sstream>

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

StaticFiles StaticFiles::FromDirectory(const fs::path& root) {
  StaticFiles files;
  std::error_code ec;
  fs::path canonical = fs::canonical(root, ec);
  if (!ec && fs::is_directory(canonical)) files.root_ = canonical;
  return files;
}

StaticFiles StaticFiles::FromEmbedded(std::span<const EmbeddedFile> embedded) {
  StaticFiles files;
  for (const EmbeddedFile& f : embedded) files.embedded_.emplace(std::string(f.path), f.data);
  return files;
}

std::string StaticFiles::Describe() const {
  if (!root_.empty()) return root_.string();
  return embedded_.empty() ? "none" : "embedded";
}

std::optional<std::string> StaticFiles::Read(const fs::path& relative) const {
  if (root_.empty()) {
    auto it = embedded_.find(relative.generic_string());
    if (it == embedded_.end()) return std::nullopt;
    return std::string(it->second);
  }
  std::error_code ec;
  fs::path canonical = fs::canonical(root_ / relative, ec);
  if (ec || !fs::is_regular_file(canonical, ec)) return std::nullopt;
  // Symlinks must not lead outside the root.
  auto [root_end, _] =
      std::mismatch(root_.begin(), root_.end(), canonical.begin(), canonical.end());
  if (root_end != root_.end()) return std::nullopt;
  std::ifstream in(canonical, std::ios::binary);
  std::stringstream body;
  body << in.rdbuf();
  if (!in) return std::nullopt;
  return std::move(body).str();
}

std::optional<StaticFile> StaticFiles::Resolve(absl::string_view url_path, bool accept_gzip) const {
  if (!available()) return std::nullopt;
  auto decoded = PercentDecode(url_path);
  if (!decoded.ok()) return std::nullopt;
  const std::string& rel = *decoded;
  if (rel.find('\0') != std::string::npos || rel.find('\\') != std::string::npos) {
    return std::nullopt;
  }
  // Refuse any ".." segment outright rather than trusting normalisation.
  fs::path relative = fs::path(rel).relative_path();
  for (const auto& part : relative) {
    if (part == "..") return std::nullopt;
  }
  relative = relative.lexically_normal();  // "a//./b" -> "a/b"
  if (!relative.empty() && relative.filename().empty()) relative = relative.parent_path();
  bool spa_route = relative.empty() || !relative.has_extension();
  if (relative.empty()) relative = "index.html";
  std::optional<std::string> body = Read(relative);
  if (!body && spa_route) {
    relative = "index.html";
    body = Read(relative);
  }
  if (!body) return std::nullopt;
  StaticFile file;
  file.relative_path = relative.generic_string();
  file.body = *std::move(body);
  file.content_type = ContentTypeFor(relative);
  std::optional<std::string> gzipped = Read(fs::path(file.relative_path + ".gz"));
  file.has_gzip_twin = gzipped.has_value();
  if (gzipped && accept_gzip) {
    file.body = *std::move(gzipped);
    file.content_encoding = "gzip";
  }
  bool hashed_asset = absl::StartsWith(file.relative_path, "assets/");
  file.cache_control = hashed_asset ? "public, max-age=31536000, immutable" : "no-cache";
  return file;
}

}  // namespace skydeck::web
