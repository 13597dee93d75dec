// File: tests/fuzz/fuzz_request_mapping.cc
//
// Fuzzes the HTTP bridge's request mapping (web/bridge/route_table.h,
// web/bridge/request_mapping.h) over the real SkyDeck service's routes. The
// input is an HTTP request in short form:
//
//   VERB /api/path/{param}?query=string\n
//   JSON body...
//
// and goes through the steps HttpBridge::HandleApi takes: the path as sent
// (percent-encoded; RouteTable::Match decodes each segment), the query
// parsed by ParseQueryString, then FillRequest into the method's request
// message.
//
// Properties (beyond "never crashes, never throws"):
// - failures are NOT_FOUND / FAILED_PRECONDITION (no route, wrong verb) or
//   INVALID_ARGUMENT;
// - a request built from text that can cross gRPC (UTF-8 strings) survives
//   the wire format, and its JSON form (MessageToJson, what the bridge
//   answers with) is itself a body that maps back to the same request
//   (where protobuf's JSON has a form for it: see FieldMasksHaveJsonForm).
#include <memory>
#include <string>

#include <google/protobuf/field_mask.pb.h>
#include <google/protobuf/util/field_comparator.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include "fuzz_check.h"
#include "fuzz_util.h"

#include "skydeck/v1/service.pb.h"
#include "web/bridge/query_string.h"
#include "web/bridge/request_mapping.h"
#include "web/bridge/route_table.h"

namespace skydeck::web {
namespace {

using google::protobuf::Message;

const RouteTable& Routes() {
  static const RouteTable* table = [] {
    const auto* service =
        skydeck::v1::GetHealthRequest::descriptor()->file()->FindServiceByName("SkyDeck");
    auto built = RouteTable::ForService(service);
    FUZZ_CHECK(built.ok(), "the service's routes build");
    return new RouteTable(*std::move(built));
  }();
  return *table;
}

std::unique_ptr<Message> NewMessage(const google::protobuf::Descriptor* type) {
  return std::unique_ptr<Message>(
      google::protobuf::MessageFactory::generated_factory()->GetPrototype(type)->New());
}

bool Same(const Message& a, const Message& b) {
  google::protobuf::util::DefaultFieldComparator comparator;
  comparator.set_treat_nan_as_equal(true);  // "NaN" is valid JSON for a double
  google::protobuf::util::MessageDifferencer differencer;
  differencer.set_field_comparator(&comparator);
  return differencer.Compare(a, b);
}

// Whether every FieldMask in `m` has a JSON form. Protobuf writes paths in
// lowerCamelCase and reads them back as snake_case, which is lossy for
// paths that are not plain snake_case ("no__des" prints as "noDes"). The
// daemon refuses any such path (ApplyFieldMask), so SkyDeck loses nothing;
// the check is protobuf's own conversion, on the mask alone.
bool FieldMasksHaveJsonForm(const Message& m) {
  const auto* d = m.GetDescriptor();
  const auto* r = m.GetReflection();
  if (d->full_name() == "google.protobuf.FieldMask") {
    std::string json;
    google::protobuf::FieldMask back;
    return google::protobuf::util::MessageToJsonString(m, &json).ok() &&
           google::protobuf::util::JsonStringToMessage(json, &back).ok() &&
           google::protobuf::util::MessageDifferencer::Equals(m, back);
  }
  for (int i = 0; i < d->field_count(); ++i) {
    const auto* f = d->field(i);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated()) {
      continue;
    }
    if (r->HasField(m, f) && !FieldMasksHaveJsonForm(r->GetMessage(m, f))) return false;
  }
  return true;
}

void CheckRoundTrips(const Message& request) {
  if (!fuzz::AllStringsUtf8(request)) return;  // refused by gRPC's parser
  std::unique_ptr<Message> wire = NewMessage(request.GetDescriptor());
  FUZZ_CHECK(wire->ParseFromString(request.SerializeAsString()), "the request crosses gRPC");
  FUZZ_CHECK(Same(*wire, request), "the wire format is lossless");

  if (!FieldMasksHaveJsonForm(request)) return;
  auto json = MessageToJson(request);
  FUZZ_CHECK(json.ok(), "a UTF-8 request prints as JSON");
  std::unique_ptr<Message> again = NewMessage(request.GetDescriptor());
  absl::Status refilled = FillRequest({}, {}, *json, again.get());
  FUZZ_CHECK(refilled.ok(), ("the printed JSON is a valid body: " + *json).c_str());
  FUZZ_CHECK(Same(*again, request), ("the JSON form is lossless: " + *json).c_str());
}

void MapRequest(absl::string_view input) {
  size_t eol = input.find('\n');
  absl::string_view line = input.substr(0, eol);
  absl::string_view body = eol == absl::string_view::npos ? "" : input.substr(eol + 1);
  size_t space = line.find(' ');
  if (space == absl::string_view::npos) return;
  std::string verb(line.substr(0, space));
  std::string target(line.substr(space + 1));

  // As the bridge's HTTP server hands them over (http_exchange.h): the path
  // as sent, the query after '?'.
  size_t question = target.find('?');
  std::string path = target.substr(0, question);
  QueryParams params =
      ParseQueryString(question == std::string::npos ? "" : target.substr(question + 1));

  auto match = Routes().Match(verb, path);
  if (!match.ok()) {
    auto code = match.status().code();
    FUZZ_CHECK(code == absl::StatusCode::kNotFound ||
                   code == absl::StatusCode::kFailedPrecondition ||
                   code == absl::StatusCode::kInvalidArgument,
               "no route is NOT_FOUND, a wrong verb FAILED_PRECONDITION, a bad escape "
               "INVALID_ARGUMENT");
    return;
  }
  QueryParams query;
  for (const auto& [k, v] : params) {
    if (k != "access_token") query.emplace_back(k, v);
  }
  std::unique_ptr<Message> request = NewMessage(match->route->method->input_type());
  absl::Status filled = FillRequest(match->path_params, query, body, request.get());
  if (!filled.ok()) {
    FUZZ_CHECK(absl::IsInvalidArgument(filled), "mapping errors are INVALID_ARGUMENT");
    return;
  }
  CheckRoundTrips(*request);
}

}  // namespace
}  // namespace skydeck::web

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  skydeck::web::MapRequest(absl::string_view(reinterpret_cast<const char*>(data), size));
  return 0;
}
