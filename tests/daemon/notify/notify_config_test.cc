#include "daemon/notify/notify_config.h"

#include <string>

#include <catch2/catch.hpp>

namespace skydeck::notify {
namespace {

absl::StatusOr<NotifyConfig> Parse(const std::string& text) {
  return ParseNotifyConfig(text, "notify.yaml");
}

std::string ErrorOf(const std::string& text) {
  absl::StatusOr<NotifyConfig> c = Parse(text);
  REQUIRE_FALSE(c.ok());
  CHECK(c.status().code() == absl::StatusCode::kInvalidArgument);
  return std::string(c.status().message());
}

TEST_CASE("a list of sinks with defaults", "[notify]") {
  auto c = Parse(R"(
- name: team-slack
  url: https://hooks.slack.com/services/T0/B0/SECRET
  format: slack
  events: [job_failed, stalled]
  selector: team=nlp
- name: audit
  url: http://127.0.0.1:8080/hook
)");
  REQUIRE(c.ok());
  REQUIRE(c->sinks.size() == 2);
  const SinkConfig& slack = c->sinks[0];
  CHECK(slack.name == "team-slack");
  CHECK(slack.format == PayloadFormat::kSlack);
  CHECK(slack.events == std::set<NotifyKind>{NotifyKind::kJobFailed, NotifyKind::kStalled});
  REQUIRE(slack.selector.has_value());
  CHECK(slack.selector->Matches({{"team", "nlp"}}));
  CHECK_FALSE(slack.selector->Matches({{"team", "cv"}}));
  const SinkConfig& audit = c->sinks[1];
  CHECK(audit.format == PayloadFormat::kJson);
  CHECK(audit.events.size() == kAllNotifyKinds.size());  // all by default
  CHECK_FALSE(audit.selector.has_value());
  CHECK(audit.timeout == absl::Seconds(10));
  CHECK(c->unreachable_after == absl::Minutes(5));
}

TEST_CASE("a mapping sets unreachable_after", "[notify]") {
  auto c = Parse(
      "unreachable_after: 90s\nsinks:\n  - name: a\n    url: http://127.0.0.1:1/\n"
      "    events: all\n    timeout: 2s\n");
  REQUIRE(c.ok());
  CHECK(c->unreachable_after == absl::Seconds(90));
  CHECK(c->sinks[0].timeout == absl::Seconds(2));
  CHECK(c->sinks[0].events.size() == kAllNotifyKinds.size());
}

TEST_CASE("errors name the file and the line", "[notify]") {
  CHECK(ErrorOf("- name: a\n  url: http://x/\n  events: [job_fail]\n") ==
        "notify.yaml:3: sink 'a': unknown event 'job_fail' (known: job_failed, stalled, "
        "succeeded, preempted, recovered, backend_unreachable, backend_reachable, all)");
  CHECK(ErrorOf("- name: a\n  url: http://x/\n  format: teams\n") ==
        "notify.yaml:3: sink 'a': unknown format 'teams' (json or slack)");
  CHECK(ErrorOf("- name: a\n  url: http://x/\n- name: a\n  url: http://y/\n") ==
        "notify.yaml:3: sink name 'a' is used twice");
  CHECK(ErrorOf("- name: a\n  url: http://x/\n  colour: red\n") ==
        "notify.yaml:3: sink 'a': unknown key 'colour' (known: name, url, format, events, "
        "selector, timeout)");
  CHECK(ErrorOf("- name: a\n") == "notify.yaml:1: sink 'a': url is missing");
  CHECK(ErrorOf("- url: http://x/\n") == "notify.yaml:1: sink 1: name is missing");
  CHECK(ErrorOf("- name: Bad Name\n  url: http://x/\n") ==
        "notify.yaml:1: sink name 'Bad Name': use 1-64 of a-z, 0-9, '-' and '_'");
  CHECK(ErrorOf("- name: a\n  url: http://x/\n  selector: 'a in ('\n")
            .rfind("notify.yaml:3: sink 'a': selector: ", 0) == 0);
  CHECK(ErrorOf("- name: a\n  url: http://x/\n  timeout: soon\n") ==
        "notify.yaml:3: timeout 'soon' is not a positive duration (e.g. 30s, 5m, 1h)");
  CHECK(ErrorOf("name: a\n") ==
        "notify.yaml:1: unknown key 'name' (known: sinks, "
        "unreachable_after)");
  CHECK(ErrorOf("unreachable_after: 1m\n") == "notify.yaml:1: sinks is missing");
  CHECK(ErrorOf("") == "notify.yaml: no sinks (the file is empty)");
  CHECK(ErrorOf("- [unclosed\n").rfind("notify.yaml:2: invalid YAML: ", 0) == 0);
}

TEST_CASE("a bad url is refused without showing its secret", "[notify]") {
  std::string e = ErrorOf("- name: a\n  url: ftp://files.example/SECRET\n");
  CHECK(e ==
        "notify.yaml:2: sink 'a': url ftp://files.example/…: the scheme must be http or "
        "https");
  CHECK(e.find("SECRET") == std::string::npos);
  e = ErrorOf("- name: a\n  url: https://user:SECRET@hooks.example/x\n");
  CHECK(e.find("SECRET") == std::string::npos);
  CHECK(ErrorOf("- name: a\n  url: hooks.example/SECRET\n").find("SECRET") == std::string::npos);
}

}  // namespace
}  // namespace skydeck::notify
