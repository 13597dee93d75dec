#include "common/code_version.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "absl/strings/str_cat.h"

namespace skydeck {
namespace {
namespace fs = std::filesystem;

void Sh(const fs::path& dir, const std::string& command) {
  std::string full = absl::StrCat("cd '", dir.string(), "' && ", command, " >/dev/null 2>&1");
  REQUIRE(std::system(full.c_str()) == 0);
}

TEST_CASE("a workdir's git commit and dirty flag", "[code]") {
  fs::path dir = fs::temp_directory_path() / absl::StrCat("skydeck-code-", getpid());
  fs::create_directories(dir);
  CHECK(InspectCode(dir.string()) == CodeVersion{});  // not a repository
  CHECK(InspectCode((dir / "missing").string()) == CodeVersion{});

  Sh(dir, "git init -q && git -c user.email=t@t -c user.name=t commit -q --allow-empty -m one");
  std::ofstream(dir / "train.py") << "print(1)\n";
  Sh(dir, "git add train.py && git -c user.email=t@t -c user.name=t commit -q -m two");
  CodeVersion clean = InspectCode(dir.string());
  CHECK(clean.commit.size() == 40);
  CHECK_FALSE(clean.dirty);

  std::ofstream(dir / "train.py") << "print(2)\n";  // a tracked change
  CodeVersion changed = InspectCode(dir.string());
  CHECK(changed.commit == clean.commit);
  CHECK(changed.dirty);
  Sh(dir, "git checkout -q train.py");
  std::ofstream(dir / "new.py") << "x\n";  // an untracked file
  CHECK(InspectCode(dir.string()).dirty);
  std::ofstream(dir / ".gitignore") << "new.py\n.gitignore\n";
  CHECK_FALSE(InspectCode(dir.string()).dirty);  // ignored files do not count
  fs::remove_all(dir);
}

}  // namespace
}  // namespace skydeck
