#include "web/bridge/request_mapping.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "common/status_macros.h"
#include "web/bridge/json_descriptors.h"
#include "web/bridge/plain_json.h"

namespace skydeck::web {
namespace {

using google::protobuf::FieldDescriptor;

const FieldDescriptor* FindField(const google::protobuf::Descriptor* d, absl::string_view name) {
  return JsonMessageInfo::For(d).FindField(name);
}

absl::Status Bad(const FieldDescriptor* f, absl::string_view value, absl::string_view want) {
  return absl::InvalidArgumentError(
      absl::StrCat(f->name(), ": \"", value.substr(0, 64), "\" is not ", want));
}

absl::Status SetOne(const FieldDescriptor* f, absl::string_view value,
                    google::protobuf::Message* m) {
  const auto* r = m->GetReflection();
  bool repeated = f->is_repeated();
  switch (f->cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string s(value);
      repeated ? r->AddString(m, f, s) : r->SetString(m, f, s);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT32: {
      int32_t v;
      if (!absl::SimpleAtoi(value, &v)) return Bad(f, value, "a 32-bit integer");
      repeated ? r->AddInt32(m, f, v) : r->SetInt32(m, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_INT64: {
      int64_t v;
      if (!absl::SimpleAtoi(value, &v)) return Bad(f, value, "an integer");
      repeated ? r->AddInt64(m, f, v) : r->SetInt64(m, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT32: {
      uint32_t v;
      if (!absl::SimpleAtoi(value, &v)) return Bad(f, value, "an unsigned integer");
      repeated ? r->AddUInt32(m, f, v) : r->SetUInt32(m, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_UINT64: {
      uint64_t v;
      if (!absl::SimpleAtoi(value, &v)) return Bad(f, value, "an unsigned integer");
      repeated ? r->AddUInt64(m, f, v) : r->SetUInt64(m, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_DOUBLE:
    case FieldDescriptor::CPPTYPE_FLOAT: {
      double v;
      if (!absl::SimpleAtod(value, &v) || !std::isfinite(v)) return Bad(f, value, "a number");
      if (f->cpp_type() == FieldDescriptor::CPPTYPE_DOUBLE) {
        repeated ? r->AddDouble(m, f, v) : r->SetDouble(m, f, v);
      } else {
        repeated ? r->AddFloat(m, f, static_cast<float>(v))
                 : r->SetFloat(m, f, static_cast<float>(v));
      }
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_BOOL: {
      bool v;
      if (value.empty()) {
        v = true;  // "?force" alone means force=true
      } else if (!absl::SimpleAtob(value, &v)) {
        return Bad(f, value, "true or false");
      }
      repeated ? r->AddBool(m, f, v) : r->SetBool(m, f, v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_ENUM: {
      auto v = JsonEnumInfo::For(f->enum_type()).Find(value);
      if (!v.ok())
        return absl::InvalidArgumentError(absl::StrCat(f->name(), ": ", v.status().message()));
      repeated ? r->AddEnum(m, f, *v) : r->SetEnum(m, f, *v);
      return absl::OkStatus();
    }
    case FieldDescriptor::CPPTYPE_MESSAGE:
      // A well-known type (a time, a duration, a field mask, ...) is
      // parsed as the same string in a body would be (plain_json_parse.cc,
      // which names the field when its JSON form is not a string).
      if (!repeated && JsonMessageInfo::For(f->message_type()).is_well_known()) {
        return PlainJsonToMessage(nlohmann::json{{f->name(), std::string(value)}}, m);
      }
      break;
  }
  return absl::InvalidArgumentError(
      absl::StrCat(f->name(), ": cannot be set from a query parameter; send it in the body"));
}

}  // namespace

absl::Status SetFieldFromText(absl::string_view name, absl::string_view value,
                              google::protobuf::Message* message) {
  const FieldDescriptor* f = FindField(message->GetDescriptor(), name);
  if (f == nullptr) {
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown parameter \"", name.substr(0, 64), "\" for ", message->GetDescriptor()->name(),
        "; its fields are ", JsonMessageInfo::For(message->GetDescriptor()).field_names()));
  }
  if (f->is_repeated() && !f->is_map()) {
    for (absl::string_view part : absl::StrSplit(value, ',', absl::SkipEmpty())) {
      if (absl::Status s = SetOne(f, part, message); !s.ok()) return s;
    }
    return absl::OkStatus();
  }
  return SetOne(f, value, message);
}

absl::Status FillRequest(const std::map<std::string, std::string>& path_params,
                         const QueryParams& query, absl::string_view body,
                         google::protobuf::Message* request) {
  // No body is the empty request, `{}`.
  if (!absl::StripAsciiWhitespace(body).empty()) {
    RETURN_IF_ERROR(PlainJsonTextToMessage(body, request));
  }
  for (const auto& [name, value] : query) {
    if (absl::Status s = SetFieldFromText(name, value, request); !s.ok()) return s;
  }
  for (const auto& [name, value] : path_params) {
    const FieldDescriptor* f = FindField(request->GetDescriptor(), name);
    if (f != nullptr && !f->is_repeated()) request->GetReflection()->ClearField(request, f);
    if (absl::Status s = SetFieldFromText(name, value, request); !s.ok()) return s;
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> MessageToJson(const google::protobuf::Message& message) {
  return MessageToPlainJson(message);
}

}  // namespace skydeck::web
