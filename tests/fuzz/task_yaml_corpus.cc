// task_yaml_corpus: renders SkyPilot task YAML (daemon/backend/skypilot/
// task_yaml.h) for a fuzzed corpus of job specs and prints one JSON object
// per line: {"yaml": <the task>, "expect": {<what a reader must find>}}.
// task_yaml_pyyaml_test.py then parses every task with PyYAML, which is what
// SkyPilot's API server uses, and compares.
//
//   task_yaml_corpus [--count N] [--seed S] > corpus.jsonl
//
// Strings are drawn from the characters a YAML reader is likely to refuse,
// fold or rewrite (every C0 and C1 control, DEL, NEL, LS/PS, BOM,
// noncharacters, quotes, backslashes, YAML indicators) mixed with ordinary
// ASCII and multi-byte text. The first specs carry each special character
// alone, the rest are random. Flag values go through RenderCommand, so the
// expected `run` is the command the daemon records for the job.
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "nlohmann/json.hpp"

#include "common/model/command_line.h"
#include "daemon/backend/skypilot/task_yaml.h"

namespace {

using skydeck::backend::JobSpec;

std::string Utf8(char32_t cp) {
  std::string out;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return out;
}

// Code points a YAML reader may refuse, fold or rewrite, plus YAML syntax.
std::vector<char32_t> SpecialCodePoints() {
  std::vector<char32_t> out;
  for (char32_t c = 0; c < 0x20; ++c) out.push_back(c);
  for (char32_t c = 0x7F; c <= 0xA0; ++c) out.push_back(c);
  for (char32_t c : {0x2028, 0x2029, 0xFEFF, 0xFFFD, 0xFFFE, 0xFFFF, 0xFDD0, 0xFDEF, 0x1FFFE,
                     0x1FFFF, 0x10FFFE, 0x10FFFF, 0xE000, 0xD7FF, 0x1F680}) {
    out.push_back(c);
  }
  for (char c : std::string("\"'\\:#-?[]{},&*!|>%@` ")) out.push_back(static_cast<char32_t>(c));
  return out;
}

class TextSource {
 public:
  explicit TextSource(uint32_t seed) : rng_(seed), special_(SpecialCodePoints()) {}

  std::string Random(size_t max_len) {
    std::string out;
    size_t len = Pick(max_len + 1);
    for (size_t i = 0; i < len; ++i) {
      switch (Pick(4)) {
        case 0:
          out += Utf8(special_[Pick(special_.size())]);
          break;
        case 1:
          out += Utf8(static_cast<char32_t>(0x20 + Pick(0x5F)));
          break;
        case 2:
          out += Utf8(static_cast<char32_t>(0xA0 + Pick(0xD800 - 0xA0)));
          break;
        default:
          out += Utf8(static_cast<char32_t>(0x10000 + Pick(0x100000)));
          break;
      }
    }
    return out;
  }
  const std::vector<char32_t>& special() const { return special_; }
  size_t Pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng_); }

 private:
  std::mt19937 rng_;
  std::vector<char32_t> special_;
};

JobSpec MakeSpec(TextSource& text, size_t index, const std::string& fixed) {
  bool special_only = !fixed.empty();
  auto field = [&](size_t max_len) { return special_only ? fixed : text.Random(max_len); };
  JobSpec spec;
  spec.name = "skydeck-corpus-" + std::to_string(index);
  skydeck::FlagMap flags;
  flags["value"] = field(24);
  flags["other.key"] = field(8);
  spec.command = skydeck::RenderCommand("echo " + field(16), flags);
  spec.nodes = 1 + static_cast<int>(index % 3);
  spec.gpus_per_node = static_cast<int>(index % 2);
  spec.gpu_type = field(8) + "H100";
  spec.infra = field(8);
  spec.env = {{"SKYDECK_EXPERIMENT", "exp-" + std::to_string(index)},
              {"SKYDECK_RUN_NAME", field(16)}};
  return spec;
}

nlohmann::json Expect(const JobSpec& spec) {
  nlohmann::json envs = nlohmann::json::object();
  for (const auto& [k, v] : spec.env) envs[k] = v;
  nlohmann::json e = {
      {"name", spec.name}, {"run", spec.command}, {"envs", envs}, {"num_nodes", spec.nodes}};
  if (!spec.infra.empty()) e["infra"] = spec.infra;
  if (spec.gpus_per_node > 0) {
    e["accelerators"] = spec.gpu_type + ":" + std::to_string(spec.gpus_per_node);
  }
  return e;
}

}  // namespace

int main(int argc, char** argv) {
  size_t count = 2000;
  uint32_t seed = 20261207;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string flag = argv[i];
    if (flag == "--count")
      count = std::strtoul(argv[i + 1], nullptr, 10);
    else if (flag == "--seed")
      seed = static_cast<uint32_t>(std::strtoul(argv[i + 1], nullptr, 10));
    else {
      std::cerr << "usage: task_yaml_corpus [--count N] [--seed S]\n";
      return 2;
    }
  }
  TextSource text(seed);
  skydeck::backend::skypilot::TaskYamlOptions options;
  options.setup = "pip install -r requirements.txt";
  size_t fixed_specs = text.special().size();
  for (size_t i = 0; i < fixed_specs + count; ++i) {
    std::string fixed = i < fixed_specs ? Utf8(text.special()[i]) : "";
    JobSpec spec = MakeSpec(text, i, fixed);
    auto yaml = skydeck::backend::skypilot::RenderTaskYaml(spec, options);
    if (!yaml.ok()) {
      std::cerr << "spec " << i << ": " << yaml.status() << "\n";
      return 1;
    }
    nlohmann::json line = {{"seed", seed}, {"index", i}, {"yaml", *yaml}, {"expect", Expect(spec)}};
    std::cout << line.dump() << "\n";
  }
  return 0;
}
