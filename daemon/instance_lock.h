// File: daemon/instance_lock.h
//
// One skydeckd per database and per data directory. Two daemons on one
// database would both reconcile the same experiments and launch the same
// attempt twice, and two on one data directory would take each other's job
// directories for crash leftovers; so skydeckd holds an exclusive lock on a
// file beside its database and one in its data directory from before it
// opens either until it exits.
//
// The locks are POSIX record locks (fcntl F_SETLK) on the whole file: the
// kernel drops them when the process ends in any way, kill -9 included, so
// a stale lock file never blocks a restart; and, unlike flock(), they are
// not inherited by fork(), so the local backend's job monitors (forks that
// outlive the daemon) never keep a dead daemon's lock. The file itself is
// never deleted (deleting a lock file lets two processes lock two different
// files of one name); its content says who holds it:
//
//   pid=1234
//   grpc=127.0.0.1:50051
//   http=127.0.0.1:8000
//
// (the addresses once the daemon listens), so a second daemon can say
// which process to stop.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<InstanceLock> lock,
//                    InstanceLock::Acquire("/data/skydeck.db.lock", "database /data/skydeck.db"));
//   ...
//   lock->RecordAddresses("127.0.0.1:50051", "127.0.0.1:8000");
//
// Thread-safety: an InstanceLock is used by one thread at a time. Locks are
// per process: the same process locking one file twice gets it twice, so a
// daemon takes each file once (Daemon checks the two paths differ); and
// closing *any* descriptor of a locked file drops the process's lock on it,
// so nothing else in the process may open a lock file.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace skydeck {

// What the lock file of a running daemon says about it.
struct LockHolder {
  int pid = 0;       // 0: unknown
  std::string grpc;  // "" until it listens
  std::string http;  // "" until it listens, or with HTTP off
};

// Parses the lock file's content (unknown lines are ignored).
LockHolder ParseLockHolder(const std::string& content);
// "pid 1234, gRPC 127.0.0.1:50051, HTTP 127.0.0.1:8000" (parts left out
// when unknown; "not listening yet" before it listens).
std::string DescribeLockHolder(const LockHolder& holder);

class InstanceLock {
 public:
  // InstanceLock::Acquire()
  //
  // Creates `path` if missing, locks it without waiting and writes this
  // process's pid into it. `what` names what the lock guards, for messages
  // ("database /data/skydeck.db").
  // Errors: ALREADY_EXISTS when another process holds the lock: the message
  // names `what`, the holder's pid and addresses, and the way out;
  // FAILED_PRECONDITION when the file cannot be created or locked (e.g. a
  // missing directory, or a file system without locks).
  static absl::StatusOr<std::unique_ptr<InstanceLock>> Acquire(const std::string& path,
                                                               const std::string& what);

  // Clears the file's content and releases the lock.
  ~InstanceLock();
  InstanceLock(const InstanceLock&) = delete;
  InstanceLock& operator=(const InstanceLock&) = delete;

  // Rewrites the content with this process's pid and the listening
  // addresses (`http` empty when HTTP is off).
  absl::Status RecordAddresses(const std::string& grpc, const std::string& http);

  const std::string& path() const { return path_; }

 private:
  InstanceLock(std::string path, int fd) : path_(std::move(path)), fd_(fd) {}
  absl::Status Write(const LockHolder& holder);

  const std::string path_;
  const int fd_;
};

}  // namespace skydeck
