// File: common/sha256.h
//
// SHA-256 of a byte stream fed in pieces (OpenSSL's implementation), for
// checking that a backup arrived whole: the daemon sends the digest of
// what it streamed, the CLI compares it with the digest of what it wrote,
// and `sha256sum FILE` prints the same hex digits.
//
//   Sha256 hash;
//   hash.Update("abc");
//   hash.HexDigest() == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
//
// Thread-safety: one thread at a time.
#pragma once

#include <memory>
#include <string>

#include "absl/strings/string_view.h"

namespace skydeck {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // The digest of everything given so far, as 64 lower-case hex digits.
  // REQUIRES: called once; Update is not called afterwards.
  std::string HexDigest();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace skydeck
