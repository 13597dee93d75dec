#include "daemon/workload/secret_source.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>
#include <sys/stat.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"

namespace skydeck::workload {
namespace {
namespace fs = std::filesystem;

struct SecretsFile {
  fs::path path = fs::temp_directory_path() / absl::StrCat("skydeck-secrets-", getpid(), "-", n++);
  explicit SecretsFile(const std::string& text, mode_t mode = 0600) {
    std::ofstream(path) << text;
    chmod(path.c_str(), mode);
  }
  ~SecretsFile() { fs::remove(path); }
  static inline int n = 0;
};

TEST_CASE("a secrets file holds KEY=VALUE lines", "[secrets]") {
  absl::StatusOr<SecretValues> v = ParseSecrets(
      "# comment\n\nWANDB_API_KEY=abc=def\r\nexport HF_TOKEN='hf x'\n  SPACED = \"q\"\nEMPTY=\n");
  REQUIRE(v.ok());
  CHECK(*v == SecretValues{{"WANDB_API_KEY", "abc=def"},
                           {"HF_TOKEN", "hf x"},
                           {"SPACED", " \"q\""},
                           {"EMPTY", ""}});
  absl::StatusOr<SecretValues> bad = ParseSecrets("A=1\nno-equals-here-s3cr3t\n");
  CHECK(absl::IsInvalidArgument(bad.status()));
  CHECK(bad.status().message() == "line 2: expected NAME=value");
  CHECK(ParseSecrets("1X=2\n").status().message() ==
        "line 1: the name before '=' must match [A-Za-z_][A-Za-z0-9_]*");
}

TEST_CASE("a file source reads at every use and names what is missing", "[secrets]") {
  SecretsFile file("WANDB_API_KEY=s3cr3t\n");
  std::unique_ptr<SecretSource> source = FileSecretSource(file.path.string());
  absl::StatusOr<SecretValues> got = source->Resolve({"WANDB_API_KEY"});
  REQUIRE(got.ok());
  CHECK(got->at("WANDB_API_KEY") == "s3cr3t");
  CHECK(source->Resolve({})->empty());

  absl::StatusOr<SecretValues> missing = source->Resolve({"WANDB_API_KEY", "HF_TOKEN", "B"});
  CHECK(absl::IsFailedPrecondition(missing.status()));
  CHECK(absl::StartsWith(missing.status().message(),
                         "secrets HF_TOKEN, B are not set in the "
                         "secrets file "));
  CHECK_FALSE(absl::StrContains(missing.status().message(), "s3cr3t"));

  // Edits take effect without a restart.
  std::ofstream(file.path, std::ios::app) << "HF_TOKEN=hf\nB=b\n";
  CHECK(source->Resolve({"HF_TOKEN", "B"}).ok());
}

TEST_CASE("a secrets file others can read is refused", "[secrets]") {
  SecretsFile open_file("A=s3cr3t\n", 0644);
  absl::Status checked = CheckSecretsFile(open_file.path.string());
  CHECK(absl::IsFailedPrecondition(checked));
  CHECK(absl::StrContains(checked.message(), "mode 0644"));
  CHECK(absl::StrContains(checked.message(), "chmod 600"));
  CHECK(absl::IsFailedPrecondition(
      FileSecretSource(open_file.path.string())->Resolve({"A"}).status()));
  SecretsFile group("A=1\n", 0640);
  CHECK(absl::IsFailedPrecondition(CheckSecretsFile(group.path.string())));
  SecretsFile owner_only("A=1\n", 0400);
  CHECK(CheckSecretsFile(owner_only.path.string()).ok());
  CHECK(absl::IsFailedPrecondition(CheckSecretsFile("/nonexistent/secrets")));
  SecretsFile malformed("A=1\nB\n");
  absl::Status bad = CheckSecretsFile(malformed.path.string());
  CHECK(absl::StrContains(bad.message(), "line 2"));
}

TEST_CASE("without a file, secrets come from the daemon's environment", "[secrets]") {
  setenv("SKYDECK_TEST_SECRET_X", "from-env", 1);
  std::unique_ptr<SecretSource> source = EnvironmentSecretSource();
  CHECK(source->Resolve({"SKYDECK_TEST_SECRET_X"})->at("SKYDECK_TEST_SECRET_X") == "from-env");
  unsetenv("SKYDECK_TEST_SECRET_X");
  absl::Status missing = source->Resolve({"SKYDECK_TEST_SECRET_X"}).status();
  CHECK(absl::IsFailedPrecondition(missing));
  CHECK(absl::StrContains(missing.message(), "skydeckd's environment"));
}

}  // namespace
}  // namespace skydeck::workload
