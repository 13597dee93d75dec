// File: web/bridge/static_files.h
//
// Serves the dashboard's files, either from a directory (for UI development,
// `--web-root`) or from the files embedded in the binary. A request path
// maps to a file strictly inside the root (no "..", no symlink escapes,
// encoded forms decoded first), with a content type from the extension and
// caching headers (hashed assets cached for a year, everything else
// revalidated). Unknown paths without an extension get index.html, for the
// app's client-side routes. A file built with a gzip twin ("x.js.gz", made
// at build time by web/ui/build.sh) is served compressed to clients that
// accept gzip, so no request compresses a static file.
//
// Thread-safety: const after construction; Resolve may be called
// concurrently.
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <string>

#include "absl/strings/string_view.h"

#include "web/bridge/embedded_file.h"

namespace skydeck::web {

struct StaticFile {
  std::string relative_path;  // e.g. "index.html"
  std::string body;
  std::string content_type;
  std::string cache_control;
  std::string content_encoding;  // "gzip" when body is the .gz twin; else empty
  // The file has a gzip twin: caches must key on Accept-Encoding.
  bool has_gzip_twin = false;
};

class StaticFiles {
 public:
  // Nothing to serve.
  StaticFiles() = default;
  // Files under `root`; a missing directory serves nothing.
  static StaticFiles FromDirectory(const std::filesystem::path& root);
  static StaticFiles FromEmbedded(std::span<const EmbeddedFile> files);

  // The file for `url_path` (percent-encoded, as sent); nullopt: 404. With
  // `accept_gzip`, the file's gzip twin when it has one.
  std::optional<StaticFile> Resolve(absl::string_view url_path, bool accept_gzip = false) const;

  bool available() const { return !root_.empty() || !embedded_.empty(); }
  // For the start-up log: the directory, "embedded", or "none".
  std::string Describe() const;

 private:
  // The body of `relative` (already checked to contain no ".."); nullopt
  // when there is no such file.
  std::optional<std::string> Read(const std::filesystem::path& relative) const;

  std::filesystem::path root_;  // canonical; empty when serving embedded files
  std::map<std::string, std::string_view, std::less<>> embedded_;
};

std::string ContentTypeFor(const std::filesystem::path& path);

}  // namespace skydeck::web
