// File: cli/terminal.cc
#include "cli/terminal.h"

#include <unistd.h>

#include <cstdlib>
#include <cstring>

#include <sys/ioctl.h>

#include "absl/strings/str_cat.h"

namespace skydeck::cli {
namespace {

bool IsDumb(const char* term) { return term != nullptr && std::strcmp(term, "dumb") == 0; }

bool IsTerminal(FILE* stream) { return isatty(fileno(stream)) != 0; }

}  // namespace

bool ColorAllowed(bool is_tty, const char* no_color, const char* term) {
  bool no_color_set = no_color != nullptr && no_color[0] != '\0';
  return is_tty && !no_color_set && !IsDumb(term);
}

bool LineRedrawAllowed(bool is_tty, const char* term) { return is_tty && !IsDumb(term); }

bool ColorAllowedFor(FILE* stream) {
  return ColorAllowed(IsTerminal(stream), std::getenv("NO_COLOR"), std::getenv("TERM"));
}

bool LineRedrawAllowedFor(FILE* stream) {
  return LineRedrawAllowed(IsTerminal(stream), std::getenv("TERM"));
}

int TerminalColumns(FILE* stream, int fallback) {
  struct winsize size;
  std::memset(&size, 0, sizeof(size));
  if (ioctl(fileno(stream), TIOCGWINSZ, &size) != 0 || size.ws_col == 0) return fallback;
  return size.ws_col;
}

std::string Paint(absl::string_view text, Color color) {
  absl::string_view sgr;
  switch (color) {
    case Color::kNone:
      return std::string(text);
    case Color::kGreen:
      sgr = "32";
      break;
    case Color::kYellow:
      sgr = "33";
      break;
    case Color::kRed:
      sgr = "31";
      break;
    case Color::kCyan:
      sgr = "36";
      break;
    case Color::kDim:
      sgr = "2";
      break;
  }
  return absl::StrCat("\x1b[", sgr, "m", text, "\x1b[0m");
}

}  // namespace skydeck::cli
