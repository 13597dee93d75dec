// File: web/bridge/static_files.h
//
// Serves the dashboard's files from one directory: a request path maps to a
// file strictly inside it (no "..", no symlink escapes, encoded forms
// decoded first), with a content type from the extension and caching
// headers (hashed assets cached for a year, everything else revalidated).
#pragma once

#include <filesystem>
#include <optional>
#include <string>

#include "absl/strings/string_view.h"

namespace skydeck::web {

struct StaticFile {
  std::filesystem::path path;
  std::string content_type;
  std::string cache_control;
};

class StaticFiles {
 public:
  explicit StaticFiles(std::filesystem::path root);

  // The file for `url_path` ("/" -> index.html; an unknown path without an
  // extension -> index.html, for client-side routes). nullopt: 404.
  std::optional<StaticFile> Resolve(absl::string_view url_path) const;

  bool available() const { return !root_.empty(); }

 private:
  std::filesystem::path root_;  // canonical; empty when the directory is missing
};

std::string ContentTypeFor(const std::filesystem::path& path);

}  // namespace skydeck::web
