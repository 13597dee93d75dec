// File: common/yaml_load_all.h
//
// YAML::LoadAll without yaml-cpp 0.7's endless loop. Its document parser
// leaves a token it does not expect at the start of a document unconsumed
// (a ',' outside any flow collection, as in the text ", a"), so LoadAll
// reads the same empty document again and again until memory runs out.
// Found by tests/fuzz/fuzz_manifest.cc.
//
//   std::vector<YAML::Node> docs = LoadAllYamlDocuments(text);  // may throw
//
// Errors: throws YAML::ParserException (a YAML::Exception, as LoadAll's own
// errors) at the first document that starts where the previous one did.
//
// Header-only, so that only code already linking yaml-cpp depends on it.
#pragma once

#include <sstream>
#include <string>
#include <vector>

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

namespace skydeck {

namespace yaml_internal {

// Records where each document starts; ignores everything else.
class DocumentStarts final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override { start = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  YAML::Mark start = YAML::Mark::null_mark();
};

}  // namespace yaml_internal

inline std::vector<YAML::Node> LoadAllYamlDocuments(const std::string& text) {
  // A first pass over the events only: every real document consumes at
  // least one token, so a document starting at the previous one's position
  // means the parser is stuck.
  std::istringstream in(text);
  YAML::Parser parser(in);
  yaml_internal::DocumentStarts starts;
  int previous = -1;
  while (parser.HandleNextDocument(starts)) {
    if (starts.start.pos == previous) {
      throw YAML::ParserException(starts.start, "unexpected token at the start of a document");
    }
    previous = starts.start.pos;
  }
  return YAML::LoadAll(text);
}

}  // namespace skydeck
