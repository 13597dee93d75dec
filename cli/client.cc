// File: cli/client.cc
//
// Channel setup, per-call metadata and the wording of transport failures.
#include "cli/client.h"

#include <cstdlib>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

#include "cli/server_address.h"
#include "common/grpc_status.h"

namespace skydeck::cli {
namespace {

// Marks a transport failure; never sent anywhere.
constexpr absl::string_view kUnreachablePayload = "type.skydeck.dev/cli.Unreachable";

// Whether the daemon itself sent the status (see common/grpc_status.h).
bool SentByDaemon(const grpc::ClientContext& context) {
  const auto& trailers = context.GetServerTrailingMetadata();
  auto it = trailers.find(kDaemonStatusKey);
  return it != trailers.end() && it->second == kDaemonStatusValue;
}

std::string EnvOrEmpty(const char* name) {
  const char* value = std::getenv(name);
  return value == nullptr ? std::string() : std::string(value);
}

}  // namespace

std::string ResolveServerAddress(absl::string_view flag_value) {
  if (!flag_value.empty()) return std::string(flag_value);
  std::string env = EnvOrEmpty("SKYDECK_SERVER");
  if (!env.empty()) return env;
  return std::string(kDefaultServer);
}

std::string ActorFromEnvironment() {
  std::string user = EnvOrEmpty("USER");
  bool ok = !user.empty() && user.size() <= 64;
  for (char c : user) ok = ok && absl::ascii_isgraph(c);
  return ok ? user : "anonymous";
}

absl::Status UnreachableError(absl::string_view message, absl::StatusCode code) {
  absl::Status status(code, message);
  status.SetPayload(kUnreachablePayload, absl::Cord("1"));
  return status;
}

bool IsUnreachable(const absl::Status& status) {
  return status.GetPayload(kUnreachablePayload).has_value();
}

Client::Client(std::string target)
    : target_(std::move(target)),
      actor_(ActorFromEnvironment()),
      token_(EnvOrEmpty("SKYDECK_AUTH_TOKEN")),
      channel_(grpc::CreateChannel(target_, grpc::InsecureChannelCredentials())),
      stub_(pb::SkyDeck::NewStub(channel_)) {}

std::unique_ptr<grpc::ClientContext> Client::NewContext(std::chrono::seconds deadline) const {
  auto context = std::make_unique<grpc::ClientContext>();
  if (deadline.count() > 0) context->set_deadline(std::chrono::system_clock::now() + deadline);
  context->AddMetadata("x-skydeck-actor", actor_);
  if (!token_.empty()) context->AddMetadata("authorization", absl::StrCat("Bearer ", token_));
  return context;
}

absl::Status Client::ToStatus(const grpc::Status& status,
                              const grpc::ClientContext& context) const {
  if (status.ok() || SentByDaemon(context)) return FromGrpcStatus(status);
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE: {
      std::string hint = ServerAddressHint(target_, status.error_message());
      if (!hint.empty()) {
        return UnreachableError(absl::StrCat("cannot reach skydeckd at ", target_, ": ", hint),
                                absl::StatusCode::kUnavailable);
      }
      return UnreachableError(absl::StrCat("cannot reach skydeckd at ", target_,
                                           " (is it running? set --server or SKYDECK_SERVER): ",
                                           status.error_message()),
                              absl::StatusCode::kUnavailable);
    }
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return UnreachableError(absl::StrCat("skydeckd at ", target_, " did not answer in time"),
                              absl::StatusCode::kDeadlineExceeded);
    default:
      return FromGrpcStatus(status);
  }
}

absl::Status Client::StreamLogs(
    const pb::GetJobLogsRequest& request,
    const std::function<void(const pb::GetJobLogsResponse&)>& on_message) {
  auto context = NewContext(request.follow() ? std::chrono::seconds(0) : kBackendCallDeadline);
  std::unique_ptr<grpc::ClientReader<pb::GetJobLogsResponse>> reader =
      stub_->GetJobLogs(context.get(), request);
  pb::GetJobLogsResponse message;
  while (reader->Read(&message)) on_message(message);
  grpc::Status status = reader->Finish();
  return ToStatus(status, *context);
}

absl::Status Client::Backup(
    const std::function<absl::Status(const pb::BackupResponse&)>& on_message) {
  auto context = NewContext(std::chrono::seconds(0));  // a backup takes as long as it takes
  std::unique_ptr<grpc::ClientReader<pb::BackupResponse>> reader =
      stub_->Backup(context.get(), pb::BackupRequest());
  pb::BackupResponse response;
  while (reader->Read(&response)) {
    if (absl::Status status = on_message(response); !status.ok()) {
      context->TryCancel();
      reader->Finish().IgnoreError();
      return status;
    }
  }
  grpc::Status status = reader->Finish();
  return ToStatus(status, *context);
}

absl::Status Client::Watch(const pb::WatchRequest& request,
                           std::chrono::system_clock::time_point deadline,
                           const std::function<bool(const pb::WatchResponse&)>& on_change) {
  auto context = NewContext(std::chrono::seconds(0));
  if (deadline != std::chrono::system_clock::time_point()) context->set_deadline(deadline);
  std::unique_ptr<grpc::ClientReader<pb::WatchResponse>> reader =
      stub_->Watch(context.get(), request);
  pb::WatchResponse response;
  while (reader->Read(&response)) {
    if (!on_change(response)) {
      context->TryCancel();
      reader->Finish().IgnoreError();
      return absl::OkStatus();
    }
  }
  grpc::Status status = reader->Finish();
  if (status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED && !SentByDaemon(*context)) {
    return absl::DeadlineExceededError("deadline passed");
  }
  return ToStatus(status, *context);
}

}  // namespace skydeck::cli
