#include "daemon/backend/skypilot/backend_job_id.h"

#include <charconv>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

#include "daemon/backend/skypilot/json_fields.h"

namespace skydeck::backend::skypilot {

std::string LaunchId(absl::string_view request_id) {
  return absl::StrCat(kLaunchIdPrefix, request_id);
}

std::optional<std::string> ParseLaunchRequestId(absl::string_view id) {
  if (!absl::ConsumePrefix(&id, kLaunchIdPrefix) || id.empty() || id.size() > 64) {
    return std::nullopt;
  }
  for (char c : id) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c)) && c != '-') return std::nullopt;
  }
  return std::string(id);
}

std::optional<int64_t> ParseManagedJobId(absl::string_view id) {
  int64_t value = 0;
  auto [end, ec] = std::from_chars(id.data(), id.data() + id.size(), value);
  if (id.empty() || ec != std::errc() || end != id.data() + id.size() || value < 0) {
    return std::nullopt;
  }
  return value;
}

std::optional<int64_t> JobIdFromLaunchResult(const nlohmann::json& value) {
  const nlohmann::json* v = &value;
  if (value.is_object()) {
    v = JsonField(value, "job_id");
    if (v == nullptr) return std::nullopt;
  }
  if (v->is_array()) {
    if (v->empty()) return std::nullopt;
    v = &v->front();
  }
  if (v->is_number_integer() && v->get<int64_t>() >= 0) return v->get<int64_t>();
  return std::nullopt;
}

}  // namespace skydeck::backend::skypilot
