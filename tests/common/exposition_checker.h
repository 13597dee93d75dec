// File: tests/common/exposition_checker.h
//
// An independent reader of Prometheus's text exposition format (0.0.4) for
// tests: it parses every line the way a Prometheus server would, lists
// every rule the text breaks, and keeps the samples for lookups.
//
//   Exposition e = ParseExposition(text);
//   CHECK(e.problems.empty());
//   CHECK(e.Value("skydeck_grpc_requests_total", {{"method", "m"}, {"code", "OK"}}) == 2);
//
// Rules checked: line grammar (names, label syntax, escapes \\ \" \n only,
// a float value); every sample's family has a TYPE, at most one HELP and
// one TYPE per family, TYPE before its samples; a family's samples
// contiguous; no duplicate series; counters named *_total with values >= 0;
// histograms have per series ascending `le` bounds ending in +Inf,
// non-decreasing bucket counts, `_sum`, and `_count` equal to the +Inf
// bucket.
#pragma once

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace skydeck::testing {

using Labels = std::vector<std::pair<std::string, std::string>>;

struct Exposition {
  struct Sample {
    std::string name;
    Labels labels;  // as written
    double value = 0;
  };
  std::vector<Sample> samples;
  std::map<std::string, std::string> types;  // family -> type
  std::vector<std::string> problems;

  // The value of the series `name{labels}` (labels in any order); nullopt
  // when absent.
  std::optional<double> Value(const std::string& name, Labels labels = {}) const {
    std::sort(labels.begin(), labels.end());
    for (const Sample& s : samples) {
      Labels sorted = s.labels;
      std::sort(sorted.begin(), sorted.end());
      if (s.name == name && sorted == labels) return s.value;
    }
    return std::nullopt;
  }
};

namespace exposition_internal {

inline bool IsNameStart(char c, bool colon_ok) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || (colon_ok && c == ':');
}
inline bool IsNameChar(char c, bool colon_ok) {
  return IsNameStart(c, colon_ok) || std::isdigit(static_cast<unsigned char>(c));
}

// Reads a name at `pos`; empty when there is none.
inline std::string ReadName(const std::string& line, size_t& pos, bool colon_ok) {
  size_t start = pos;
  if (pos < line.size() && IsNameStart(line[pos], colon_ok)) {
    ++pos;
    while (pos < line.size() && IsNameChar(line[pos], colon_ok)) ++pos;
  }
  return line.substr(start, pos - start);
}

inline std::optional<double> ParseValue(const std::string& text) {
  if (text == "+Inf" || text == "Inf") return HUGE_VAL;
  if (text == "-Inf") return -HUGE_VAL;
  if (text == "NaN") return std::nan("");
  if (text.empty()) return std::nullopt;
  char* end = nullptr;
  double v = std::strtod(text.c_str(), &end);
  if (end != text.c_str() + text.size()) return std::nullopt;
  return v;
}

// The family a sample belongs to: histograms' suffixes stripped when the
// stripped name was declared a histogram.
inline std::string FamilyOf(const std::string& name,
                            const std::map<std::string, std::string>& types) {
  for (const char* suffix : {"_bucket", "_sum", "_count"}) {
    std::string s = suffix;
    if (name.size() > s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0) {
      std::string base = name.substr(0, name.size() - s.size());
      auto it = types.find(base);
      if (it != types.end() && it->second == "histogram") return base;
    }
  }
  return name;
}

// Parses `name{labels} value [timestamp]`; adds problems; false when unreadable.
inline bool ParseSampleLine(const std::string& line, Exposition::Sample* out,
                            std::vector<std::string>* problems) {
  auto fail = [&](const std::string& why) {
    problems->push_back(why + ": " + line);
    return false;
  };
  size_t pos = 0;
  out->name = ReadName(line, pos, true);
  if (out->name.empty()) return fail("bad metric name");
  if (pos < line.size() && line[pos] == '{') {
    ++pos;
    std::set<std::string> seen;
    while (pos < line.size() && line[pos] != '}') {
      std::string label = ReadName(line, pos, false);
      if (label.empty()) return fail("bad label name");
      if (!seen.insert(label).second) return fail("repeated label " + label);
      if (pos + 1 >= line.size() || line[pos] != '=' || line[pos + 1] != '"') {
        return fail("label without =\"");
      }
      pos += 2;
      std::string value;
      while (true) {
        if (pos >= line.size()) return fail("unterminated label value");
        char c = line[pos++];
        if (c == '"') break;
        if (c == '\\') {
          if (pos >= line.size()) return fail("dangling backslash");
          char e = line[pos++];
          if (e == 'n') {
            value += '\n';
          } else if (e == '\\' || e == '"') {
            value += e;
          } else {
            return fail("bad escape in label value");
          }
        } else {
          value += c;
        }
      }
      out->labels.emplace_back(label, value);
      if (pos < line.size() && line[pos] == ',') ++pos;
    }
    if (pos >= line.size()) return fail("unterminated label set");
    ++pos;  // '}'
  }
  if (pos >= line.size() || line[pos] != ' ') return fail("no space before the value");
  std::istringstream rest(line.substr(pos + 1));
  std::string value, timestamp, extra;
  rest >> value >> timestamp >> extra;
  if (!extra.empty()) return fail("trailing text");
  std::optional<double> v = ParseValue(value);
  if (!v) return fail("bad value");
  out->value = *v;
  return true;
}

inline void CheckHistogram(const std::string& family, const Exposition& e,
                           std::vector<std::string>* problems) {
  struct Series {
    std::vector<std::pair<double, double>> buckets;  // (le, count) in text order
    std::optional<double> sum, count;
  };
  std::map<Labels, Series> series;
  for (const auto& s : e.samples) {
    if (FamilyOf(s.name, e.types) != family) continue;
    Labels key;
    std::optional<double> le;
    for (const auto& [k, v] : s.labels) {
      if (k == "le") {
        le = ParseValue(v);
        if (!le) problems->push_back(family + ": bad le \"" + v + "\"");
      } else {
        key.emplace_back(k, v);
      }
    }
    Series& ser = series[key];
    if (s.name == family + "_bucket") {
      if (!le) {
        problems->push_back(family + "_bucket without le");
        continue;
      }
      ser.buckets.emplace_back(*le, s.value);
    } else if (s.name == family + "_sum") {
      ser.sum = s.value;
    } else if (s.name == family + "_count") {
      ser.count = s.value;
    } else {
      problems->push_back(family + ": a histogram has a plain sample " + s.name);
    }
  }
  for (const auto& [labels, ser] : series) {
    if (ser.buckets.empty() || !std::isinf(ser.buckets.back().first)) {
      problems->push_back(family + ": buckets do not end with le=\"+Inf\"");
      continue;
    }
    for (size_t i = 1; i < ser.buckets.size(); ++i) {
      if (!(ser.buckets[i].first > ser.buckets[i - 1].first)) {
        problems->push_back(family + ": le bounds not ascending");
      }
      if (ser.buckets[i].second < ser.buckets[i - 1].second) {
        problems->push_back(family + ": bucket counts not cumulative");
      }
    }
    if (!ser.sum) problems->push_back(family + ": no _sum");
    if (!ser.count) {
      problems->push_back(family + ": no _count");
    } else if (*ser.count != ser.buckets.back().second) {
      problems->push_back(family + ": _count differs from the +Inf bucket");
    }
  }
}

}  // namespace exposition_internal

inline Exposition ParseExposition(const std::string& text) {
  namespace in = exposition_internal;
  Exposition e;
  std::set<std::string> helps, finished_families;
  std::string current_family;
  std::set<std::pair<std::string, Labels>> seen_series;
  std::istringstream lines(text);
  std::string line;
  if (!text.empty() && text.back() != '\n') e.problems.push_back("text does not end in a newline");
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    if (line[0] == '#') {
      std::istringstream words(line.substr(1));
      std::string keyword, name, rest;
      words >> keyword >> name;
      if (keyword != "HELP" && keyword != "TYPE") continue;  // a plain comment
      if (name.empty()) {
        e.problems.push_back("# " + keyword + " without a name");
        continue;
      }
      if (keyword == "HELP") {
        if (!helps.insert(name).second) e.problems.push_back("second HELP for " + name);
        continue;
      }
      words >> rest;
      static const std::set<std::string> kTypes = {"counter", "gauge", "histogram", "summary",
                                                   "untyped"};
      if (kTypes.count(rest) == 0) e.problems.push_back("unknown type " + rest + " for " + name);
      if (e.types.count(name) != 0) e.problems.push_back("second TYPE for " + name);
      bool has_samples = std::any_of(e.samples.begin(), e.samples.end(), [&](const auto& s) {
        return in::FamilyOf(s.name, e.types) == name;
      });
      if (has_samples) e.problems.push_back("TYPE after samples for " + name);
      e.types[name] = rest;
      continue;
    }
    Exposition::Sample sample;
    if (!in::ParseSampleLine(line, &sample, &e.problems)) continue;
    std::string family = in::FamilyOf(sample.name, e.types);
    if (family != current_family) {
      if (finished_families.count(family) != 0) {
        e.problems.push_back("samples of " + family + " are not contiguous");
      }
      if (!current_family.empty()) finished_families.insert(current_family);
      current_family = family;
    }
    Labels sorted = sample.labels;
    std::sort(sorted.begin(), sorted.end());
    if (!seen_series.insert({sample.name, sorted}).second) {
      e.problems.push_back("duplicate series: " + line);
    }
    auto type = e.types.find(family);
    if (type == e.types.end()) e.problems.push_back("sample without a TYPE: " + line);
    if (type != e.types.end() && type->second == "counter") {
      if (family.size() < 6 || family.compare(family.size() - 6, 6, "_total") != 0) {
        e.problems.push_back("counter not named *_total: " + family);
      }
      if (sample.value < 0) e.problems.push_back("negative counter: " + line);
    }
    e.samples.push_back(std::move(sample));
  }
  for (const auto& [family, type] : e.types) {
    if (type == "histogram") in::CheckHistogram(family, e, &e.problems);
  }
  return e;
}

}  // namespace skydeck::testing
