// File: daemon/reconcile/condition_list.h
//
// Reading and writing one condition in an experiment's list of conditions
// (types in common/model/conditions.h). A condition's last transition time
// moves only when its status flips, as in Kubernetes.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"

#include "common/model/records.h"

namespace skydeck::reconcile {

// The condition of `type`, or null when the list has none.
const skydeck::Condition* FindCondition(const std::vector<skydeck::Condition>& conditions,
                                        absl::string_view type);

// Whether the condition of `type` is present and true.
bool ConditionTrue(const std::vector<skydeck::Condition>& conditions, absl::string_view type);

// Sets (or adds) the condition of `type`; its last_transition_ms becomes
// `now_ms` when it is added or its status changes.
void SetCondition(std::vector<skydeck::Condition>& conditions, absl::string_view type, bool status,
                  absl::string_view reason, absl::string_view message, int64_t now_ms);

}  // namespace skydeck::reconcile
