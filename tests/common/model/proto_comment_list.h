// File: tests/common/model/proto_comment_list.h
//
// Reads a documented list of words out of a .proto comment, so that a test
// can compare what the API documents with the constants the code writes.
// The list is the comment block (contiguous `//` lines) that ends right
// before the first line containing `anchor`; its items are the quoted
// CamelCase words on bullet lines (`//   - "Word"...`) and their
// continuations that start with a quote (`//     "Word"...`).
#pragma once

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

namespace skydeck::testing {

inline std::vector<std::string> ProtoCommentList(const std::string& proto_path,
                                                 const std::string& anchor) {
  std::ifstream in(proto_path);
  std::vector<std::string> block;
  std::string line;
  while (std::getline(in, line)) {
    if (line.find(anchor) != std::string::npos) break;
    size_t start = line.find_first_not_of(' ');
    bool comment = start != std::string::npos && line.compare(start, 2, "//") == 0;
    if (!comment) {
      block.clear();
      continue;
    }
    block.push_back(line.substr(start));
  }
  static const std::regex kItemLine(R"(^//   - "|^//     ")");
  static const std::regex kWord(R"re("([A-Z][A-Za-z]*)")re");
  std::vector<std::string> words;
  for (const std::string& l : block) {
    if (!std::regex_search(l, kItemLine)) continue;
    // Only the words before the item's description (after ": ").
    std::string items =
        l.substr(0, l.find("\": ") == std::string::npos ? l.size() : l.find("\": ") + 1);
    for (std::sregex_iterator it(items.begin(), items.end(), kWord), end; it != end; ++it) {
      words.push_back((*it)[1]);
    }
  }
  return words;
}

}  // namespace skydeck::testing
