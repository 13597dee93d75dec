#include "daemon/reconcile/condition_list.h"

namespace skydeck::reconcile {

const skydeck::Condition* FindCondition(const std::vector<skydeck::Condition>& conditions,
                                        absl::string_view type) {
  for (const skydeck::Condition& c : conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

bool ConditionTrue(const std::vector<skydeck::Condition>& conditions, absl::string_view type) {
  const skydeck::Condition* c = FindCondition(conditions, type);
  return c != nullptr && c->status;
}

void SetCondition(std::vector<skydeck::Condition>& conditions, absl::string_view type, bool status,
                  absl::string_view reason, absl::string_view message, int64_t now_ms) {
  for (skydeck::Condition& c : conditions) {
    if (c.type != type) continue;
    if (c.status != status) c.last_transition_ms = now_ms;
    c.status = status;
    c.reason = std::string(reason);
    c.message = std::string(message);
    return;
  }
  conditions.push_back(skydeck::Condition{std::string(type), status, std::string(reason),
                                          std::string(message), now_ms});
}

}  // namespace skydeck::reconcile
