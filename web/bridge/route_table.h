// File: web/bridge/route_table.h
//
// HTTP routes derived from the API descriptors: every method of a service
// that carries the `(skydeck.v1.http)` option ("VERB /path/{field}") becomes
// a route. Nothing here names a particular RPC, so adding an RPC with an
// option makes it reachable over HTTP with no bridge change.
//
//   ASSIGN_OR_RETURN(RouteTable table, RouteTable::ForService(descriptor));
//   auto match = table.Match("GET", "/api/experiments/42");
//   // match->route->method->name() == "GetExperiment",
//   // match->path_params == {{"id", "42"}}
#pragma once

#include <map>
#include <string>
#include <vector>

#include <google/protobuf/descriptor.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck::web {

struct Route {
  std::string verb;  // GET, POST, PATCH, PUT, DELETE
  std::string pattern;
  // Literal segments, or "{field}" for a path parameter.
  std::vector<std::string> segments;
  const google::protobuf::MethodDescriptor* method = nullptr;
  bool server_streaming() const { return method->server_streaming(); }
};

struct RouteMatch {
  const Route* route = nullptr;
  std::map<std::string, std::string> path_params;
};

class RouteTable {
 public:
  // Errors: INVALID_ARGUMENT for a malformed option or a `{field}` the
  // request message does not have.
  static absl::StatusOr<RouteTable> ForService(const google::protobuf::ServiceDescriptor* service);

  // Errors: NOT_FOUND when no route has this path; FAILED_PRECONDITION
  // (HTTP 405) when the path exists for other verbs only. Literal segments
  // win over parameters ("/api/experiments/state" is not id "state").
  absl::StatusOr<RouteMatch> Match(absl::string_view verb, absl::string_view path) const;

  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Percent-decodes one path segment. Errors: INVALID_ARGUMENT on a bad escape.
absl::StatusOr<std::string> PercentDecode(absl::string_view text);

}  // namespace skydeck::web
