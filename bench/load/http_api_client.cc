// HTTP/JSON transport of ApiClient (see api_client.h): the requests a
// browser or curl would send to the bridge, on one keep-alive connection.
#include <httplib.h>

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "nlohmann/json.hpp"

#include "bench/load/api_client.h"
#include "web/bridge/plain_json.h"

namespace skydeck::bench {
namespace {

std::string UrlEncode(absl::string_view text) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The bridge answers errors as {"code": "NOT_FOUND", "message": ...}.
absl::Status ErrorFromResponse(const httplib::Result& res) {
  if (!res) {
    return absl::UnavailableError(
        absl::StrCat("HTTP transport error: ", httplib::to_string(res.error())));
  }
  nlohmann::json body = nlohmann::json::parse(res->body, nullptr, /*allow_exceptions=*/false);
  std::string code = body.is_object() ? body.value("code", "") : "";
  std::string message = body.is_object() ? body.value("message", res->body) : res->body;
  for (int c = 1; c <= 16; ++c) {
    auto status_code = static_cast<absl::StatusCode>(c);
    if (absl::StatusCodeToString(status_code) == code) {
      return absl::Status(status_code, absl::StrCat("HTTP ", res->status, ": ", message));
    }
  }
  return absl::UnknownError(absl::StrCat("HTTP ", res->status, ": ", message));
}

class HttpApiClient final : public ApiClient {
 public:
  HttpApiClient(const std::string& host_port, absl::Duration timeout)
      : http_(absl::StrCat("http://", host_port)) {
    http_.set_keep_alive(true);
    // Browsers and curl disable Nagle; without it the body, sent after the
    // headers, waits for the server's delayed ACK (~40 ms a request).
    http_.set_tcp_nodelay(true);
    auto t = absl::ToChronoMilliseconds(timeout);
    http_.set_read_timeout(t);
    http_.set_write_timeout(t);
    http_.set_connection_timeout(t);
  }

  const char* transport() const override { return "http"; }

  absl::Status CreateExperiment(const pb::CreateExperimentRequest& req,
                                pb::CreateExperimentResponse* resp) override {
    return Send("POST", "/api/experiments", &req, resp);
  }
  absl::Status GetExperiment(const pb::GetExperimentRequest& req,
                             pb::GetExperimentResponse* resp) override {
    return Send("GET", absl::StrCat("/api/experiments/", UrlEncode(req.id())), nullptr, resp);
  }
  absl::Status UpdateExperiment(const pb::UpdateExperimentRequest& req,
                                pb::UpdateExperimentResponse* resp) override {
    pb::UpdateExperimentRequest body = req;
    body.clear_id();  // it travels in the path
    return Send("PATCH", absl::StrCat("/api/experiments/", UrlEncode(req.id())), &body, resp);
  }
  absl::Status UpdateFlags(const pb::UpdateFlagsRequest& req,
                           pb::UpdateFlagsResponse* resp) override {
    pb::UpdateFlagsRequest body = req;
    body.clear_id();
    return Send("POST", absl::StrCat("/api/experiments/", UrlEncode(req.id()), "/flags"), &body,
                resp);
  }
  absl::Status SetDesiredState(const pb::SetDesiredStateRequest& req,
                               pb::SetDesiredStateResponse* resp) override {
    pb::SetDesiredStateRequest body = req;
    std::string path = "/api/experiments/state";
    if (!req.id().empty()) {
      body.clear_id();
      path = absl::StrCat("/api/experiments/", UrlEncode(req.id()), "/state");
    }
    return Send("POST", path, &body, resp);
  }
  absl::Status ListExperiments(const pb::ListExperimentsRequest& req,
                               pb::ListExperimentsResponse* resp) override {
    std::string path = absl::StrCat("/api/experiments?page_size=", req.page_size());
    if (!req.page_token().empty()) absl::StrAppend(&path, "&page_token=", req.page_token());
    if (!req.label_selector().empty()) {
      absl::StrAppend(&path, "&label_selector=", UrlEncode(req.label_selector()));
    }
    return Send("GET", path, nullptr, resp);
  }

 private:
  absl::Status Send(const std::string& method, const std::string& path,
                    const google::protobuf::Message* body, google::protobuf::Message* resp) {
    std::string json;
    if (body != nullptr) {
      google::protobuf::util::JsonPrintOptions print;
      print.preserve_proto_field_names = true;
      if (auto s = google::protobuf::util::MessageToJsonString(*body, &json, print); !s.ok()) {
        return absl::InternalError(absl::StrCat("encoding request: ", s.ToString()));
      }
    }
    httplib::Result res = method == "GET"     ? http_.Get(path.c_str())
                          : method == "PATCH" ? http_.Patch(path.c_str(), json, "application/json")
                                              : http_.Post(path.c_str(), json, "application/json");
    if (!res || res->status != 200) return ErrorFromResponse(res);
    // Requests go out in protobuf's JSON mapping, which the bridge accepts
    // besides its plain JSON; answers come back plain.
    web::PlainJsonParseOptions parse;
    parse.ignore_unknown_fields = true;
    if (auto s = web::PlainJsonTextToMessage(res->body, resp, parse); !s.ok()) {
      return absl::DataLossError(
          absl::StrCat("decoding response of ", method, " ", path, ": ", s.ToString()));
    }
    return absl::OkStatus();
  }

  httplib::Client http_;
};

}  // namespace

std::unique_ptr<ApiClient> MakeHttpClient(const std::string& host_port, absl::Duration timeout) {
  return std::make_unique<HttpApiClient>(host_port, timeout);
}

}  // namespace skydeck::bench
