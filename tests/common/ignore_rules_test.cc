#include "common/ignore_rules.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

TEST_CASE("wildmatch: *, ?, sets and escapes stay within a segment", "[ignore]") {
  CHECK(WildMatch("*.py", "train.py"));
  CHECK_FALSE(WildMatch("*.py", "a/train.py"));
  CHECK(WildMatch("a/*.py", "a/train.py"));
  CHECK_FALSE(WildMatch("a/*", "a/b/c"));
  CHECK(WildMatch("?.txt", "a.txt"));
  CHECK_FALSE(WildMatch("?", "/"));
  CHECK(WildMatch("[abc].log", "b.log"));
  CHECK_FALSE(WildMatch("[abc].log", "d.log"));
  CHECK(WildMatch("[a-c]x", "bx"));
  CHECK(WildMatch("[!a-c]x", "dx"));
  CHECK(WildMatch("[^a-c]x", "dx"));
  CHECK_FALSE(WildMatch("[!a-c]x", "ax"));
  CHECK(WildMatch("[]]", "]"));
  CHECK(WildMatch("\\*", "*"));
  CHECK_FALSE(WildMatch("\\*", "a"));
  CHECK(WildMatch("a[", "a["));                // an unclosed set is a literal
  CHECK_FALSE(WildMatch("[[:alpha:]]", "a"));  // POSIX classes: unsupported
  CHECK(WildMatch("foo", "foo"));
  CHECK_FALSE(WildMatch("foo", "foobar"));
  CHECK(WildMatch("a**b", "axxb"));  // a ** inside a segment is a *
  CHECK_FALSE(WildMatch("a**b", "a/b"));
}

TEST_CASE("wildmatch: ** spans directories at segment boundaries", "[ignore]") {
  CHECK(WildMatch("**/foo", "foo"));
  CHECK(WildMatch("**/foo", "a/b/foo"));
  CHECK_FALSE(WildMatch("**/foo", "a/bfoo"));
  CHECK(WildMatch("**/foo/bar", "x/foo/bar"));
  CHECK(WildMatch("abc/**", "abc/x"));
  CHECK(WildMatch("abc/**", "abc/x/y"));
  CHECK_FALSE(WildMatch("abc/**", "abc"));
  CHECK(WildMatch("a/**/b", "a/b"));
  CHECK(WildMatch("a/**/b", "a/x/b"));
  CHECK(WildMatch("a/**/b", "a/x/y/b"));
  CHECK_FALSE(WildMatch("a/**/b", "a/x/y/c"));
  CHECK(WildMatch("**", "any/thing"));
  CHECK(WildMatch("**/build/**", "src/build/out.o"));
}

TEST_CASE("ignore rules: basename patterns match at any depth, slashes anchor", "[ignore]") {
  IgnoreRules r;
  r.AddFile("", "# a comment\n\n*.pyc\n/data/\nlogs/\ndocs/*.md\n");
  CHECK(r.Ignored("a.pyc", false));
  CHECK(r.Ignored("x/y/a.pyc", false));
  CHECK(r.Ignored("data", true));
  CHECK_FALSE(r.Ignored("data", false));     // a file named data: dir-only pattern
  CHECK_FALSE(r.Ignored("sub/data", true));  // anchored at the file's directory
  CHECK(r.Ignored("logs", true));
  CHECK(r.Ignored("sub/logs", true));  // not anchored: any depth
  CHECK(r.Ignored("docs/a.md", false));
  CHECK_FALSE(r.Ignored("x/docs/a.md", false));  // a middle slash anchors
  CHECK_FALSE(r.Ignored("train.py", false));
  CHECK_FALSE(r.Ignored("# a comment", false));
}

TEST_CASE("ignore rules: negation, last match wins, deeper files later", "[ignore]") {
  IgnoreRules r;
  r.AddFile("", "*.log\n!keep.log\n");
  CHECK(r.Ignored("a.log", false));
  CHECK_FALSE(r.Ignored("keep.log", false));
  r.AddFile("sub", "keep.log\n!a.log\n");
  CHECK(r.Ignored("sub/keep.log", false));
  CHECK_FALSE(r.Ignored("sub/a.log", false));
  CHECK_FALSE(r.Ignored("keep.log", false));  // sub's rules apply below sub only
  CHECK(r.Ignored("other/a.log", false));
  // A file's anchored patterns are relative to its own directory.
  r.AddFile("sub", "/build\n");
  CHECK(r.Ignored("sub/build", true));
  CHECK_FALSE(r.Ignored("build", true));
  CHECK_FALSE(r.Ignored("sub/x/build", true));
}

TEST_CASE("ignore rules: escapes and trailing spaces", "[ignore]") {
  IgnoreRules r;
  r.AddFile("", "\\#notes\n\\!bang\ntrail   \nkeep\\ \r\n");
  CHECK(r.Ignored("#notes", false));
  CHECK(r.Ignored("!bang", false));
  CHECK(r.Ignored("trail", false));
  CHECK(r.Ignored("keep ", false));
  CHECK_FALSE(r.Ignored("keep", false));
}

TEST_CASE("ignore rules: a .skydeckignore added after .gitignore can re-include", "[ignore]") {
  IgnoreRules r;
  r.AddFile("", "data/\n");           // .gitignore
  r.AddFile("", "!data/\n*.ckpt\n");  // .skydeckignore
  CHECK_FALSE(r.Ignored("data", true));
  CHECK(r.Ignored("model.ckpt", false));
}

}  // namespace
}  // namespace skydeck
