#include "cli/workload_args.h"

#include <catch2/catch.hpp>

using namespace skydeck::cli;

TEST_CASE("envs are NAME=value with names the daemon accepts", "[cli][workload]") {
  auto envs = ParseEnvs({"WANDB_PROJECT=llm", "EMPTY=", "EQ=a=b"});
  REQUIRE(envs.ok());
  CHECK(*envs ==
        std::map<std::string, std::string>{{"WANDB_PROJECT", "llm"}, {"EMPTY", ""}, {"EQ", "a=b"}});
  CHECK(absl::IsInvalidArgument(ParseEnvs({"novalue"}).status()));
  CHECK(absl::IsInvalidArgument(ParseEnvs({"A=1", "A=2"}).status()));
  CHECK(absl::IsInvalidArgument(ParseEnvs({"1A=1"}).status()));
  CHECK(absl::IsInvalidArgument(ParseEnvs({"SKYDECK_JOB=1"}).status()));
}

TEST_CASE("a relative workdir is made absolute; URLs pass", "[cli][workload]") {
  CHECK(*ResolveWorkdir(".", "/home/me/p") == "/home/me/p");
  CHECK(*ResolveWorkdir("src/../code/", "/home/me/p") == "/home/me/p/code");
  CHECK(*ResolveWorkdir("/abs//dir/.", "/elsewhere") == "/abs/dir/");
  CHECK(*ResolveWorkdir("https://github.com/org/repo.git@v1", "/x") ==
        "https://github.com/org/repo.git@v1");
  CHECK(*ResolveWorkdir("git@github.com:org/repo.git", "/x") == "git@github.com:org/repo.git");
  CHECK(absl::IsInvalidArgument(ResolveWorkdir("", "/x").status()));
}
