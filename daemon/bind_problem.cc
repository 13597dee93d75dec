#include "daemon/bind_problem.h"

#include <netdb.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <sys/socket.h>

#include "absl/strings/str_cat.h"

namespace skydeck {

std::string BindProblem(const std::string& host, int port) {
  std::string name = host;
  if (name.size() >= 2 && name.front() == '[' && name.back() == ']') {
    name = name.substr(1, name.size() - 2);
  }
  struct addrinfo hints = {};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE;
  struct addrinfo* found = nullptr;
  std::string service = absl::StrCat(port);
  if (int rc = getaddrinfo(name.empty() ? nullptr : name.c_str(), service.c_str(), &hints, &found);
      rc != 0) {
    return absl::StrCat("cannot resolve ", host, ": ", gai_strerror(rc));
  }
  std::string problem;
  for (struct addrinfo* a = found; a != nullptr; a = a->ai_next) {
    int fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    int rc = bind(fd, a->ai_addr, a->ai_addrlen);
    int err = errno;
    close(fd);
    if (rc != 0) {
      problem = std::strerror(err);
      break;
    }
  }
  freeaddrinfo(found);
  return problem;
}

}  // namespace skydeck
