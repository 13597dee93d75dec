#include "daemon/backend/local/job_dir.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <sys/stat.h>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace skydeck::backend::local {
namespace fs = std::filesystem;

namespace {

constexpr char kSpec[] = "spec";
constexpr char kLaunched[] = "launched";
constexpr char kCancelRequested[] = "cancel-requested";

std::optional<std::string> ReadSmallFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

// Write-then-rename, so a reader sees the old content or the new, never a
// prefix.
absl::Status WriteFileAtomically(const fs::path& path, const std::string& content) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << content;
    out.flush();
    if (!out) {
      return absl::UnavailableError(
          absl::StrCat("writing ", tmp.string(), ": ", std::strerror(errno)));
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("renaming ", tmp.string(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

std::optional<int64_t> ReadInt64File(const fs::path& path) {
  std::optional<std::string> content = ReadSmallFile(path);
  int64_t value = 0;
  if (!content || !absl::SimpleAtoi(absl::StripAsciiWhitespace(*content), &value)) {
    return std::nullopt;
  }
  return value;
}

// "node-<digits>.pid" or "node-<digits>.exit".
bool IsNodeRecordName(absl::string_view name) {
  if (!absl::ConsumePrefix(&name, "node-")) return false;
  if (!absl::ConsumeSuffix(&name, ".pid") && !absl::ConsumeSuffix(&name, ".exit")) return false;
  return !name.empty() && std::all_of(name.begin(), name.end(), absl::ascii_isdigit);
}

}  // namespace

bool IsSafeJobName(absl::string_view name) {
  if (name.empty() || name.size() > 200 || name == "." || absl::StrContains(name, "..")) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
  });
}

bool JobDir::Exists() const {
  std::error_code ec;
  return fs::is_directory(path_, ec);
}

absl::Status JobDir::WriteSpec(const JobSpec& spec) const {
  std::string out =
      absl::StrCat("name=", absl::CEscape(spec.name), "\n", "command=", absl::CEscape(spec.command),
                   "\n", "nodes=", spec.nodes, "\n", "gpus_per_node=", spec.gpus_per_node, "\n",
                   "gpu_type=", absl::CEscape(spec.gpu_type), "\n",
                   "infra=", absl::CEscape(spec.infra), "\n", "spot=", spec.spot ? 1 : 0, "\n");
  absl::StrAppend(&out, "workdir=", absl::CEscape(FormatWorkdir(spec.workdir)), "\n",
                  "setup=", absl::CEscape(spec.setup), "\n");
  for (const auto& [key, value] : spec.env) {
    absl::StrAppend(&out, "env.", absl::CEscape(key), "=", absl::CEscape(value), "\n");
  }
  // Secrets by name only: their values never touch the disk.
  for (const auto& [key, value] : spec.secrets) {
    absl::StrAppend(&out, "secret.", absl::CEscape(key), "\n");
  }
  return WriteFileAtomically(path_ / kSpec, out);
}

int JobDir::Nodes() const {
  std::optional<std::string> spec = ReadSmallFile(path_ / kSpec);
  if (!spec) return 1;
  for (absl::string_view line : absl::StrSplit(*spec, '\n')) {
    int nodes = 0;
    if (absl::ConsumePrefix(&line, "nodes=") && absl::SimpleAtoi(line, &nodes) && nodes > 0) {
      return nodes;
    }
  }
  return 1;
}

absl::Status JobDir::MarkLaunched(int64_t unix_ms) const {
  return WriteFileAtomically(path_ / kLaunched, absl::StrCat(unix_ms, "\n"));
}

std::optional<int64_t> JobDir::LaunchedMs() const { return ReadInt64File(path_ / kLaunched); }

absl::Status JobDir::WriteNodeProcess(int rank, const NodeProcess& p) const {
  return WriteFileAtomically(
      path_ / absl::StrCat("node-", rank, ".pid"),
      absl::StrCat(p.monitor_pid, " ", p.monitor_start, " ", p.job_pid, " ", p.job_start, "\n"));
}

std::optional<NodeProcess> JobDir::ReadNodeProcess(int rank) const {
  std::optional<std::string> content = ReadSmallFile(path_ / absl::StrCat("node-", rank, ".pid"));
  if (!content) return std::nullopt;
  std::istringstream in(*content);
  NodeProcess p;
  if (!(in >> p.monitor_pid >> p.monitor_start >> p.job_pid >> p.job_start)) return std::nullopt;
  return p;
}

std::string JobDir::NodeResultName(int rank) { return absl::StrCat("node-", rank, ".exit"); }

std::optional<NodeResult> JobDir::ReadNodeResult(int rank) const {
  fs::path path = path_ / NodeResultName(rank);
  std::optional<std::string> content = ReadSmallFile(path);
  if (!content) return std::nullopt;
  std::istringstream in(*content);
  NodeResult result;
  if (!(in >> result.exit_code)) return std::nullopt;
  if (!(in >> result.signal)) result.signal = 0;
  if (in >> result.end_ns) return result;
  // Without a recorded time, the file's mtime is the next best thing.
  struct stat st;
  if (stat(path.c_str(), &st) == 0) {
    result.end_ns = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  }
  return result;
}

absl::Status JobDir::MarkCancelRequested(int64_t unix_ms) const {
  if (CancelRequestedMs()) return absl::OkStatus();
  return WriteFileAtomically(path_ / kCancelRequested, absl::StrCat(unix_ms, "\n"));
}

std::optional<int64_t> JobDir::CancelRequestedMs() const {
  return ReadInt64File(path_ / kCancelRequested);
}

absl::Status JobDir::RemoveScratch() const {
  std::error_code ec;
  fs::directory_iterator it(path_, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("listing ", path_.string(), ": ", ec.message()));
  }
  for (const fs::directory_entry& entry : it) {
    std::string name = entry.path().filename().string();
    bool record = name == "run.log" || name == kSpec || name == kLaunched ||
                  name == kCancelRequested || IsNodeRecordName(name);
    if (record) continue;
    fs::remove_all(entry.path(), ec);
    if (ec) {
      return absl::UnavailableError(
          absl::StrCat("removing ", entry.path().string(), ": ", ec.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace skydeck::backend::local
