#include "web/bridge/static_files.h"

#include <unistd.h>

#include <fstream>

#include <catch2/catch.hpp>

namespace skydeck::web {
namespace {
namespace fs = std::filesystem;

struct WebRoot {
  fs::path base = fs::temp_directory_path() / ("skydeck-web-" + std::to_string(getpid()));
  fs::path root = base / "dist";
  WebRoot() {
    fs::create_directories(root / "assets");
    std::ofstream(root / "index.html") << "<html></html>";
    std::ofstream(root / "assets" / "app-1234.js") << "console.log(1)";
    std::ofstream(base / "secret.txt") << "secret";
    fs::create_symlink(base / "secret.txt", root / "link.txt");
  }
  ~WebRoot() { fs::remove_all(base); }
};

TEST_CASE("static files resolve inside the root with types and caching", "[bridge][static]") {
  WebRoot w;
  StaticFiles files = StaticFiles::FromDirectory(w.root);
  auto index = files.Resolve("/");
  REQUIRE(index);
  CHECK(index->relative_path == "index.html");
  CHECK(index->body == "<html></html>");
  CHECK(index->content_type == "text/html; charset=utf-8");
  CHECK(index->cache_control == "no-cache");
  auto js = files.Resolve("/assets/app-1234.js");
  REQUIRE(js);
  CHECK(js->content_type == "text/javascript; charset=utf-8");
  CHECK(js->cache_control.find("immutable") != std::string::npos);
  // Client-side routes fall back to the app; missing files with an
  // extension are 404.
  CHECK(files.Resolve("/experiments/42")->relative_path == "index.html");
  CHECK_FALSE(files.Resolve("/missing.js"));
}

TEST_CASE("path traversal in any form is refused", "[bridge][static]") {
  WebRoot w;
  StaticFiles files = StaticFiles::FromDirectory(w.root);
  for (const char* bad :
       {"/../secret.txt", "/assets/../../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E%2Fsecret.txt",
        "/..%2fsecret.txt", "/link.txt", "/assets/..%5c..%5csecret.txt", "/%00index.html",
        "/a/%2e%2e/%2e%2e/secret.txt"}) {
    INFO(bad);
    auto f = files.Resolve(bad);
    CHECK((!f || f->relative_path == "index.html"));
    if (f) CHECK(f->body == "<html></html>");
  }
}

TEST_CASE("a file's gzip twin goes to clients that accept gzip", "[bridge][static][gzip]") {
  WebRoot w;
  std::ofstream(w.root / "assets" / "app-1234.js.gz") << "GZ";
  StaticFiles files = StaticFiles::FromDirectory(w.root);
  auto plain = files.Resolve("/assets/app-1234.js");
  REQUIRE(plain);
  CHECK(plain->body == "console.log(1)");
  CHECK(plain->content_encoding.empty());
  CHECK(plain->has_gzip_twin);
  auto gz = files.Resolve("/assets/app-1234.js", /*accept_gzip=*/true);
  REQUIRE(gz);
  CHECK(gz->body == "GZ");
  CHECK(gz->content_encoding == "gzip");
  CHECK(gz->content_type == "text/javascript; charset=utf-8");  // of what it decodes to
  auto index = files.Resolve("/", true);                        // no twin: as it is
  REQUIRE(index);
  CHECK(index->body == "<html></html>");
  CHECK(index->content_encoding.empty());
  CHECK_FALSE(index->has_gzip_twin);

  EmbeddedFile embedded[] = {{"index.html", "<html>"}, {"a.js", "plain"}, {"a.js.gz", "packed"}};
  StaticFiles built = StaticFiles::FromEmbedded(embedded);
  CHECK(built.Resolve("/a.js", true)->body == "packed");
  CHECK(built.Resolve("/a.js", false)->body == "plain");
}

TEST_CASE("a missing root serves nothing", "[bridge][static]") {
  StaticFiles files = StaticFiles::FromDirectory("/nonexistent/dir");
  CHECK_FALSE(files.available());
  CHECK_FALSE(files.Resolve("/"));
  CHECK_FALSE(StaticFiles().Resolve("/"));
  CHECK(StaticFiles().Describe() == "none");
}

TEST_CASE("embedded files are served like a directory", "[bridge][static]") {
  const EmbeddedFile embedded[] = {{"index.html", "<html>app</html>"},
                                   {"assets/index-ab12.js", "let x = 1;"}};
  StaticFiles files = StaticFiles::FromEmbedded(embedded);
  REQUIRE(files.available());
  CHECK(files.Describe() == "embedded");
  auto index = files.Resolve("/");
  REQUIRE(index);
  CHECK(index->body == "<html>app</html>");
  CHECK(index->cache_control == "no-cache");
  auto js = files.Resolve("/assets/index-ab12.js");
  REQUIRE(js);
  CHECK(js->body == "let x = 1;");
  CHECK(js->content_type == "text/javascript; charset=utf-8");
  CHECK(js->cache_control.find("immutable") != std::string::npos);
  CHECK(files.Resolve("/runs/3")->relative_path == "index.html");
  CHECK(files.Resolve("/assets//./index-ab12.js")->body == "let x = 1;");
  for (const char* bad : {"/missing.js", "/assets/../index.html.js", "/%2e%2e/index.html",
                          "/assets/index-ab12.js%00"}) {
    INFO(bad);
    auto f = files.Resolve(bad);
    CHECK((!f || f->relative_path == "index.html"));
  }
}

}  // namespace
}  // namespace skydeck::web
