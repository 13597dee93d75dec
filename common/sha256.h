// File: common/sha256.h
//
// SHA-256 digests as lowercase hex, the addresses of code snapshots and of
// the file contents they hold (common/code_manifest.h). OpenSSL does the
// hashing.
//
//   Sha256 h;
//   h.Update("hello ");
//   h.Update("world");
//   std::string hex = h.HexDigest();  // 64 hex digits
//   // Sha256Hex("hello world") == hex
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck {

inline constexpr size_t kSha256HexLength = 64;

// An incremental SHA-256. Not thread-safe; movable.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;

  void Update(absl::string_view data);
  // The digest of everything given so far. REQUIRES: called once; Update
  // may not be called afterwards.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

std::string Sha256Hex(absl::string_view data);

// The digest of the file at `path` and its size in bytes.
struct FileDigest {
  std::string sha256;
  int64_t size = 0;
};
// Errors: NOT_FOUND / PERMISSION_DENIED / INTERNAL naming the path.
absl::StatusOr<FileDigest> Sha256File(const std::string& path);

// True for 64 lowercase hex digits.
bool IsSha256Hex(absl::string_view text);

}  // namespace skydeck
