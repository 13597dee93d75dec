// File: cli/client.h
//
// The CLI's connection to skydeckd. One Client per process wraps one gRPC
// channel; every call gets the same deadline and caller metadata, so no verb
// can forget them, and every failure comes back as an absl::Status whose
// message says what went wrong in words a user can act on.
//
//   Client client(ResolveServerAddress(flag_value));
//   pb::GetExperimentResponse resp;
//   RETURN_IF_ERROR(client.Call(&pb::SkyDeck::Stub::GetExperiment, req, &resp));
//
// Thread-safety: a Client is used by one thread at a time.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

#include "skydeck/v1/service.grpc.pb.h"

namespace skydeck::cli {

namespace pb = ::skydeck::v1;

inline constexpr absl::string_view kDefaultServer = "127.0.0.1:50051";
inline constexpr std::chrono::seconds kCallDeadline{30};
// Calls that wait for the backend on purpose (a poll now, a log read
// without follow) get longer: the daemon bounds them itself, per operation,
// and a slow backend must not look like an unreachable daemon.
inline constexpr std::chrono::seconds kBackendCallDeadline{300};

// The daemon address: `flag_value` when not empty, else $SKYDECK_SERVER when
// set and not empty, else kDefaultServer.
std::string ResolveServerAddress(absl::string_view flag_value);

// Who the daemon records on events: $USER when it is something the daemon
// accepts (1-64 printable characters, no spaces), else "anonymous". An odd
// $USER must not make every write fail.
std::string ActorFromEnvironment();

// Process exit codes. Scripts branch on these, so they never change.
enum ExitCode : int {
  kExitOk = 0,
  kExitServerError = 1,  // the daemon answered with an error
  kExitUsage = 2,        // bad command line or local input; nothing was sent
  kExitUnreachable = 3,  // the daemon could not be reached or did not answer
  kExitTimeout = 4,      // `wait` (or --wait) gave up before the state was reached
  kExitJobFailed = 5,    // `logs`: the job ended in failure (like `sky jobs logs`)
};

// UnreachableError()
//
// The daemon could not be reached or never answered: exit code 3. Only
// gRPC's own failures are (connection refused, no channel, our deadline
// passed, the stream broke); an UNAVAILABLE or DEADLINE_EXCEEDED the daemon
// itself sent (its backend is down, a forced delete still waiting) keeps its
// code and message and exits 1.
absl::Status UnreachableError(absl::string_view message, absl::StatusCode code);
bool IsUnreachable(const absl::Status& status);

class Client {
 public:
  // Does not dial: the channel connects on the first call, so commands that
  // fail locally never touch the network.
  explicit Client(std::string target);

  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  const std::string& target() const { return target_; }

  // Client::Call()
  //
  // Runs one unary RPC, e.g. `Call(&pb::SkyDeck::Stub::GetJob, req, &resp)`,
  // with deadline kCallDeadline and the caller metadata. Errors: the daemon's
  // status (code and message kept); a transport failure as UnreachableError,
  // reworded to name the address, since gRPC's own text does not say what
  // to do.
  template <typename Request, typename Response>
  absl::Status Call(grpc::Status (pb::SkyDeck::Stub::*method)(grpc::ClientContext*, const Request&,
                                                              Response*),
                    const Request& request, Response* response,
                    std::chrono::seconds deadline = kCallDeadline) {
    auto context = NewContext(deadline);
    grpc::Status status = (stub_.get()->*method)(context.get(), request, response);
    return ToStatus(status, *context);
  }

  // Client::StreamLogs()
  //
  // Runs GetJobLogs and hands every message (log data, progress lines, the
  // final job status) to `on_message` as it arrives. With
  // `request.follow()` the stream has no deadline: following a job for hours
  // is the point; without, kBackendCallDeadline. Errors: as Call().
  absl::Status StreamLogs(const pb::GetJobLogsRequest& request,
                          const std::function<void(const pb::GetJobLogsResponse&)>& on_message);

  // Client::Backup()
  //
  // Runs the Backup stream and hands every message to `on_message`; an
  // error from `on_message` cancels the stream and is returned. No
  // deadline: a large database takes as long as it takes to send.
  // Errors: as Call(), or `on_message`'s.
  absl::Status Backup(const std::function<absl::Status(const pb::BackupResponse&)>& on_message);

  // Client::Watch()
  //
  // Runs the Watch stream and hands every response to `on_change` until it
  // returns false (then cancels the stream and returns OK), the stream ends,
  // or `deadline` passes (then a plain DEADLINE_EXCEEDED, not
  // UnreachableError: the daemon did answer). A zero `deadline` means none.
  // Errors: as Call().
  absl::Status Watch(const pb::WatchRequest& request,
                     std::chrono::system_clock::time_point deadline,
                     const std::function<bool(const pb::WatchResponse&)>& on_change);

 private:
  // A zero `deadline` means none.
  std::unique_ptr<grpc::ClientContext> NewContext(std::chrono::seconds deadline) const;
  // `status` as an absl::Status; `context` (after the call) says whether
  // the daemon sent it (kDaemonStatusKey trailer) or gRPC made it up.
  absl::Status ToStatus(const grpc::Status& status, const grpc::ClientContext& context) const;

  // Constant after construction.
  const std::string target_;
  const std::string actor_;
  const std::string token_;  // $SKYDECK_AUTH_TOKEN, sent as a bearer token
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<pb::SkyDeck::Stub> stub_;
};

}  // namespace skydeck::cli
