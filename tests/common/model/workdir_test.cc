#include "common/model/workdir.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

Workdir Parsed(const std::string& text) {
  absl::StatusOr<Workdir> w = ParseWorkdir(text);
  REQUIRE(w.ok());
  CHECK(FormatWorkdir(*w) == text);  // reads back
  return *w;
}

TEST_CASE("a workdir is a local directory or a git URL[@REF]", "[workdir]") {
  CHECK(Parsed("").kind == Workdir::Kind::kNone);
  Workdir local = Parsed("/home/me/project");
  CHECK(local.kind == Workdir::Kind::kLocal);
  CHECK(local.path == "/home/me/project");

  Workdir tagged = Parsed("https://github.com/org/repo.git@v1.2");
  CHECK(tagged.kind == Workdir::Kind::kGit);
  CHECK(tagged.url == "https://github.com/org/repo.git");
  CHECK(tagged.ref == "v1.2");
  // The user of an scp-like or URL authority is not a ref.
  Workdir scp = Parsed("git@github.com:org/repo.git");
  CHECK(scp.url == "git@github.com:org/repo.git");
  CHECK(scp.ref.empty());
  CHECK(Parsed("git@github.com:org/repo.git@main").ref == "main");
  CHECK(Parsed("https://user@host/org/repo.git").ref.empty());
  // A '/' after the last '@' means it was not a ref.
  CHECK(Parsed("https://host/a@b/repo.git").ref.empty());
}

TEST_CASE("relative paths and junk are refused", "[workdir]") {
  CHECK(absl::IsInvalidArgument(ParseWorkdir("project").status()));
  CHECK(absl::IsInvalidArgument(ParseWorkdir("./project").status()));
  CHECK(absl::IsInvalidArgument(ParseWorkdir("/a\nb").status()));
  CHECK(absl::IsInvalidArgument(ParseWorkdir(std::string(5000, '/')).status()));
}

}  // namespace
}  // namespace skydeck
