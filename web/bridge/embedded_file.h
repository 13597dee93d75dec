// File: web/bridge/embedded_file.h
//
// A file compiled into the binary. The dashboard's built files are embedded
// in skydeckd and skydeck-web (library skydeck_dashboard_assets, generated
// by web/ui/embed_dashboard.cmake) so one binary serves the UI with nothing
// to install next to it.
#pragma once

#include <span>
#include <string_view>

namespace skydeck::web {

struct EmbeddedFile {
  std::string_view path;  // relative to the web root, e.g. "assets/index-1a2b.js"
  std::string_view data;
};

// The dashboard as built with this binary; empty when it was built without
// npm. Defined in skydeck_dashboard_assets.
std::span<const EmbeddedFile> EmbeddedDashboardFiles();

}  // namespace skydeck::web
