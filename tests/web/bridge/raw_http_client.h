// File: tests/web/bridge/raw_http_client.h
//
// A blocking loopback HTTP/1.1 client on a raw socket, for tests that need
// what a library client hides: unfinished requests, dribbled headers,
// many idle connections, the exact bytes of an answer.
#pragma once

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <optional>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <catch2/catch.hpp>
#include <netinet/in.h>
#include <sys/socket.h>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace skydeck::web::test_support {

using namespace std::chrono_literals;

// A blocking loopback socket whose reads give up after 10 s.
class RawClient {
 public:
  explicit RawClient(int port, const char* source_ip = nullptr) {
    fd_ = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (source_ip != nullptr) {  // another loopback address: another "client"
      sockaddr_in local{};
      local.sin_family = AF_INET;
      inet_pton(AF_INET, source_ip, &local.sin_addr);
      REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&local), sizeof(local)) == 0);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0);
    timeval tv{10, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  ~RawClient() { close(fd_); }
  // False once the peer closed or reset the connection.
  bool Send(absl::string_view data) {
    return ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(data.size());
  }
  // Reads until `needle` is in what was read, the peer closes, or 10 s.
  std::string ReadUntil(absl::string_view needle) {
    while (received_.find(std::string(needle)) == std::string::npos) {
      if (!ReadSome()) break;
    }
    return received_;
  }
  // Reads until `needle` was read `count` times; false on close or 10 s.
  bool ReadUntilCount(absl::string_view needle, int count) {
    std::string text(needle);
    auto occurrences = [&] {
      int n = 0;
      for (size_t at = received_.find(text); at != std::string::npos;
           at = received_.find(text, at + text.size())) {
        ++n;
      }
      return n;
    };
    while (occurrences() < count) {
      if (!ReadSome()) return false;
    }
    return true;
  }
  // True when the peer closes (or resets) the connection within 10 s.
  bool WaitClosed() {
    while (true) {
      char buf[4096];
      ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n == 0 || (n < 0 && errno == ECONNRESET)) return true;
      if (n < 0) return false;  // timed out
      received_.append(buf, static_cast<size_t>(n));
    }
  }
  const std::string& received() const { return received_; }

  // The head of an answer (through the blank line, which is dropped); the
  // body is left unread. Empty when the connection ended first.
  std::string ReadHead() {
    size_t head_end;
    while ((head_end = received_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadSome()) return {};
    }
    std::string head = received_.substr(0, head_end);
    received_.erase(0, head_end + 4);
    return head;
  }

  // The next chunk of a chunked body (after ReadHead): its data, "" for
  // the last chunk; nullopt when the connection ended or 10 s passed first.
  std::optional<std::string> ReadChunk() {
    size_t line_end;
    while ((line_end = received_.find("\r\n")) == std::string::npos) {
      if (!ReadSome()) return std::nullopt;
    }
    size_t size = 0;
    REQUIRE(absl::SimpleHexAtoi(absl::StripAsciiWhitespace(received_.substr(0, line_end)), &size));
    size_t end = line_end + 2 + size + 2;  // the data's own CRLF
    while (received_.size() < end) {
      if (!ReadSome()) return std::nullopt;
    }
    std::string data = received_.substr(line_end + 2, size);
    received_.erase(0, end);
    return data;
  }

  // One whole answer with a Content-Length body: its head and body.
  // Empty head when the connection ended first.
  std::pair<std::string, std::string> ReadResponse() {
    size_t head_end;
    while ((head_end = received_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReadSome()) return {};
    }
    std::string head = received_.substr(0, head_end);
    size_t length = 0;
    for (absl::string_view line : absl::StrSplit(head, "\r\n")) {
      if (absl::StartsWithIgnoreCase(line, "content-length:")) {
        (void)absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(15)), &length);
      }
    }
    while (received_.size() < head_end + 4 + length) {
      if (!ReadSome()) return {};
    }
    std::string body = received_.substr(head_end + 4, length);
    received_.erase(0, head_end + 4 + length);
    return {head, body};
  }

 private:
  bool ReadSome() {
    char buf[4096];
    ssize_t n = recv(fd_, buf, sizeof(buf), 0);
    if (n <= 0) return false;
    received_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int fd_ = -1;
  std::string received_;
};

// Polls `pred` until it holds or `timeout` passes.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

}  // namespace skydeck::web::test_support
