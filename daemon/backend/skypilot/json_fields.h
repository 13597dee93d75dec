// File: daemon/backend/skypilot/json_fields.h
//
// Tolerant readers for fields of JSON the API server sends. A missing key,
// a null or a value of an unexpected type yields the fallback instead of an
// exception, so a new or changed server field can never crash the daemon.
//
//   int64_t id = JsonInt(record, "job_id", -1);
#pragma once

#include <cmath>
#include <cstdint>
#include <string>

#include "nlohmann/json.hpp"

namespace skydeck::backend::skypilot {

inline const nlohmann::json* JsonField(const nlohmann::json& object, const char* key) {
  if (!object.is_object()) return nullptr;
  auto it = object.find(key);
  return it == object.end() || it->is_null() ? nullptr : &*it;
}

inline std::string JsonString(const nlohmann::json& object, const char* key,
                              std::string fallback = "") {
  const nlohmann::json* v = JsonField(object, key);
  return v != nullptr && v->is_string() ? v->get<std::string>() : fallback;
}

inline int64_t JsonInt(const nlohmann::json& object, const char* key, int64_t fallback = 0) {
  const nlohmann::json* v = JsonField(object, key);
  if (v == nullptr) return fallback;
  if (v->is_number_integer()) return v->get<int64_t>();
  if (v->is_number_float()) {
    double d = v->get<double>();
    return std::isfinite(d) ? static_cast<int64_t>(d) : fallback;
  }
  return fallback;
}

inline double JsonDouble(const nlohmann::json& object, const char* key, double fallback = 0) {
  const nlohmann::json* v = JsonField(object, key);
  return v != nullptr && v->is_number() ? v->get<double>() : fallback;
}

// Parses `text` without throwing; a discarded value on error.
inline nlohmann::json ParseJsonOrDiscarded(const std::string& text) {
  return nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
}

}  // namespace skydeck::backend::skypilot
