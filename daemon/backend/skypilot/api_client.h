// File: daemon/backend/skypilot/api_client.h
//
// HTTP/JSON client for SkyPilot's API server: the asynchronous-request
// protocol, version headers, bearer auth, timeouts and error mapping. It
// knows nothing of jobs; skypilot_backend.cc builds on it.
//
// The protocol: an operation is `POST <route>` with a JSON body; the server
// answers 200, body null, and the request id in `X-Skypilot-Request-ID`.
// `GET /api/get?request_id=ID` blocks until the request is terminal and
// returns its record, whose `return_value` is itself JSON text (decoded
// here), or 500 with {"detail": {..., "error": "<JSON of type, message>"}}.
// `GET /api/status` lists requests without blocking.
//
//   ASSIGN_OR_RETURN(std::string id, client->Submit("/jobs/queue/v2", body));
//   ASSIGN_OR_RETURN(RequestResult result, client->Await(id));
//
// Codes: UNAVAILABLE when the server cannot be reached, drops the
// connection or says it is overloaded (and, for a while after that, without
// trying: see unreachable_backoff.h); DEADLINE_EXCEEDED when it accepted
// the connection but did not answer within the operation's timeout (slow,
// not unreachable: it does not start the backoff); UNAUTHENTICATED / PERMISSION_DENIED for
// 401 / 403; FAILED_PRECONDITION when it refuses our API version; NOT_FOUND
// for 404; INVALID_ARGUMENT for 400 / 422; INTERNAL for a plain 500 or an
// answer that is not the JSON expected. The bearer token never appears in a
// message or a log line, and SkyPilot's terminal colour codes never appear
// in an error message (common/ansi_text.h).
//
// Thread-safety: safe for concurrent use; each call has its own connection.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "nlohmann/json.hpp"

#include "daemon/backend/skypilot/skypilot_options.h"
#include "daemon/backend/skypilot/status_mapping.h"
#include "daemon/backend/skypilot/unreachable_backoff.h"

namespace skydeck::backend::skypilot {

// An API request as listed by /api/status.
struct RequestRecord {
  std::string request_id;
  std::string name;    // e.g. "jobs.launch"
  std::string status;  // verbatim, e.g. "RUNNING"
  // The request's body, decoded; null when the server hides or pickles it.
  nlohmann::json body;
  double created_at = 0;
};

// The record for `request_id` in `records`: an exact match, else the first
// whose id starts with it (the server matches prefixes); null when none.
const RequestRecord* FindRequest(const std::vector<RequestRecord>& records,
                                 const std::string& request_id);

// True for a managed-job launch request ("sky.jobs.launch").
bool IsJobsLaunch(const RequestRecord& record);

// The outcome of a terminal request, from /api/get.
struct RequestResult {
  RequestPhase phase = RequestPhase::kActive;
  nlohmann::json value;    // decoded return_value when kSucceeded
  std::string error_type;  // when kFailed, e.g. "ClusterNotUpError"
  std::string error_message;
};

struct StreamResult {
  std::string request_id;
  // The stream was cut short because the receiver or `cancelled` said so.
  bool stopped = false;
};

class ApiClient {
 public:
  struct Config {
    std::string endpoint;  // http(s)://host[:port][/prefix]
    std::string token;
    std::string user_id;    // SKYPILOT_USER_ID in every body's env_vars
    std::string user_name;  // SKYPILOT_USER
    std::string client_version;
    SkyPilotTimeouts timeouts;
    absl::Duration backoff_initial = absl::Seconds(1);
    absl::Duration backoff_max = absl::Seconds(30);
  };

  // Errors: INVALID_ARGUMENT for an endpoint that is not http(s)://host...
  static absl::StatusOr<std::unique_ptr<ApiClient>> Create(Config config);

  // The X-SkyPilot-API-Version this client claims (default: the newest
  // version this code was checked against).
  void SetApiVersion(int version) { api_version_.store(version); }
  const std::string& endpoint() const { return config_.endpoint; }
  const SkyPilotTimeouts& timeouts() const { return config_.timeouts; }
  // See UnreachableBackoff::failure_epoch.
  uint64_t failure_epoch() const { return backoff_.failure_epoch(); }

  // GET /api/health, parsed, within timeouts().health. Bypasses the
  // unreachable backoff.
  absl::StatusOr<nlohmann::json> Health();

  // OK unless calls are being refused locally after the server was
  // unreachable (UNAVAILABLE then).
  absl::Status CheckReachable() const;

  // ApiClient::NeverSent()
  //
  // True for the error of a call that certainly never reached the server:
  // refused here by the unreachable backoff, or no connection could be
  // opened. Any other failed call may have been, or may still be, acted on
  // by the server (e.g. a launch whose answer timed out).
  static bool NeverSent(const absl::Status& status);

  // POST `route` with `body` (env_vars identity added); the request id,
  // within timeouts().submit.
  absl::StatusOr<std::string> Submit(absl::string_view route, nlohmann::json body);

  // Blocks until the request is terminal, at most `timeout` (the
  // operation's: queue, cancel, or status for a request known to be done).
  absl::StatusOr<RequestResult> Await(absl::string_view request_id, absl::Duration timeout);

  // GET /api/status for these request ids (prefixes allowed; at most 100
  // per call), or the active requests when `request_ids` is empty. Does not
  // block; each call within timeouts().status.
  absl::StatusOr<std::vector<RequestRecord>> Statuses(const std::vector<std::string>& request_ids);

  // POSTs `route` and hands each chunk of the streamed answer to
  // `on_chunk` (false stops). `cancelled` is polled from another thread
  // every 100 ms; true stops. Each read waits at most `read_timeout`, and
  // the whole stream ends DEADLINE_EXCEEDED at `deadline` (heartbeats keep
  // reads alive, so only the deadline ends a stream that never finishes).
  absl::StatusOr<StreamResult> SubmitStreaming(
      absl::string_view route, nlohmann::json body,
      const std::function<bool(absl::string_view)>& on_chunk,
      const std::function<bool()>& cancelled, absl::Duration read_timeout,
      absl::Time deadline = absl::InfiniteFuture());

  // ApiClient::Upload()
  //
  // `POST /upload?user_hash=&upload_id=&chunk_index=&total_chunks=` with
  // `chunk` as the raw body (application/octet-stream): one piece of a
  // zip, as SkyPilot's client sends it (api_client_upload.cc). Returns
  // the answer's `status`: "uploading" (chunks still missing) or
  // "completed" (the server has joined and extracted the zip).
  // Errors: as Submit, within timeouts().upload.
  absl::StatusOr<std::string> Upload(absl::string_view upload_id, int chunk_index, int total_chunks,
                                     absl::string_view chunk);

  // `text` with the token replaced by "<redacted>".
  std::string Redact(std::string text) const;

 private:
  struct Reply {
    int status = 0;
    std::string body;
    std::string request_id;
  };

  ApiClient(Config config, std::string scheme_host_port, std::string base_path);

  absl::StatusOr<Reply> Exchange(const std::string& method, const std::string& path,
                                 const std::string* body, bool bypass_backoff,
                                 absl::Duration timeout);
  void AddIdentity(nlohmann::json& body) const;
  absl::Status HttpError(absl::string_view what, int status, const std::string& body) const;

  const Config config_;
  const std::string scheme_host_port_;
  const std::string base_path_;
  std::atomic<int> api_version_;
  UnreachableBackoff backoff_;
};

// The API version this code was written and checked against; claimed in
// X-SkyPilot-API-Version unless the server is older.
inline constexpr int kClientApiVersion = 31;

}  // namespace skydeck::backend::skypilot
