#include "common/model/json_schema_import.h"

#include <cmath>
#include <limits>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

#include "common/model/validation.h"
#include "common/status_macros.h"

namespace skydeck {
namespace {

using json = nlohmann::json;

constexpr int kMaxDepth = 32;
// JSON nesting accepted at all. Copying or printing a json value recurses
// once per level, so a file nested 10^5 deep would overflow the stack;
// Pydantic nests a few levels per model and Walk stops at kMaxDepth models.
constexpr int kMaxJsonNesting = 256;

// Whether `root` nests deeper than `limit`, without recursing.
bool NestedDeeperThan(const json& root, int limit) {
  std::vector<std::pair<const json*, int>> stack = {{&root, 0}};
  while (!stack.empty()) {
    auto [node, depth] = stack.back();
    stack.pop_back();
    if (depth > limit) return true;
    if (!node->is_structured()) continue;
    for (const json& child : *node) stack.emplace_back(&child, depth + 1);
  }
  return false;
}

class Importer {
 public:
  Importer(const json& root, JsonSchemaImport* out) : root_(root), out_(out) {}

  // Imports the property schema `raw` named `name` (dotted). `required` is true
  // when it and all its ancestors are required; `inherited_default` is the
  // value the parent's default object gives it, if any.
  void Walk(const json& raw, const std::string& name, bool required, const json* inherited_default,
            int depth) {
    if (depth > kMaxDepth) return Skip(name, "nested too deep (recursive model?)");
    // Annotations on the referring node (description, default) win over the
    // definition's own.
    std::string description = Text(raw, "description");
    const json* default_value = Member(raw, "default");
    std::vector<std::string> refs;
    absl::StatusOr<const json*> resolved = Resolve(raw, &refs);
    if (!resolved.ok()) return Skip(name, std::string(resolved.status().message()));
    for (const std::string& ref : refs) {
      if (active_refs_.contains(ref)) {
        return Skip(name, absl::StrCat("recursive model (", ref, ")"));
      }
    }
    const json& node = **resolved;
    if (description.empty()) description = Text(node, "description");
    if (default_value == nullptr) default_value = Member(node, "default");
    if (default_value == nullptr) default_value = inherited_default;
    if (default_value != nullptr && default_value->is_null()) default_value = nullptr;

    // Optional[X] / X | None: drop the null branch.
    for (const std::string key : {"anyOf", "oneOf"}) {
      const json* branches = Member(node, key);
      if (branches == nullptr) continue;
      if (!branches->is_array()) return Skip(name, absl::StrCat(key, " is not an array"));
      std::vector<const json*> kept;
      for (const json& b : *branches) {
        if (!IsNull(b)) kept.push_back(&b);
      }
      bool nullable = kept.size() < branches->size();
      if (kept.size() == 1) {
        if (!kept[0]->is_object()) return Skip(name, absl::StrCat(key, " branch is not a schema"));
        json merged = *kept[0];
        if (!description.empty()) merged["description"] = description;
        if (default_value != nullptr) merged["default"] = *default_value;
        return Walk(merged, name, required && !nullable, nullptr, depth + 1);
      }
      if (AllNumeric(kept)) {
        json merged = {{"type", "number"}};
        if (!description.empty()) merged["description"] = description;
        if (default_value != nullptr) merged["default"] = *default_value;
        return Walk(merged, name, required && !nullable, nullptr, depth + 1);
      }
      return Skip(name, absl::StrCat("union (", key, ") of different types has no flag form"));
    }

    FlagSpec spec;
    spec.name = name;
    spec.description = description;
    spec.required = required && default_value == nullptr;

    if (const json* choices = Member(node, "enum"); choices != nullptr) {
      if (!choices->is_array() || choices->empty()) return Skip(name, "enum without values");
      for (const json& c : *choices) {
        if (c.is_null()) continue;  // Optional enum
        if (!IsScalar(c)) return Skip(name, "enum of non-scalar values");
        spec.choices.push_back(ScalarText(c));
      }
      spec.type = FlagType::kChoice;
      return Add(std::move(spec), default_value);
    }
    if (const json* c = Member(node, "const"); c != nullptr) {
      if (!IsScalar(*c)) return Skip(name, "const of a non-scalar value");
      spec.type = FlagType::kChoice;
      spec.choices.push_back(ScalarText(*c));
      return Add(std::move(spec), default_value);
    }

    std::string type;
    if (const json* t = Member(node, "type"); t != nullptr) {
      if (t->is_string()) {
        type = t->get<std::string>();
      } else if (t->is_array()) {
        // ["integer", "null"]
        std::vector<std::string> types;
        for (const json& x : *t) {
          if (x.is_string() && x.get<std::string>() != "null") {
            types.push_back(x.get<std::string>());
          }
        }
        if (types.size() == 1) {
          type = types[0];
          spec.required = false;
        } else {
          return Skip(name, "union of different types has no flag form");
        }
      }
    } else if (Member(node, "properties") != nullptr) {
      type = "object";
    }

    if (type == "object") {
      const json* properties = Member(node, "properties");
      if (properties == nullptr || !properties->is_object() || properties->empty()) {
        return Skip(name, "object without properties (dict) has no flag form");
      }
      for (const std::string& ref : refs) active_refs_.insert(ref);
      const json* required_list = Member(node, "required");
      for (const auto& [key, child] : properties->items()) {
        bool child_required = false;
        if (required_list != nullptr && required_list->is_array()) {
          for (const json& r : *required_list) child_required |= (r == key);
        }
        const json* child_default = nullptr;
        if (default_value != nullptr && default_value->is_object()) {
          child_default = Member(*default_value, key);
        }
        Walk(child, name.empty() ? key : absl::StrCat(name, ".", key), required && child_required,
             child_default, depth + 1);
      }
      for (const std::string& ref : refs) active_refs_.erase(ref);
      return;
    }
    if (type == "array") return Skip(name, "array (list) has no flag form");
    if (type == "integer") {
      spec.type = FlagType::kInt;
    } else if (type == "number") {
      spec.type = FlagType::kFloat;
    } else if (type == "boolean") {
      spec.type = FlagType::kBool;
    } else if (type == "string") {
      spec.type = FlagType::kString;
    } else if (type.empty()) {
      return Skip(name, "no type (Any) has no flag form");
    } else {
      return Skip(name, absl::StrCat("type \"", type, "\" has no flag form"));
    }
    if (spec.type == FlagType::kInt || spec.type == FlagType::kFloat) {
      bool is_int = spec.type == FlagType::kInt;
      if (const json* m = Member(node, "minimum"); m && m->is_number()) spec.min = m->get<double>();
      if (const json* m = Member(node, "maximum"); m && m->is_number()) spec.max = m->get<double>();
      if (const json* m = Member(node, "exclusiveMinimum"); m && m->is_number()) {
        double v = m->get<double>();
        spec.min =
            is_int ? std::floor(v) + 1 : std::nextafter(v, std::numeric_limits<double>::infinity());
      }
      if (const json* m = Member(node, "exclusiveMaximum"); m && m->is_number()) {
        double v = m->get<double>();
        spec.max =
            is_int ? std::ceil(v) - 1 : std::nextafter(v, -std::numeric_limits<double>::infinity());
      }
    }
    return Add(std::move(spec), default_value);
  }

 private:
  static const json* Member(const json& node, const std::string& key) {
    if (!node.is_object()) return nullptr;
    auto it = node.find(key);
    return it == node.end() ? nullptr : &*it;
  }
  static std::string Text(const json& node, const std::string& key) {
    const json* v = Member(node, key);
    return v != nullptr && v->is_string() ? v->get<std::string>() : "";
  }
  static bool IsScalar(const json& v) { return v.is_string() || v.is_boolean() || v.is_number(); }
  static std::string ScalarText(const json& v) {
    if (v.is_string()) return v.get<std::string>();
    if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
    if (v.is_number_integer()) return FormatFlagValue(v.get<int64_t>());
    return FormatFlagValue(v.get<double>());
  }
  bool IsNull(const json& b) const {
    const json* t = Member(b, "type");
    return t != nullptr && t->is_string() && *t == "null";
  }
  bool AllNumeric(const std::vector<const json*>& branches) {
    if (branches.empty()) return false;
    for (const json* b : branches) {
      auto r = Resolve(*b, nullptr);
      if (!r.ok()) return false;
      const json* t = Member(**r, "type");
      if (t == nullptr || !(*t == "integer" || *t == "number")) return false;
    }
    return true;
  }

  // Follows "$ref" (and "allOf" of one schema) to the definition; appends
  // the refs followed to `refs` when not null.
  absl::StatusOr<const json*> Resolve(const json& node, std::vector<std::string>* refs) {
    const json* current = &node;
    for (int i = 0; i < kMaxDepth; ++i) {
      if (const json* all_of = Member(*current, "allOf"); all_of != nullptr) {
        if (!all_of->is_array() || all_of->size() != 1) {
          return absl::InvalidArgumentError("allOf of several schemas has no flag form");
        }
        current = &(*all_of)[0];
        continue;
      }
      const json* ref = Member(*current, "$ref");
      if (ref == nullptr) return current;
      if (!ref->is_string()) return absl::InvalidArgumentError("$ref is not a string");
      std::string target = ref->get<std::string>();
      if (refs != nullptr) refs->push_back(target);
      if (!absl::StartsWith(target, "#/")) {
        return absl::InvalidArgumentError(absl::StrCat("external $ref ", target));
      }
      // A malformed pointer ("#/a~x", an index too large) throws.
      try {
        json::json_pointer pointer(target.substr(1));
        if (!root_.contains(pointer)) {
          return absl::InvalidArgumentError(absl::StrCat("unresolved $ref ", target));
        }
        current = &root_.at(pointer);
      } catch (const json::exception&) {
        return absl::InvalidArgumentError(absl::StrCat("malformed $ref ", target));
      }
    }
    return absl::InvalidArgumentError("$ref chain too long");
  }

  void Add(FlagSpec spec, const json* default_value) {
    if (absl::Status s = ValidateFlagKey(spec.name); !s.ok()) {
      return Skip(spec.name, absl::StrCat("not a valid flag name: ", s.message()));
    }
    if (default_value != nullptr) {
      if (IsScalar(*default_value)) {
        if (default_value->is_string()) {
          spec.default_value = default_value->get<std::string>();
        } else if (default_value->is_boolean()) {
          spec.default_value = default_value->get<bool>();
        } else if (default_value->is_number_integer()) {
          spec.default_value = default_value->get<int64_t>();
        } else {
          spec.default_value = default_value->get<double>();
        }
      } else {
        out_->skipped.push_back(absl::StrCat(spec.name, ": default ", default_value->dump(),
                                             " dropped (not a scalar)"));
      }
    }
    out_->schema.flags.push_back(std::move(spec));
  }

  void Skip(const std::string& name, const std::string& why) {
    out_->skipped.push_back(absl::StrCat(name.empty() ? "(root)" : name, ": ", why));
  }

  const json& root_;
  JsonSchemaImport* out_;
  // Definitions being expanded on the current path (cycle detection).
  std::set<std::string> active_refs_;
};

}  // namespace

absl::StatusOr<JsonSchemaImport> ImportJsonSchema(const json& json_schema,
                                                  const std::string& base_command, bool strict) {
  if (!json_schema.is_object() || !json_schema.contains("properties") ||
      !json_schema["properties"].is_object()) {
    return absl::InvalidArgumentError("JSON Schema: want an object schema with \"properties\"");
  }
  if (NestedDeeperThan(json_schema, kMaxJsonNesting)) {
    return absl::InvalidArgumentError(
        absl::StrCat("JSON Schema: nested deeper than ", kMaxJsonNesting, " levels"));
  }
  JsonSchemaImport out;
  out.schema.base_command = base_command;
  out.schema.strict = strict;
  Importer importer(json_schema, &out);
  importer.Walk(json_schema, "", /*required=*/true, nullptr, 0);
  // A default that breaks its own flag's bounds or choices is dropped and
  // reported instead of failing the whole import.
  for (FlagSpec& f : out.schema.flags) {
    if (!f.default_value) continue;
    FlagSchema one{.base_command = base_command, .flags = {f}};
    one.flags[0].required = false;
    if (absl::Status s = ValidateFlagSchema(one); !s.ok()) {
      out.skipped.push_back(absl::StrCat(f.name, ": default dropped: ", s.message()));
      f.default_value.reset();
    } else {
      f.default_value = one.flags[0].default_value;
    }
  }
  RETURN_IF_ERROR(ValidateFlagSchema(out.schema));
  return out;
}

}  // namespace skydeck
