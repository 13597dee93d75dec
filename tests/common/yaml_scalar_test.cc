#include "common/yaml_scalar.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

TEST_CASE("plain text is only quoted", "[yaml]") {
  CHECK(YamlDoubleQuoted("") == R"("")");
  CHECK(YamlDoubleQuoted("python train.py 'lr=0.1' # : - ---") ==
        R"("python train.py 'lr=0.1' # : - ---")");
  // Printable non-ASCII stays readable.
  CHECK(YamlDoubleQuoted("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80") ==
        "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x9a\x80\"");
}

TEST_CASE("quotes, backslashes and C0 controls are escaped", "[yaml]") {
  CHECK(YamlDoubleQuoted("a\"b\\c") == R"("a\"b\\c")");
  CHECK(YamlDoubleQuoted(std::string("\0\a\b\t\n\v\f\r\x1b\x01\x1f", 11)) ==
        R"("\0\a\b\t\n\v\f\r\e\x01\x1F")");
}

TEST_CASE("what PyYAML refuses or folds is escaped", "[yaml]") {
  CHECK(YamlDoubleQuoted("\x7f") == R"("\x7F")");                              // DEL
  CHECK(YamlDoubleQuoted("\xc2\x80\xc2\x85\xc2\x9f") == R"("\x80\x85\x9F")");  // C1
  CHECK(YamlDoubleQuoted("\xc2\xa0") == "\"\xc2\xa0\"");                       // NBSP is printable
  CHECK(YamlDoubleQuoted("\xe2\x80\xa8\xe2\x80\xa9") == R"("\u2028\u2029")");
  CHECK(YamlDoubleQuoted("\xef\xbb\xbf") == R"("\uFEFF")");
  CHECK(YamlDoubleQuoted("\xef\xbf\xbe\xef\xbf\xbf") == R"("\uFFFE\uFFFF")");
  CHECK(YamlDoubleQuoted("\xef\xb7\x90") == R"("\uFDD0")");
  CHECK(YamlDoubleQuoted("\xf0\x9f\xbf\xbf\xf4\x8f\xbf\xbf") == R"("\U0001FFFF\U0010FFFF")");
  // U+FFFD typed by the user is printable and kept as is.
  CHECK(YamlDoubleQuoted("\xef\xbf\xbd") == "\"\xef\xbf\xbd\"");
}

TEST_CASE("bytes that are not UTF-8 become U+FFFD escapes", "[yaml]") {
  CHECK(YamlDoubleQuoted("a\xff"
                         "b") == R"("a\uFFFDb")");
  CHECK(YamlDoubleQuoted("\xc3") == R"("\uFFFD")");                      // truncated
  CHECK(YamlDoubleQuoted("\xc0\xaf") == R"("\uFFFD\uFFFD")");            // overlong
  CHECK(YamlDoubleQuoted("\xed\xa0\x80") == R"("\uFFFD\uFFFD\uFFFD")");  // surrogate
}

}  // namespace
}  // namespace skydeck
