// File: common/model/label_selector.h
//
// Kubernetes-style label selectors, used by list, bulk desired-state changes
// and the CLI's -l:
//
//   auto sel = LabelSelector::Parse("sweep=lr,team!=infra,size in (s,m),!draft");
//   sel->Matches({{"sweep", "lr"}, {"size", "m"}})  // true
//
// Requirements are ANDed. Forms: `k=v` (also `k==v`), `k!=v` (true when k is
// absent), `k in (a,b)`, `k notin (a,b)`, `k` (has k), `!k` (lacks k).
#pragma once

#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck {

// Longer selectors are refused (a selector is typed or generated, never data).
inline constexpr size_t kMaxSelectorBytes = 4096;

class LabelSelector {
 public:
  enum class Op { kEquals, kNotEquals, kIn, kNotIn, kExists, kNotExists };
  struct Requirement {
    std::string key;
    Op op;
    std::set<std::string> values;
  };

  // Errors: INVALID_ARGUMENT naming the offending requirement.
  static absl::StatusOr<LabelSelector> Parse(absl::string_view text);

  // An empty selector matches everything.
  bool Matches(const std::map<std::string, std::string>& labels) const;
  bool empty() const { return requirements_.empty(); }
  const std::vector<Requirement>& requirements() const { return requirements_; }

 private:
  std::vector<Requirement> requirements_;
};

}  // namespace skydeck
