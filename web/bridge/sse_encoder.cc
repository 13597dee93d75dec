#include "web/bridge/sse_encoder.h"

#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"

#include "web/bridge/json_descriptors.h"
#include "web/bridge/plain_json.h"

namespace skydeck::web {
namespace {

constexpr char kReplacement[] = "\xEF\xBF\xBD";  // U+FFFD

// Length of the UTF-8 sequence `lead` starts and the range its second byte
// must be in (RFC 3629: no overlong forms, no surrogates, <= U+10FFFF);
// 0 for a byte that cannot start one.
struct Lead {
  int length;
  unsigned char low, high;
};
Lead LeadOf(unsigned char b) {
  if (b < 0x80) return {1, 0, 0};
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b >= 0xE1 && b <= 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

bool HasFieldsBesides(const google::protobuf::Message& message,
                      const google::protobuf::FieldDescriptor* field) {
  std::vector<const google::protobuf::FieldDescriptor*> set;
  message.GetReflection()->ListFields(message, &set);
  for (const google::protobuf::FieldDescriptor* f : set) {
    if (f != field) return true;
  }
  return false;
}

}  // namespace

SseEncoder::SseEncoder(const google::protobuf::Descriptor* type)
    : text_field_(JsonMessageInfo::For(type).sse_text_field()) {}

absl::StatusOr<std::string> SseEncoder::Encode(const google::protobuf::Message& message) {
  if (text_field_ == nullptr) {
    absl::StatusOr<std::string> json = MessageToPlainJson(message);
    if (!json.ok()) return json.status();
    return absl::StrCat("data: ", *json, "\n\n");
  }
  std::string scratch;
  const std::string& bytes =
      message.GetReflection()->GetStringReference(message, text_field_, &scratch);
  if (bytes.empty() && HasFieldsBesides(message, text_field_)) {
    // Not log text (e.g. the job log's `progress` and final `job_status`):
    // an SSE comment, which every SSE client skips, so what clients join
    // from the data lines is exactly the log, while `curl -N` shows it.
    absl::StatusOr<std::string> json = MessageToPlainJson(message);
    if (!json.ok()) return json.status();
    return absl::StrCat(": ", *json, "\n\n");
  }
  return TextEvent(ResolveCarriageReturns(DecodeUtf8(bytes, false)));
}

std::string SseEncoder::Finish() {
  if (text_field_ == nullptr) return "";
  return TextEvent(ResolveCarriageReturns(DecodeUtf8("", true)));
}

std::string SseEncoder::DecodeUtf8(absl::string_view bytes, bool final) {
  std::string in = carry_;
  in.append(bytes.data(), bytes.size());
  carry_.clear();
  std::string out;
  out.reserve(in.size());
  size_t i = 0;
  while (i < in.size()) {
    Lead lead = LeadOf(static_cast<unsigned char>(in[i]));
    if (lead.length == 1) {
      out += in[i++];
      continue;
    }
    if (lead.length == 0) {  // not a byte that starts a character
      out += kReplacement;
      ++i;
      continue;
    }
    // How many bytes of the sequence are present and valid.
    int good = 1;
    while (good < lead.length && i + good < in.size()) {
      auto b = static_cast<unsigned char>(in[i + good]);
      bool ok = good == 1 ? (b >= lead.low && b <= lead.high) : (b >= 0x80 && b <= 0xBF);
      if (!ok) break;
      ++good;
    }
    if (good == lead.length) {
      out.append(in, i, good);
      i += good;
    } else if (i + good == in.size() && !final) {
      carry_ = in.substr(i);  // cut between two messages: wait for the rest
      break;
    } else {
      out += kReplacement;  // one for the whole broken sequence
      i += good;
    }
  }
  return out;
}

std::string SseEncoder::ResolveCarriageReturns(absl::string_view text) {
  std::string out;
  out.reserve(text.size());
  size_t line_start = 0;  // where the current line starts in `out`
  bool started_earlier = line_open_;
  auto lone_carriage_return = [&] {
    out.resize(line_start);
    if (line_start == 0 && started_earlier) {
      out += '\n';  // cannot overwrite what an earlier event sent
      line_start = out.size();
    }
  };
  for (char c : text) {
    if (pending_cr_) {
      pending_cr_ = false;
      if (c != '\n') lone_carriage_return();
    }
    if (c == '\r') {
      pending_cr_ = true;  // "\r\n" or a lone "\r": the next byte tells
      continue;
    }
    out += c;
    if (c == '\n') line_start = out.size();
  }
  if (!out.empty()) line_open_ = out.back() != '\n';
  return out;
}

std::string SseEncoder::TextEvent(absl::string_view text) {
  if (text.empty()) return "";
  std::string event;
  event.reserve(text.size() + 16);
  for (absl::string_view line : absl::StrSplit(text, '\n'))
    absl::StrAppend(&event, "data: ", line, "\n");
  event += '\n';
  return event;
}

}  // namespace skydeck::web
