#include "daemon/service/inferred_schemas.h"

#include <array>
#include <map>
#include <set>

#include "common/model/proto_convert.h"

namespace skydeck::service {
namespace {

constexpr size_t kMaxSeenValues = 20;

skydeck::v1::FlagSchema::Type SchemaType(const FlagValue& v) {
  switch (v.index()) {
    case 0:
      return skydeck::v1::FlagSchema::TYPE_STRING;
    case 1:
      return skydeck::v1::FlagSchema::TYPE_INT;
    case 2:
      return skydeck::v1::FlagSchema::TYPE_FLOAT;
    default:
      return skydeck::v1::FlagSchema::TYPE_BOOL;
  }
}

struct FlagStats {
  std::array<int, 4> type_counts{};
  std::set<FlagValue> values;
};

}  // namespace

std::vector<skydeck::v1::CommandFlagSchema> InferFlagSchemas(
    const std::vector<ExperimentRecord>& experiments) {
  std::map<std::string, std::map<std::string, FlagStats>> by_command;
  for (const auto& e : experiments) {
    auto& flags = by_command[e.spec.base_command];
    for (const auto& [key, value] : e.spec.flags) {
      FlagStats& stats = flags[key];
      stats.type_counts[value.index()]++;
      if (stats.values.size() < kMaxSeenValues) stats.values.insert(value);
    }
  }
  std::vector<skydeck::v1::CommandFlagSchema> out;
  for (const auto& [command, flags] : by_command) {
    skydeck::v1::CommandFlagSchema schema;
    schema.set_base_command(command);
    schema.set_inferred(true);
    for (const auto& [key, stats] : flags) {
      skydeck::v1::FlagSchema* f = schema.add_flags();
      f->set_name(key);
      size_t best = 0;
      for (size_t i = 1; i < stats.type_counts.size(); ++i) {
        if (stats.type_counts[i] > stats.type_counts[best]) best = i;
      }
      for (const FlagValue& v : stats.values) {
        if (v.index() == best) f->set_type(SchemaType(v));
        *f->add_seen_values() = ToProto(v);
      }
    }
    out.push_back(std::move(schema));
  }
  return out;
}

}  // namespace skydeck::service
