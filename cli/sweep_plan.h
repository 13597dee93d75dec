// File: cli/sweep_plan.h
//
// The pure part of `skydeck sweep`: turning `--grid key=v1,v2` words into
// the cartesian product of flag assignments, each with a readable
// experiment name and the labels that let a selector find it again. No
// I/O, so every rule here is unit-tested without a daemon.
//
//   ASSIGN_OR_RETURN(std::vector<GridAxis> axes,
//                    ParseGridAxes({"lr=1e-4,3e-4", "model.layers=1,4"}));
//   ASSIGN_OR_RETURN(std::vector<SweepPoint> points, ExpandSweep("lr", axes, {}));
//   // points[1].name == "lr-lr-1e-4-model.layers-4"
//   // points[1].labels == {{"lr", "0.0001"}, {"model.layers", "4"}, {"sweep", "lr"}}
#pragma once

#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

#include "common/model/flag_value.h"

namespace skydeck::cli {

// One `--grid` word: a flag key and the values it takes, in the order given.
struct GridAxis {
  std::string key;
  // The words as typed (for names) and their typed values (for flags);
  // same length, same order.
  std::vector<std::string> texts;
  std::vector<FlagValue> values;
};

// ParseGridAxes()
//
// Each word is `key=v1,v2,...` (values typed like `--flag k=v`) or
// `key:=v1,v2,...` (all strings). Values cannot contain ','. Errors:
// INVALID_ARGUMENT for a missing '=', an invalid key, an empty value, a value
// given twice on one axis, or a key on two axes.
absl::StatusOr<std::vector<GridAxis>> ParseGridAxes(const std::vector<std::string>& words);

// One experiment of a sweep.
struct SweepPoint {
  std::string name;
  // The fixed flags with this point's grid values on top.
  FlagMap flags;
  // `sweep=<sweep name>`, one label per axis (key = flag key, value =
  // FormatFlagValue of the value, sanitized by SanitizeLabelValue), and the
  // extra labels.
  std::map<std::string, std::string> labels;
};

// ExpandSweep()
//
// The cartesian product of `axes`, the first axis varying slowest. Names are
// `<sweep>-<key>-<text>-...` sanitized by SanitizeName; when any such name is
// longer than 63 bytes or two points would share one, every point is named
// `<sweep>-<index>` (1-based) instead, so names stay predictable within a
// sweep. With no axes, one point named `<sweep>`. Errors: INVALID_ARGUMENT
// when a grid key is also a fixed flag or an extra label key clashes with a
// generated one.
absl::StatusOr<std::vector<SweepPoint>> ExpandSweep(
    absl::string_view sweep_name, const std::vector<GridAxis>& axes, const FlagMap& fixed_flags,
    const std::map<std::string, std::string>& extra_labels = {});

// Every byte outside [A-Za-z0-9._-] becomes '_' (so "a/b" -> "a_b"); an
// empty result or one not starting with a letter gets an "x" prefix.
// Length is not limited here.
std::string SanitizeName(absl::string_view text);

// Label values may not contain ',', '=', '(' or ')' nor non-printable bytes
// (selector syntax): each such byte becomes '_'; cut to 256 bytes.
std::string SanitizeLabelValue(absl::string_view text);

}  // namespace skydeck::cli
