#include "common/model/link_template.h"

#include <catch2/catch.hpp>

namespace skydeck {
namespace {

ExperimentRecord Experiment() {
  ExperimentRecord e;
  e.id = 42;
  e.spec.name = "lr-3e-4";
  e.spec.labels = {{"sweep", "lr sweep/1"}};
  e.spec.flags = {{"trainer.lr", FlagValue(0.0003)}};
  return e;
}

JobRecord Job() {
  JobRecord j;
  j.id = 17;
  j.attempt = 3;
  j.backend_job_id = "305";
  j.run_name = "lr-3e-4";
  j.flags = {{"trainer.lr", FlagValue(0.001)}};
  return j;
}

TEST_CASE("link templates fill every placeholder", "[links]") {
  auto t = LinkTemplate::Parse(
      "all=https://x.test/{experiment_name}/{experiment_id}/{run_name}/{job_id}/{attempt}/"
      "{backend_job_id}?s={label.sweep}&lr={flag.trainer.lr}");
  REQUIRE(t.ok());
  CHECK(t->name() == "all");
  ExperimentRecord e = Experiment();
  JobRecord j = Job();
  CHECK(t->Expand(e, &j) ==
        "https://x.test/lr-3e-4/42/lr-3e-4/17/3/305?s=lr%20sweep%2F1&lr=0.001");
}

TEST_CASE("substituted values are URL-escaped", "[links]") {
  CHECK(UrlEscape("a b/c?d&e=f#g%~._-") == "a%20b%2Fc%3Fd%26e%3Df%23g%25~._-");
  CHECK(UrlEscape("é") == "%C3%A9");
  auto t = LinkTemplate::Parse("x=https://x.test/{label.sweep}");
  REQUIRE(t.ok());
  ExperimentRecord e = Experiment();
  e.spec.labels["sweep"] = "../../evil?x=1";
  CHECK(t->Expand(e, nullptr) == "https://x.test/..%2F..%2Fevil%3Fx%3D1");
}

TEST_CASE("a link that cannot be filled is left out", "[links]") {
  ExperimentRecord e = Experiment();
  auto job_link = LinkTemplate::Parse("SkyPilot=http://h/dashboard/jobs/{backend_job_id}");
  auto label_link = LinkTemplate::Parse("team=http://h/{label.team}");
  auto wandb = LinkTemplate::Parse("W&B=https://wandb.ai/o/p/runs/{run_name}");
  REQUIRE(job_link.ok());
  REQUIRE(label_link.ok());
  REQUIRE(wandb.ok());
  CHECK_FALSE(job_link->Expand(e, nullptr).has_value());  // no job yet
  JobRecord unlaunched = Job();
  unlaunched.backend_job_id.clear();
  CHECK_FALSE(job_link->Expand(e, &unlaunched).has_value());
  CHECK_FALSE(label_link->Expand(e, nullptr).has_value());
  // Without a job, the experiment's run name (else its name) and flags.
  CHECK(wandb->Expand(e, nullptr) == "https://wandb.ai/o/p/runs/lr-3e-4");
  e.spec.link = "https://wandb.ai/o/p/runs/abc";
  std::vector<ResolvedLink> links = ResolveLinks({*job_link, *label_link, *wandb}, e, nullptr);
  REQUIRE(links.size() == 2);
  CHECK(links[0] == ResolvedLink{"link", "https://wandb.ai/o/p/runs/abc"});
  CHECK(links[1] == ResolvedLink{"W&B", "https://wandb.ai/o/p/runs/lr-3e-4"});
}

TEST_CASE("bad link templates are refused with a clear error", "[links]") {
  auto code = [](const std::string& flag) { return LinkTemplate::Parse(flag).status().code(); };
  CHECK(code("https://x.test/{run_name}") == absl::StatusCode::kInvalidArgument);  // no name
  CHECK(code("=https://x.test/") == absl::StatusCode::kInvalidArgument);
  CHECK(code("x=ftp://x.test/") == absl::StatusCode::kInvalidArgument);
  CHECK(code("x={label.host}/path") == absl::StatusCode::kInvalidArgument);  // scheme from a value
  CHECK(code("x=https://x.test/{run_name") == absl::StatusCode::kInvalidArgument);
  CHECK(code("x=https://x.test/run_name}") == absl::StatusCode::kInvalidArgument);
  CHECK(code("x=https://x.test/{label.}") == absl::StatusCode::kInvalidArgument);
  CHECK(code("x=https://x.test/a b") == absl::StatusCode::kInvalidArgument);
  auto unknown = LinkTemplate::Parse("x=https://x.test/{runname}");
  REQUIRE(unknown.status().code() == absl::StatusCode::kInvalidArgument);
  CHECK_THAT(std::string(unknown.status().message()),
             Catch::Contains("{runname}") && Catch::Contains("{run_name}"));
  CHECK(LinkTemplate::Parse("W&B = https://wandb.ai/{run_name}").ok());
}

TEST_CASE("an experiment's link must be an http(s) URL", "[links]") {
  CHECK(ValidateLinkUrl("link", "").ok());
  CHECK(ValidateLinkUrl("link", "https://wandb.ai/o/p/runs/x").ok());
  CHECK(ValidateLinkUrl("link", "HTTP://host:8080").ok());
  CHECK(ValidateLinkUrl("link", "javascript:alert(1)").code() ==
        absl::StatusCode::kInvalidArgument);
  CHECK(ValidateLinkUrl("link", "https:///path").code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateLinkUrl("link", "https://a b").code() == absl::StatusCode::kInvalidArgument);
  CHECK(ValidateLinkUrl("link", "wandb.ai/x").code() == absl::StatusCode::kInvalidArgument);
}

TEST_CASE("the SkyPilot dashboard's job page", "[links]") {
  CHECK(SkyPilotJobPageTemplate("http://127.0.0.1:46580/") ==
        "http://127.0.0.1:46580/dashboard/jobs/{backend_job_id}");
}

}  // namespace
}  // namespace skydeck
