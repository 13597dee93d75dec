// ApiClient (daemon/backend/skypilot/api_client.h) against an in-process
// HTTP server on loopback that answers what each test scripts: the
// protocol's requests, its error mapping, and what never leaks (the token,
// terminal colour codes).
#include "daemon/backend/skypilot/api_client.h"

#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <catch2/catch.hpp>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "httplib.h"

namespace skydeck::backend::skypilot {
namespace {

constexpr char kToken[] = "sky-token-0123456789";

// An HTTP server on 127.0.0.1 running `handler` for every request, and
// recording the requests it saw.
class ScriptedServer {
 public:
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;

  explicit ScriptedServer(Handler handler) : handler_(std::move(handler)) {
    server_.set_keep_alive_max_count(1);
    auto record = [this](const httplib::Request& req, httplib::Response& res) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        seen_.push_back(req);
      }
      handler_(req, res);
    };
    server_.Get(".*", record);
    server_.Post(".*", record);
    port_ = server_.bind_to_any_port("127.0.0.1");
    REQUIRE(port_ > 0);
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    for (int i = 0; i < 500 && !server_.is_running(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    REQUIRE(server_.is_running());
  }
  ~ScriptedServer() {
    server_.stop();
    thread_.join();
  }

  std::string endpoint() const { return absl::StrCat("http://127.0.0.1:", port_); }
  std::vector<httplib::Request> seen() {
    std::lock_guard<std::mutex> lock(mu_);
    return seen_;
  }

 private:
  Handler handler_;
  httplib::Server server_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mu_;
  std::vector<httplib::Request> seen_;
};

ApiClient::Config ConfigFor(const std::string& endpoint) {
  ApiClient::Config config;
  config.endpoint = endpoint;
  config.token = kToken;
  config.user_id = "ab12cd34";
  config.user_name = "skydeck-test";
  config.client_version = "1.0.0-test";
  config.timeouts.SetCalls(absl::Seconds(5));
  config.timeouts.connect = absl::Seconds(2);
  config.backoff_initial = absl::ZeroDuration();
  return config;
}

std::unique_ptr<ApiClient> Client(const std::string& endpoint) {
  absl::StatusOr<std::unique_ptr<ApiClient>> client = ApiClient::Create(ConfigFor(endpoint));
  REQUIRE(client.ok());
  return std::move(*client);
}

TEST_CASE("api client: endpoints must be http(s) with a host", "[skypilot][api_client]") {
  for (const char* bad : {"ftp://host", "http://", "https:///path", "file:///tmp/x"}) {
    INFO(bad);
    CHECK(absl::IsInvalidArgument(ApiClient::Create(ConfigFor(bad)).status()));
  }
  for (const char* good : {"127.0.0.1:46580", "http://h:1/prefix/", "HTTPS://h"}) {
    INFO(good);
    CHECK(ApiClient::Create(ConfigFor(good)).ok());
  }
}

TEST_CASE("api client: Submit adds SkyPilot's identity and headers, returns the request id",
          "[skypilot][api_client]") {
  ScriptedServer server([](const httplib::Request&, httplib::Response& res) {
    res.set_header("X-Skypilot-Request-ID", "req-1");
    res.set_content("null", "application/json");
  });
  // A path prefix on the endpoint prefixes every route.
  std::unique_ptr<ApiClient> client = Client(server.endpoint() + "/sky/");
  client->SetApiVersion(20);
  absl::StatusOr<std::string> id =
      client->Submit("/jobs/queue/v2", {{"refresh", false}, {"env_vars", {{"KEEP", "1"}}}});
  REQUIRE(id.ok());
  CHECK(*id == "req-1");
  std::vector<httplib::Request> seen = server.seen();
  REQUIRE(seen.size() == 1);
  const httplib::Request& req = seen[0];
  CHECK(req.method == "POST");
  CHECK(req.path == "/sky/jobs/queue/v2");
  CHECK(req.get_header_value("Authorization") == absl::StrCat("Bearer ", kToken));
  CHECK(req.get_header_value("X-SkyPilot-API-Version") == "20");
  CHECK(req.get_header_value("X-SkyPilot-Version") == "1.0.0-test");
  nlohmann::json body = nlohmann::json::parse(req.body);
  CHECK(body["refresh"] == false);
  CHECK(body["env_vars"]["KEEP"] == "1");
  CHECK(body["env_vars"]["SKYPILOT_USER_ID"] == "ab12cd34");
  CHECK(body["env_vars"]["SKYPILOT_USER"] == "skydeck-test");
}

TEST_CASE("api client: an answer without a request id is INTERNAL", "[skypilot][api_client]") {
  ScriptedServer server([](const httplib::Request&, httplib::Response& res) {
    res.set_content("null", "application/json");
  });
  CHECK(absl::IsInternal(Client(server.endpoint())->Submit("/jobs/launch", {}).status()));
}

TEST_CASE("api client: HTTP errors map to codes, without the token or colour codes",
          "[skypilot][api_client]") {
  struct Case {
    int http;
    std::string body;
    absl::StatusCode code;
  };
  std::vector<Case> cases = {
      {400, "bad request", absl::StatusCode::kInvalidArgument},
      {400, R"({"detail":"version_mismatch"})", absl::StatusCode::kFailedPrecondition},
      {401, "no", absl::StatusCode::kUnauthenticated},
      {403, "no", absl::StatusCode::kPermissionDenied},
      {404, "not here", absl::StatusCode::kNotFound},
      {422, "unprocessable", absl::StatusCode::kInvalidArgument},
      {429, "slow down", absl::StatusCode::kUnavailable},
      {500, "boom", absl::StatusCode::kInternal},
      {502, "", absl::StatusCode::kUnavailable},
      {503, "overloaded", absl::StatusCode::kUnavailable},
  };
  for (const Case& c : cases) {
    INFO(c.http << " " << c.body);
    // The server echoes the token and colours its text: neither may reach
    // a message.
    ScriptedServer server([&](const httplib::Request&, httplib::Response& res) {
      res.status = c.http;
      res.set_content(absl::StrCat("\x1b[31m", c.body, " token=", kToken, "\x1b[0m"), "text/plain");
    });
    absl::Status status = Client(server.endpoint())->Submit("/jobs/launch", {}).status();
    CHECK(status.code() == c.code);
    CHECK(absl::StrContains(status.message(), absl::StrCat("HTTP ", c.http)));
    CHECK_FALSE(absl::StrContains(status.message(), kToken));
    CHECK_FALSE(absl::StrContains(status.message(), "\x1b"));
  }
}

TEST_CASE("api client: Await decodes return_value and failed requests' errors",
          "[skypilot][api_client]") {
  std::string answer;
  int http = 200;
  ScriptedServer server([&](const httplib::Request& req, httplib::Response& res) {
    CHECK(req.path == "/api/get");
    CHECK(req.get_param_value("request_id") == "req-9");
    res.status = http;
    res.set_content(answer, "application/json");
  });
  std::unique_ptr<ApiClient> client = Client(server.endpoint());

  SECTION("a succeeded request's return_value is JSON text, decoded") {
    answer = R"({"status": "SUCCEEDED", "return_value": "[{\"job_id\": 7}]"})";
    absl::StatusOr<RequestResult> result = client->Await("req-9", absl::Seconds(5));
    REQUIRE(result.ok());
    CHECK(result->phase == RequestPhase::kSucceeded);
    CHECK(result->value == nlohmann::json::parse(R"([{"job_id": 7}])"));
  }
  SECTION("a failed request is a result, its message without colours or token") {
    http = 500;
    nlohmann::json error = {{"type", "ClusterNotUpError"},
                            {"message", absl::StrCat("\x1b[1mnot up\x1b[0m ", kToken)}};
    answer = nlohmann::json({{"detail", {{"error", error.dump()}}}}).dump();
    absl::StatusOr<RequestResult> result = client->Await("req-9", absl::Seconds(5));
    REQUIRE(result.ok());
    CHECK(result->phase == RequestPhase::kFailed);
    CHECK(result->error_type == "ClusterNotUpError");
    CHECK(result->error_message == "not up <redacted>");
  }
  SECTION("a cancelled request") {
    answer = R"({"status": "CANCELLED"})";
    absl::StatusOr<RequestResult> result = client->Await("req-9", absl::Seconds(5));
    REQUIRE(result.ok());
    CHECK(result->phase == RequestPhase::kCancelled);
  }
  SECTION("answers that break the protocol are INTERNAL") {
    for (const char* bad :
         {R"({"status": "RUNNING"})",  // /api/get returns terminal ones
          R"({"status": "SUCCEEDED", "return_value": "{not json"})", "[1, 2]", "<html>"}) {
      INFO(bad);
      answer = bad;
      CHECK(absl::IsInternal(client->Await("req-9", absl::Seconds(5)).status()));
    }
    http = 500;
    answer = R"({"detail": "plain text"})";
    CHECK(absl::IsInternal(client->Await("req-9", absl::Seconds(5)).status()));
  }
}

TEST_CASE("api client: Statuses asks 100 ids per call and decodes bodies",
          "[skypilot][api_client]") {
  ScriptedServer server([](const httplib::Request& req, httplib::Response& res) {
    nlohmann::json rows = nlohmann::json::array();
    size_t ids = req.get_param_value_count("request_ids");
    for (size_t i = 0; i < ids; ++i) {
      std::string id = req.get_param_value("request_ids", i);
      rows.push_back({{"request_id", id},
                      {"name", "sky.jobs.launch"},
                      {"status", "RUNNING"},
                      {"created_at", 1.5},
                      {"request_body", R"({"task": "name: x"})"}});
    }
    rows.push_back({{"name", "no id: skipped"}});
    rows.push_back("not an object");
    res.set_content(rows.dump(), "application/json");
  });
  std::vector<std::string> ids;
  for (int i = 0; i < 150; ++i) ids.push_back(absl::StrCat("r", i));
  absl::StatusOr<std::vector<RequestRecord>> records = Client(server.endpoint())->Statuses(ids);
  REQUIRE(records.ok());
  CHECK(server.seen().size() == 2);
  REQUIRE(records->size() == 150);
  CHECK((*records)[149].request_id == "r149");
  CHECK((*records)[0].body["task"] == "name: x");
  CHECK((*records)[0].created_at == 1.5);
  CHECK(IsJobsLaunch((*records)[0]));
}

TEST_CASE("api client: a request is found by its id, else by a prefix", "[skypilot][api_client]") {
  std::vector<RequestRecord> records(3);
  records[0].request_id = "abc-long";
  records[1].request_id = "abc";
  records[2].request_id = "xyz";
  CHECK(FindRequest(records, "abc") == &records[1]);
  CHECK(FindRequest(records, "abc-l") == &records[0]);
  CHECK(FindRequest(records, "nope") == nullptr);
  RequestRecord r;
  for (const char* name : {"sky.jobs.launch", "jobs.launch", "jobs/launch"}) {
    r.name = name;
    CHECK(IsJobsLaunch(r));
  }
  r.name = "sky.jobs.queue";
  CHECK_FALSE(IsJobsLaunch(r));
}

TEST_CASE("api client: an unreachable server is UNAVAILABLE and never reached",
          "[skypilot][api_client]") {
  int port = 0;
  {
    ScriptedServer closed([](const httplib::Request&, httplib::Response&) {});
    port = std::stoi(closed.endpoint().substr(closed.endpoint().rfind(':') + 1));
  }  // stopped: nothing listens on `port` now
  ApiClient::Config config = ConfigFor(absl::StrCat("http://127.0.0.1:", port));
  config.backoff_initial = absl::Seconds(30);
  config.backoff_max = absl::Seconds(30);
  absl::StatusOr<std::unique_ptr<ApiClient>> client = ApiClient::Create(config);
  REQUIRE(client.ok());
  absl::Status first = (*client)->Submit("/jobs/launch", {}).status();
  CHECK(absl::IsUnavailable(first));
  CHECK(ApiClient::NeverSent(first));
  // Until the backoff passes, calls are refused here, also never sent.
  CHECK(absl::IsUnavailable((*client)->CheckReachable()));
  absl::Status second = (*client)->Submit("/jobs/launch", {}).status();
  CHECK(absl::IsUnavailable(second));
  CHECK(ApiClient::NeverSent(second));
  // A health check bypasses the backoff (and still finds nobody).
  CHECK(absl::IsUnavailable((*client)->Health().status()));
}

TEST_CASE("api client: Redact replaces the token, and only with one", "[skypilot][api_client]") {
  CHECK(Client("http://h")->Redact(absl::StrCat("a ", kToken, " b ", kToken)) ==
        "a <redacted> b <redacted>");
  ApiClient::Config config = ConfigFor("http://h");
  config.token.clear();
  absl::StatusOr<std::unique_ptr<ApiClient>> no_token = ApiClient::Create(config);
  REQUIRE(no_token.ok());
  CHECK((*no_token)->Redact("nothing to hide") == "nothing to hide");
}

}  // namespace
}  // namespace skydeck::backend::skypilot
