// File: cli/sweep_plan.cc
#include "cli/sweep_plan.h"

#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "common/model/validation.h"
#include "common/status_macros.h"

namespace skydeck::cli {
namespace {

bool IsNameByte(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-';
}

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }

}  // namespace

absl::StatusOr<std::vector<GridAxis>> ParseGridAxes(const std::vector<std::string>& words) {
  std::vector<GridAxis> axes;
  std::set<std::string> keys;
  for (const std::string& word : words) {
    size_t eq = word.find('=');
    if (eq == std::string::npos || eq == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("grid \"", word, "\" is not of the form key=v1,v2,..."));
    }
    bool strings = word[eq - 1] == ':';
    GridAxis axis;
    axis.key = word.substr(0, strings ? eq - 1 : eq);
    RETURN_IF_ERROR(ValidateFlagKey(axis.key));
    if (!keys.insert(axis.key).second) {
      return absl::InvalidArgumentError(absl::StrCat("grid ", axis.key, " given more than once"));
    }
    std::set<std::string> seen;
    for (absl::string_view text : absl::StrSplit(absl::string_view(word).substr(eq + 1), ',')) {
      if (text.empty()) {
        return absl::InvalidArgumentError(
            absl::StrCat("grid ", axis.key, ": empty value in \"", word, "\""));
      }
      if (!seen.insert(std::string(text)).second) {
        return absl::InvalidArgumentError(
            absl::StrCat("grid ", axis.key, ": value ", text, " given more than once"));
      }
      axis.texts.emplace_back(text);
      axis.values.push_back(strings ? FlagValue(std::string(text)) : ParseFlagValueText(text));
    }
    axes.push_back(std::move(axis));
  }
  return axes;
}

std::string SanitizeName(absl::string_view text) {
  std::string out;
  out.reserve(text.size() + 1);
  for (char c : text) out.push_back(IsNameByte(c) ? c : '_');
  if (out.empty() || !IsLetter(out.front())) out.insert(out.begin(), 'x');
  return out;
}

std::string SanitizeLabelValue(absl::string_view text) {
  std::string out;
  for (char c : text.substr(0, kMaxLabelValueBytes)) {
    bool bad = c == ',' || c == '=' || c == '(' || c == ')' || c < 0x20 || c > 0x7e;
    out.push_back(bad ? '_' : c);
  }
  return out;
}

absl::StatusOr<std::vector<SweepPoint>> ExpandSweep(
    absl::string_view sweep_name, const std::vector<GridAxis>& axes, const FlagMap& fixed_flags,
    const std::map<std::string, std::string>& extra_labels) {
  std::map<std::string, std::string> base_labels = {{"sweep", std::string(sweep_name)}};
  for (const GridAxis& axis : axes) {
    if (fixed_flags.count(axis.key) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("flag ", axis.key, " is both a --flag and a --grid"));
    }
    base_labels[axis.key] = "";
  }
  for (const auto& [key, value] : extra_labels) {
    if (base_labels.count(key) > 0) {
      return absl::InvalidArgumentError(
          absl::StrCat("label ", key, " is set by the sweep itself (sweep name or a grid key)"));
    }
  }

  size_t total = 1;
  for (const GridAxis& axis : axes) total *= axis.texts.size();
  std::vector<SweepPoint> points;
  points.reserve(total);
  std::vector<size_t> index(axes.size(), 0);
  bool fall_back = false;
  std::set<std::string> names;
  for (size_t n = 0; n < total; ++n) {
    SweepPoint point;
    point.flags = fixed_flags;
    point.labels = extra_labels;
    point.labels["sweep"] = std::string(sweep_name);
    std::string name(sweep_name);
    for (size_t a = 0; a < axes.size(); ++a) {
      const GridAxis& axis = axes[a];
      const FlagValue& value = axis.values[index[a]];
      point.flags[axis.key] = value;
      point.labels[axis.key] = SanitizeLabelValue(FormatFlagValue(value));
      absl::StrAppend(&name, "-", axis.key, "-", axis.texts[index[a]]);
    }
    point.name = SanitizeName(name);
    if (point.name.size() > kMaxNameBytes || !names.insert(point.name).second) fall_back = true;
    points.push_back(std::move(point));
    // Odometer: the last axis varies fastest.
    for (size_t a = axes.size(); a-- > 0;) {
      if (++index[a] < axes[a].texts.size()) break;
      index[a] = 0;
    }
  }
  if (fall_back) {
    for (size_t n = 0; n < points.size(); ++n) {
      points[n].name = absl::StrCat(SanitizeName(sweep_name), "-", n + 1);
    }
  }
  return points;
}

}  // namespace skydeck::cli
