// skydeck-web: the HTTP/JSON bridge and dashboard as a process of its own,
// in front of a skydeckd reached over gRPC (e.g. on another host or port).
// skydeckd embeds the same bridge by default; use this to serve HTTP from a
// different machine or user than the daemon.
//
//   skydeck-web --target 127.0.0.1:50051 --port 8000
#include <cstdio>
#include <fstream>

#include <grpcpp/grpcpp.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"

#include "CLI/CLI.hpp"
#include "common/bearer_token.h"
#include "common/log.h"
#include "common/loopback.h"
#include "common/shutdown_signals.h"
#include "web/bridge/http_bridge.h"
#include "web/bridge/http_limit_flags.h"
#include "web/bridge/sse_keepalive_flag.h"

int main(int argc, char** argv) {
  using namespace skydeck;
  CLI::App app{"skydeck-web: HTTP/JSON API and dashboard for a skydeckd", "skydeck-web"};
  std::string target = "127.0.0.1:50051", token_file;
  web::BridgeOptions options;
  absl::Duration keepalive = absl::Seconds(15);
  std::string ready_file;
  app.add_option("--target", target, "skydeckd gRPC address")
      ->capture_default_str()
      ->envname("SKYDECK_SERVER");
  app.add_option("--host", options.host, "Address to listen on")->capture_default_str();
  app.add_option("--port", options.port, "Port (0 picks a free one)")->capture_default_str();
  app.add_option("--web-root", options.web_root,
                 "Serve the dashboard from this directory instead of the embedded copy "
                 "(for UI development)");
  app.add_option("--auth-token-file", token_file,
                 "Bearer token required from HTTP clients and sent to skydeckd "
                 "(or env SKYDECK_AUTH_TOKEN)");
  // The same flag as skydeckd's; the older --sse-keepalive-ms still works.
  CLI::Option* keepalive_flag = web::AddSseKeepaliveFlag(app, &keepalive);
  web::AddDeprecatedSseKeepaliveMsFlag(app, keepalive_flag, &keepalive);
  app.add_option("--http-allowed-host", options.allowed_hosts,
                 "Host name answered without a token besides localhost and loopback "
                 "addresses. Repeatable")
      ->allow_extra_args(false);
  app.add_option("--ready-file", ready_file, "Write host:port here once listening");
  web::AddHttpLimitFlags(app, &options.limits);
  CLI11_PARSE(app, argc, argv);
  for (std::string& h : options.allowed_hosts) h = absl::AsciiStrToLower(h);
  options.embedded_files = web::EmbeddedDashboardFiles();

  auto token = LoadBearerToken(token_file, std::getenv("SKYDECK_AUTH_TOKEN"));
  if (!token.ok()) {
    LogError("cannot load the auth token", {{"error", std::string(token.status().message())}});
    return 2;
  }
  options.token = *std::move(token);
  if (!IsLoopbackHost(options.host) && options.token.empty()) {
    LogError("refusing to listen on a non-loopback address without a token",
             {{"host", options.host}});
    return 2;
  }
  if (app.count("--sse-keepalive-ms") > 0) {
    LogWarn("--sse-keepalive-ms is deprecated: use --sse-keepalive DURATION (e.g. 15s)");
  }
  options.keepalive = absl::ToChronoMilliseconds(keepalive);

  ShutdownSignals signals = BlockShutdownSignals();

  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(8 * 1024 * 1024);
  auto channel = grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(), args);
  web::HttpBridge bridge(channel, options);
  auto port = bridge.Start();
  if (!port.ok()) {
    LogError("cannot start", {{"error", port.status().ToString()}});
    return 1;
  }
  LogInfo("skydeck-web started", {{"http", absl::StrCat(options.host, ":", *port)},
                                  {"target", target},
                                  {"auth", options.token.empty() ? "off" : "token"}});
  if (!ready_file.empty()) {
    std::ofstream(ready_file + ".tmp") << options.host << ":" << *port << "\n";
    std::rename((ready_file + ".tmp").c_str(), ready_file.c_str());
  }
  int sig = signals.Wait();
  LogInfo("shutting down", {{"signal", ShutdownSignalName(sig)}});
  // Streams end when skydeckd's Watch ends or the client leaves; stopping
  // the server closes the listener and waits for in-flight requests.
  bridge.Stop();
  LogInfo("stopped");
  return 0;
}
