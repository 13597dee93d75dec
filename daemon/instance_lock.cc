#include "daemon/instance_lock.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace skydeck {
namespace {

std::string ReadAll(int fd) {
  std::string out;
  char buf[512];
  off_t offset = 0;
  while (out.size() < 4096) {
    ssize_t n = pread(fd, buf, sizeof(buf), offset);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    offset += n;
  }
  return out;
}

// The pid of the process holding a conflicting lock on `fd`, 0 if unknown
// (e.g. a lock held on another NFS client).
int LockOwner(int fd) {
  struct flock probe = {};
  probe.l_type = F_WRLCK;
  probe.l_whence = SEEK_SET;
  if (fcntl(fd, F_GETLK, &probe) != 0 || probe.l_type == F_UNLCK) return 0;
  return probe.l_pid > 0 ? probe.l_pid : 0;
}

}  // namespace

LockHolder ParseLockHolder(const std::string& content) {
  LockHolder holder;
  for (absl::string_view line : absl::StrSplit(content, '\n', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> kv =
        absl::StrSplit(line, absl::MaxSplits('=', 1));
    absl::string_view value = absl::StripAsciiWhitespace(kv.second);
    if (kv.first == "pid") {
      if (!absl::SimpleAtoi(value, &holder.pid) || holder.pid < 0) holder.pid = 0;
    } else if (kv.first == "grpc") {
      holder.grpc = std::string(value);
    } else if (kv.first == "http") {
      holder.http = std::string(value);
    }
  }
  return holder;
}

std::string DescribeLockHolder(const LockHolder& holder) {
  std::string out = holder.pid > 0 ? absl::StrCat("pid ", holder.pid) : "pid unknown";
  if (holder.grpc.empty()) {
    absl::StrAppend(&out, ", not listening yet");
  } else {
    absl::StrAppend(&out, ", gRPC ", holder.grpc);
    if (!holder.http.empty()) absl::StrAppend(&out, ", HTTP ", holder.http);
  }
  return out;
}

absl::StatusOr<std::unique_ptr<InstanceLock>> InstanceLock::Acquire(const std::string& path,
                                                                    const std::string& what) {
  // O_CLOEXEC: a job's exec'd command has no business with it.
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot open lock file ", path, ": ", std::strerror(errno)));
  }
  struct flock lock = {};
  lock.l_type = F_WRLCK;
  lock.l_whence = SEEK_SET;  // l_start = l_len = 0: the whole file, however long
  if (fcntl(fd, F_SETLK, &lock) != 0) {
    int err = errno;
    if (err != EACCES && err != EAGAIN) {
      close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat("cannot lock ", path, ": ", std::strerror(err)));
    }
    LockHolder holder = ParseLockHolder(ReadAll(fd));
    // The kernel knows the holder even before it wrote its pid.
    if (int owner = LockOwner(fd); owner > 0) holder.pid = owner;
    close(fd);
    return absl::AlreadyExistsError(absl::StrCat(
        "another skydeckd (", DescribeLockHolder(holder), ") is using ", what, " (lock file ", path,
        "); stop it first, or give this one another --data-dir and --db-path"));
  }
  std::unique_ptr<InstanceLock> held(new InstanceLock(path, fd));
  LockHolder me;
  me.pid = static_cast<int>(getpid());
  if (absl::Status s = held->Write(me); !s.ok()) return s;
  return held;
}

InstanceLock::~InstanceLock() {
  // A stale pid would only mislead someone reading the file by hand.
  (void)ftruncate(fd_, 0);
  close(fd_);  // releases the lock
}

absl::Status InstanceLock::RecordAddresses(const std::string& grpc, const std::string& http) {
  LockHolder me;
  me.pid = static_cast<int>(getpid());
  me.grpc = grpc;
  me.http = http;
  return Write(me);
}

absl::Status InstanceLock::Write(const LockHolder& holder) {
  std::string content = absl::StrCat("pid=", holder.pid, "\n");
  if (!holder.grpc.empty()) absl::StrAppend(&content, "grpc=", holder.grpc, "\n");
  if (!holder.http.empty()) absl::StrAppend(&content, "http=", holder.http, "\n");
  // One write at offset 0, then cut what an older, longer content left.
  ssize_t n = pwrite(fd_, content.data(), content.size(), 0);
  if (n != static_cast<ssize_t>(content.size()) ||
      ftruncate(fd_, static_cast<off_t>(content.size())) != 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot write lock file ", path_, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

}  // namespace skydeck
