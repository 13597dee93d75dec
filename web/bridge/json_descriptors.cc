#include "web/bridge/json_descriptors.h"

#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"

#include "skydeck/v1/annotations.pb.h"

namespace skydeck::web {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;
using google::protobuf::FieldDescriptor;

// "DesiredState" -> "DESIRED_STATE_".
std::string ValuePrefix(absl::string_view enum_name) {
  std::string out;
  for (size_t i = 0; i < enum_name.size(); ++i) {
    char c = enum_name[i];
    if (i > 0 && absl::ascii_isupper(c) && !absl::ascii_isupper(enum_name[i - 1])) out += '_';
    out += absl::ascii_toupper(c);
  }
  return out + "_";
}

// A cache of T built once per descriptor, never freed (descriptors are not
// freed either).
template <typename Key, typename T>
class InfoCache {
 public:
  template <typename Make>
  const T& Get(const Key* key, Make make) {
    {
      absl::ReaderMutexLock lock(&mu_);
      auto it = map_.find(key);
      if (it != map_.end()) return *it->second;
    }
    std::unique_ptr<T> built = make();  // outside the lock: may recurse
    absl::MutexLock lock(&mu_);
    auto [it, inserted] = map_.try_emplace(key, std::move(built));
    return *it->second;
  }

 private:
  absl::Mutex mu_;
  absl::flat_hash_map<const Key*, std::unique_ptr<T>> map_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

// ---- JsonEnumInfo ----------------------------------------------------------

const JsonEnumInfo& JsonEnumInfo::For(const EnumDescriptor* type) {
  static auto* cache = new InfoCache<EnumDescriptor, JsonEnumInfo>();  // never freed
  return cache->Get(type, [type] { return std::unique_ptr<JsonEnumInfo>(new JsonEnumInfo(type)); });
}

JsonEnumInfo::JsonEnumInfo(const EnumDescriptor* type) : type_(type) {
  std::string prefix = ValuePrefix(type->name());
  bool all_prefixed = true;
  for (int i = 0; i < type->value_count(); ++i) {
    const std::string& name = type->value(i)->name();
    all_prefixed &= absl::StartsWith(name, prefix) && name.size() > prefix.size();
  }
  prefix_length_ = all_prefixed ? prefix.size() : 0;
  std::vector<absl::string_view> names;
  for (int i = 0; i < type->value_count(); ++i) {
    if (type->value(i)->number() != 0) names.push_back(ShortName(type->value(i)));
  }
  valid_names_ = absl::StrJoin(names, ", ");
}

absl::string_view JsonEnumInfo::ShortName(const EnumValueDescriptor* value) const {
  return absl::string_view(value->name()).substr(prefix_length_);
}

absl::StatusOr<const EnumValueDescriptor*> JsonEnumInfo::Find(absl::string_view text) const {
  std::string upper = absl::AsciiStrToUpper(text);
  if (const EnumValueDescriptor* v = type_->FindValueByName(upper)) return v;
  if (prefix_length_ > 0) {
    std::string full =
        absl::StrCat(absl::string_view(type_->value(0)->name()).substr(0, prefix_length_), upper);
    if (const EnumValueDescriptor* v = type_->FindValueByName(full)) return v;
  }
  int number;
  if (absl::SimpleAtoi(text, &number)) {
    if (const EnumValueDescriptor* v = type_->FindValueByNumber(number)) return v;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("\"", text.substr(0, 64), "\" is not one of ", valid_names_));
}

// ---- JsonMessageInfo -------------------------------------------------------

const JsonMessageInfo& JsonMessageInfo::For(const Descriptor* type) {
  static auto* cache = new InfoCache<Descriptor, JsonMessageInfo>();  // never freed
  return cache->Get(type,
                    [type] { return std::unique_ptr<JsonMessageInfo>(new JsonMessageInfo(type)); });
}

JsonMessageInfo::JsonMessageInfo(const Descriptor* type) : type_(type) {
  well_known_ = absl::StartsWith(type->full_name(), "google.protobuf.");
  std::vector<absl::string_view> names;
  for (int i = 0; i < type->field_count(); ++i) {
    const FieldDescriptor* f = type->field(i);
    names.push_back(f->name());
    by_key_.try_emplace(f->name(), f);
    by_key_.try_emplace(f->json_name(), f);
  }
  field_names_ = absl::StrJoin(names, ", ");
  ReadScalarOption();
  ReadFieldOptions();
}

void JsonMessageInfo::ReadScalarOption() {
  if (!type_->options().GetExtension(skydeck::v1::json_scalar)) return;
  scalar_ = true;
  auto bad = [this](absl::string_view why) {
    options_status_ =
        absl::InternalError(absl::StrCat(type_->full_name(), " is marked json_scalar but ", why));
  };
  if (type_->oneof_decl_count() != 1 ||
      type_->oneof_decl(0)->field_count() != type_->field_count()) {
    return bad("is not exactly one oneof");
  }
  for (int i = 0; i < type_->field_count(); ++i) {
    const FieldDescriptor* f = type_->field(i);
    const FieldDescriptor** slot = nullptr;
    switch (f->cpp_type()) {
      case FieldDescriptor::CPPTYPE_STRING:
        slot = f->type() == FieldDescriptor::TYPE_STRING ? &string_member_ : nullptr;
        break;
      case FieldDescriptor::CPPTYPE_INT64:
        slot = &int_member_;
        break;
      case FieldDescriptor::CPPTYPE_DOUBLE:
        slot = &double_member_;
        break;
      case FieldDescriptor::CPPTYPE_BOOL:
        slot = &bool_member_;
        break;
      default:
        break;
    }
    if (slot == nullptr)
      return bad(absl::StrCat("member ", f->name(), " is not string/int64/double/bool"));
    if (*slot != nullptr) return bad(absl::StrCat("has two members of the kind of ", f->name()));
    *slot = f;
  }
}

void JsonMessageInfo::ReadFieldOptions() {
  for (int i = 0; i < type_->field_count(); ++i) {
    const FieldDescriptor* f = type_->field(i);
    const auto& options = f->options();
    const std::string& alias = options.GetExtension(skydeck::v1::json_alias);
    if (!alias.empty() && !by_key_.try_emplace(alias, f).second) {
      options_status_ = absl::InternalError(
          absl::StrCat(f->full_name(), ": json_alias \"", alias, "\" names another field"));
    }
    if (options.GetExtension(skydeck::v1::json_inline)) {
      if (f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE ||
          inline_field_ != nullptr) {
        options_status_ = absl::InternalError(absl::StrCat(
            f->full_name(), ": json_inline needs the only singular message field marked so"));
      } else {
        inline_field_ = f;
      }
    }
    if (options.GetExtension(skydeck::v1::sse_text)) {
      if (f->is_repeated() || f->cpp_type() != FieldDescriptor::CPPTYPE_STRING) {
        options_status_ = absl::InternalError(
            absl::StrCat(f->full_name(), ": sse_text needs a singular bytes or string field"));
      } else {
        sse_text_field_ = f;
      }
    }
  }
}

const FieldDescriptor* JsonMessageInfo::FindField(absl::string_view key) const {
  auto it = by_key_.find(key);
  return it == by_key_.end() ? nullptr : it->second;
}

}  // namespace skydeck::web
