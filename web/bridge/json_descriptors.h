// File: web/bridge/json_descriptors.h
//
// What the bridge's plain JSON mapping (plain_json.h) needs to know about a
// message or enum type, read once per type from its descriptor and the
// options of skydeck/v1/annotations.proto, then kept for the life of the
// process (descriptors live that long too).
//
//   const JsonMessageInfo& info = JsonMessageInfo::For(Experiment::descriptor());
//   info.FindField("baseCommand");   // base_command (proto name, camelCase or alias)
//   const JsonEnumInfo& e = JsonEnumInfo::For(DesiredState_descriptor());
//   e.ShortName(DESIRED_STATE_RUNNING value)   // "RUNNING"
//   e.Find("stopped")                          // DESIRED_STATE_STOPPED
//
// Thread-safety: For() may be called from any thread; the returned objects
// are immutable.
#pragma once

#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck::web {

// An enum's values by their short names: the name without the prefix the
// style guide puts on every value (the enum's name in UPPER_SNAKE_CASE and
// "_": DESIRED_STATE_RUNNING -> RUNNING, FlagSchema.Type's TYPE_INT -> INT).
// An enum whose values do not all carry the prefix keeps full names.
class JsonEnumInfo {
 public:
  static const JsonEnumInfo& For(const google::protobuf::EnumDescriptor* type);

  absl::string_view ShortName(const google::protobuf::EnumValueDescriptor* value) const;

  // The value named `text`: its short or full name, in any letter case, or
  // its number. Errors: INVALID_ARGUMENT listing the valid short names
  // (the zero "UNSPECIFIED" value is accepted but not advertised).
  absl::StatusOr<const google::protobuf::EnumValueDescriptor*> Find(absl::string_view text) const;

  // "RUNNING, STOPPED, TERMINATED".
  const std::string& valid_names() const { return valid_names_; }

 private:
  explicit JsonEnumInfo(const google::protobuf::EnumDescriptor* type);

  const google::protobuf::EnumDescriptor* type_;
  size_t prefix_length_ = 0;
  std::string valid_names_;
};

class JsonMessageInfo {
 public:
  static const JsonMessageInfo& For(const google::protobuf::Descriptor* type);

  // The field a JSON key names: its proto name, its camelCase JSON name or
  // its `json_alias`; null when none.
  const google::protobuf::FieldDescriptor* FindField(absl::string_view key) const;

  // `json_scalar`: the message is one JSON scalar (see annotations.proto).
  // For such a message, the oneof member of each kind (null when absent).
  bool is_scalar() const { return scalar_; }
  const google::protobuf::FieldDescriptor* string_member() const { return string_member_; }
  const google::protobuf::FieldDescriptor* int_member() const { return int_member_; }
  const google::protobuf::FieldDescriptor* double_member() const { return double_member_; }
  const google::protobuf::FieldDescriptor* bool_member() const { return bool_member_; }

  // A google.protobuf type with its own JSON form (Timestamp, FieldMask, ...).
  bool is_well_known() const { return well_known_; }

  // The `json_inline` field, whose fields may be given at the top level; null
  // when none.
  const google::protobuf::FieldDescriptor* inline_field() const { return inline_field_; }

  // The `sse_text` field; null when none.
  const google::protobuf::FieldDescriptor* sse_text_field() const { return sse_text_field_; }

  // "name, description, base_command, ..." (proto names, in field order).
  const std::string& field_names() const { return field_names_; }

  // Errors: INTERNAL naming the message when an option is used where its
  // REQUIRES does not hold (a json_scalar message that is not one oneof of
  // string/int64/double/bool, json_inline on a repeated or scalar field, a
  // second json_inline field, sse_text on a field that is not bytes/string).
  const absl::Status& options_status() const { return options_status_; }

 private:
  explicit JsonMessageInfo(const google::protobuf::Descriptor* type);
  void ReadScalarOption();
  void ReadFieldOptions();

  const google::protobuf::Descriptor* type_;
  absl::flat_hash_map<std::string, const google::protobuf::FieldDescriptor*> by_key_;
  bool scalar_ = false;
  bool well_known_ = false;
  const google::protobuf::FieldDescriptor* string_member_ = nullptr;
  const google::protobuf::FieldDescriptor* int_member_ = nullptr;
  const google::protobuf::FieldDescriptor* double_member_ = nullptr;
  const google::protobuf::FieldDescriptor* bool_member_ = nullptr;
  const google::protobuf::FieldDescriptor* inline_field_ = nullptr;
  const google::protobuf::FieldDescriptor* sse_text_field_ = nullptr;
  std::string field_names_;
  absl::Status options_status_;
};

}  // namespace skydeck::web
