#include "daemon/snapshots/snapshot_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>

#include <sys/stat.h>

#include "absl/strings/str_cat.h"

#include "common/sha256.h"
#include "common/status_macros.h"

namespace skydeck::snapshots {
namespace {

namespace fs = std::filesystem;

// Partial uploads in progress may hold at most this many times the
// snapshot limit in all (one or two CLIs uploading at once).
constexpr int64_t kPartialBudgetFactor = 4;

std::atomic<uint64_t> g_temp_counter{0};

absl::Status IoError(absl::string_view action, const std::string& path, int err) {
  return absl::InternalError(
      absl::StrCat("code snapshots: ", action, " ", path, ": ", std::strerror(err)));
}

// Sets mtime to now: "used" for the collector.
void Touch(const std::string& path) { utimensat(AT_FDCWD, path.c_str(), nullptr, 0); }

bool Exists(const std::string& path) {
  struct stat st;
  return stat(path.c_str(), &st) == 0;
}

absl::Time ModifiedAt(const struct stat& st) {
  return absl::FromUnixNanos(static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 +
                             st.st_mtim.tv_nsec);
}

// Names (not "." or "..") in `dir`; empty when it cannot be read.
std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = opendir(dir.c_str());
  if (d == nullptr) return names;
  while (struct dirent* e = readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  closedir(d);
  return names;
}

absl::Status WriteFile(const std::string& path, absl::string_view data) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) return IoError("writing", path, errno);
  bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
  ok = std::fflush(f) == 0 && ok;
  ok = fsync(fileno(f)) == 0 && ok;
  int err = errno;
  std::fclose(f);
  if (!ok) return IoError("writing", path, err);
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("code snapshots: no ", path));
  return std::string(std::istreambuf_iterator<char>(in), {});
}

absl::Status CheckId(absl::string_view id) {
  if (IsSha256Hex(id)) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat("code snapshot id \"", id.substr(0, 80),
                                                 "\": expected 64 lowercase hex digits"));
}

}  // namespace

StoredSnapshot Describe(absl::string_view id, const CodeManifest& m) {
  StoredSnapshot s;
  s.id = std::string(id);
  s.single_file = m.single_file;
  if (m.single_file && !m.entries.empty()) s.file_name = m.entries[0].path;
  for (const CodeEntry& e : m.entries) s.size_bytes += e.size;
  s.file_count = static_cast<int>(m.entries.size());
  return s;
}

absl::StatusOr<std::unique_ptr<SnapshotStore>> SnapshotStore::Open(std::string dir,
                                                                   SnapshotLimits limits) {
  std::error_code ec;
  for (const char* sub : {"blobs", "trees", "incoming", "tmp"}) {
    fs::create_directories(fs::path(dir) / sub, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("code snapshots: creating ", dir, "/", sub, ": ", ec.message()));
    }
  }
  for (const std::string& name : List(dir + "/tmp")) fs::remove_all(dir + "/tmp/" + name, ec);
  return std::unique_ptr<SnapshotStore>(new SnapshotStore(std::move(dir), limits));
}

SnapshotStore::SnapshotStore(std::string dir, SnapshotLimits limits)
    : dir_(std::move(dir)), limits_(limits) {}

std::string SnapshotStore::temp_dir() const { return dir_ + "/tmp"; }

std::string SnapshotStore::TreePath(absl::string_view id) const {
  return absl::StrCat(dir_, "/trees/", id);
}

std::string SnapshotStore::BlobPath(absl::string_view sha256) const {
  return absl::StrCat(dir_, "/blobs/", sha256.substr(0, 2), "/", sha256);
}

std::string SnapshotStore::PartPath(absl::string_view sha256) const {
  return absl::StrCat(dir_, "/incoming/", sha256, ".part");
}

std::string SnapshotStore::NewTempPath() {
  return absl::StrCat(dir_, "/tmp/", getpid(), "-", g_temp_counter.fetch_add(1), ".tmp");
}

bool SnapshotStore::HasBlob(absl::string_view sha256) {
  return IsSha256Hex(sha256) && Exists(BlobPath(sha256));
}

absl::Status SnapshotStore::InstallBlobLocked(absl::string_view sha256, const std::string& tmp) {
  std::string dest = BlobPath(sha256);
  std::error_code ec;
  fs::create_directories(fs::path(dest).parent_path(), ec);
  chmod(tmp.c_str(), 0444);
  if (std::rename(tmp.c_str(), dest.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return IoError("storing", dest, err);
  }
  return absl::OkStatus();
}

absl::Status SnapshotStore::PutBlobData(absl::string_view sha256, absl::string_view data) {
  RETURN_IF_ERROR(CheckId(sha256));
  if (Sha256Hex(data) != sha256) {
    return absl::DataLossError(absl::StrCat("content ", sha256, " does not match its SHA-256"));
  }
  std::string tmp = NewTempPath();
  RETURN_IF_ERROR(WriteFile(tmp, data));
  absl::MutexLock lock(&mu_);
  if (Exists(BlobPath(sha256))) {
    std::remove(tmp.c_str());
    Touch(BlobPath(sha256));
    return absl::OkStatus();
  }
  return InstallBlobLocked(sha256, tmp);
}

absl::Status SnapshotStore::PutBlobFromFile(absl::string_view sha256, const std::string& path) {
  RETURN_IF_ERROR(CheckId(sha256));
  if (HasBlob(sha256)) {
    Touch(BlobPath(sha256));
    return absl::OkStatus();
  }
  FILE* in = std::fopen(path.c_str(), "rb");
  if (in == nullptr) return IoError("reading", path, errno);
  std::string tmp = NewTempPath();
  FILE* out = std::fopen(tmp.c_str(), "wb");
  if (out == nullptr) {
    int err = errno;
    std::fclose(in);
    return IoError("writing", tmp, err);
  }
  Sha256 h;
  std::string buffer(1 << 20, '\0');
  size_t n;
  bool ok = true;
  while ((n = std::fread(buffer.data(), 1, buffer.size(), in)) > 0) {
    h.Update(absl::string_view(buffer.data(), n));
    ok = std::fwrite(buffer.data(), 1, n, out) == n && ok;
  }
  ok = !std::ferror(in) && std::fflush(out) == 0 && fsync(fileno(out)) == 0 && ok;
  std::fclose(in);
  std::fclose(out);
  if (!ok) {
    std::remove(tmp.c_str());
    return absl::InternalError(absl::StrCat("code snapshots: copying ", path));
  }
  if (h.HexDigest() != sha256) {
    std::remove(tmp.c_str());
    return absl::DataLossError(
        absl::StrCat(path, " changed while it was being snapshotted; try again"));
  }
  absl::MutexLock lock(&mu_);
  if (Exists(BlobPath(sha256))) {
    std::remove(tmp.c_str());
    return absl::OkStatus();
  }
  return InstallBlobLocked(sha256, tmp);
}

absl::StatusOr<BlobProgress> SnapshotStore::PutBlobChunk(absl::string_view sha256, int64_t size,
                                                         int64_t offset, absl::string_view data) {
  RETURN_IF_ERROR(CheckId(sha256));
  if (size < 0 || size > limits_.max_bytes) {
    return absl::InvalidArgumentError(absl::StrCat("content ", sha256, ": size ", size,
                                                   " is outside 0..", limits_.max_bytes,
                                                   " (skydeckd --max-snapshot-bytes)"));
  }
  if (static_cast<int64_t>(data.size()) > kMaxBlobChunkBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("content ", sha256, ": at most ", kMaxBlobChunkBytes, " bytes per chunk"));
  }
  if (offset < 0 || offset + static_cast<int64_t>(data.size()) > size) {
    return absl::InvalidArgumentError(absl::StrCat("content ", sha256, ": bytes ", offset, "..",
                                                   offset + static_cast<int64_t>(data.size()),
                                                   " are outside its size ", size));
  }
  absl::MutexLock lock(&mu_);
  std::string blob = BlobPath(sha256);
  if (Exists(blob)) {
    Touch(blob);
    return BlobProgress{size, true};
  }
  std::string part = PartPath(sha256);
  struct stat st;
  int64_t have = stat(part.c_str(), &st) == 0 ? st.st_size : 0;
  if (have == 0 && offset == 0) {
    int64_t pending = 0;
    for (const std::string& name : List(dir_ + "/incoming")) {
      if (stat((dir_ + "/incoming/" + name).c_str(), &st) == 0) pending += st.st_size;
    }
    if (pending + size > kPartialBudgetFactor * limits_.max_bytes) {
      return absl::ResourceExhaustedError(
          "too many code snapshot uploads are in progress; try again later");
    }
  }
  if (offset != have || have > size) {
    if (have > size) std::remove(part.c_str());  // a size that changed: start over
    return BlobProgress{have > size ? 0 : have, false};
  }
  if (!data.empty()) {
    FILE* f = std::fopen(part.c_str(), "ab");
    if (f == nullptr) return IoError("writing", part, errno);
    bool ok = std::fwrite(data.data(), 1, data.size(), f) == data.size();
    ok = std::fclose(f) == 0 && ok;
    if (!ok) return IoError("writing", part, errno);
    have += static_cast<int64_t>(data.size());
  } else if (have == 0 && !Exists(part)) {
    RETURN_IF_ERROR(WriteFile(part, ""));
  }
  if (have < size) return BlobProgress{have, false};
  absl::StatusOr<FileDigest> digest = Sha256File(part);
  if (!digest.ok() || digest->sha256 != sha256) {
    std::remove(part.c_str());
    return absl::DataLossError(
        absl::StrCat("content ", sha256, " as uploaded does not match its SHA-256 (",
                     digest.ok() ? digest->sha256 : std::string(digest.status().message()),
                     "); upload it again"));
  }
  RETURN_IF_ERROR(InstallBlobLocked(sha256, part));
  return BlobProgress{size, true};
}

absl::Status SnapshotStore::CheckSymlinksLocked(const CodeManifest& m, absl::string_view what) {
  for (const CodeEntry& e : m.entries) {
    if (e.kind != CodeEntryKind::kSymlink) continue;
    ASSIGN_OR_RETURN(std::string target, ReadFile(BlobPath(e.sha256)));
    if (!SymlinkStaysInside(e.path, target)) {
      return absl::InvalidArgumentError(
          absl::StrCat(what, ": the symlink ", e.path, " -> ", target.substr(0, 200),
                       " leaves the snapshot; only relative links inside it are kept"));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<PutResult> SnapshotStore::Put(CodeManifest manifest, absl::string_view what) {
  SortManifest(manifest);
  RETURN_IF_ERROR(ValidateManifest(manifest, limits_, what));
  std::string id = ManifestId(manifest);
  PutResult result;
  result.snapshot = Describe(id, manifest);
  absl::MutexLock lock(&mu_);
  std::string tree = TreePath(id);
  if (Exists(tree)) {
    Touch(tree);
    return result;
  }
  std::set<std::string> missing;
  for (const CodeEntry& e : manifest.entries) {
    std::string blob = BlobPath(e.sha256);
    if (Exists(blob)) {
      Touch(blob);
    } else {
      missing.insert(e.sha256);
    }
  }
  if (!missing.empty()) {
    result.missing.assign(missing.begin(), missing.end());
    return result;
  }
  RETURN_IF_ERROR(CheckSymlinksLocked(manifest, what));
  std::string tmp = NewTempPath();
  RETURN_IF_ERROR(WriteFile(tmp, CanonicalManifest(manifest)));
  if (std::rename(tmp.c_str(), tree.c_str()) != 0) {
    int err = errno;
    std::remove(tmp.c_str());
    return IoError("storing", tree, err);
  }
  return result;
}

absl::StatusOr<CodeManifest> SnapshotStore::ReadTreeLocked(absl::string_view id) {
  RETURN_IF_ERROR(CheckId(id));
  absl::StatusOr<std::string> text = ReadFile(TreePath(id));
  if (!text.ok()) {
    return absl::NotFoundError(absl::StrCat("code snapshot ", id, " is not stored in skydeckd"));
  }
  absl::StatusOr<CodeManifest> m = ParseManifest(*text);
  if (!m.ok()) {
    return absl::DataLossError(absl::StrCat("code snapshot ", id, ": ", m.status().message()));
  }
  return m;
}

absl::StatusOr<StoredSnapshot> SnapshotStore::Get(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  ASSIGN_OR_RETURN(CodeManifest m, ReadTreeLocked(id));
  Touch(TreePath(id));
  return Describe(id, m);
}

absl::StatusOr<CodeManifest> SnapshotStore::Manifest(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  return ReadTreeLocked(id);
}

absl::StatusOr<CollectResult> SnapshotStore::Collect(const std::set<std::string>& referenced,
                                                     absl::Time cutoff) {
  absl::MutexLock lock(&mu_);
  CollectResult result;
  auto old = [&](const std::string& path, struct stat* st) {
    return stat(path.c_str(), st) == 0 && ModifiedAt(*st) < cutoff;
  };
  auto remove = [&](const std::string& path, const struct stat& st) {
    if (std::remove(path.c_str()) == 0) result.bytes += st.st_size;
  };
  std::set<std::string> live_blobs;
  for (const std::string& id : List(dir_ + "/trees")) {
    std::string path = TreePath(id);
    struct stat st;
    if (!IsSha256Hex(id) || (referenced.count(id) == 0 && old(path, &st))) {
      if (stat(path.c_str(), &st) == 0) remove(path, st);
      ++result.trees;
      continue;
    }
    absl::StatusOr<CodeManifest> m = ReadTreeLocked(id);
    if (!m.ok()) continue;  // unreadable: keep what it may hold
    for (const CodeEntry& e : m->entries) live_blobs.insert(e.sha256);
  }
  for (const std::string& shard : List(dir_ + "/blobs")) {
    for (const std::string& sha : List(dir_ + "/blobs/" + shard)) {
      std::string path = absl::StrCat(dir_, "/blobs/", shard, "/", sha);
      struct stat st;
      if (live_blobs.count(sha) == 0 && old(path, &st)) {
        remove(path, st);
        ++result.blobs;
      }
    }
  }
  for (const char* sub : {"/incoming/", "/tmp/"}) {
    for (const std::string& name : List(dir_ + sub)) {
      std::string path = dir_ + sub + name;
      struct stat st;
      if (old(path, &st)) {
        remove(path, st);
        if (std::string(sub) == "/incoming/") ++result.partials;
      }
    }
  }
  return result;
}

}  // namespace skydeck::snapshots
