// File: cli/terminal.h
//
// What the CLI may do to a terminal, decided in one place: colour on stdout
// (only on a TTY, never with NO_COLOR, never on TERM=dumb, never in machine
// formats) and redrawing one status line in place on stderr (progress). The
// rules are pure functions of the facts, so they are unit-tested; the facts
// (isatty, the environment) are read by the *For*() helpers.
//
//   bool color = ColorAllowed(isatty(STDOUT_FILENO), getenv("NO_COLOR"), getenv("TERM"));
//   std::string cell = Paint("RUNNING", color ? Color::kGreen : Color::kNone);
#pragma once

#include <cstdio>
#include <string>

#include "absl/strings/string_view.h"

namespace skydeck::cli {

// ColorAllowed()
//
// True when `is_tty`, `no_color` is unset or empty (https://no-color.org)
// and `term` is not "dumb". `no_color` and `term` are getenv() results
// (nullptr when unset).
bool ColorAllowed(bool is_tty, const char* no_color, const char* term);

// LineRedrawAllowed()
//
// Whether a status line may be redrawn in place ("\r", erase to end of
// line): `is_tty` and `term` is not "dumb". NO_COLOR does not matter here.
bool LineRedrawAllowed(bool is_tty, const char* term);

// The two decisions for a real stream (stdout, stderr) of this process.
bool ColorAllowedFor(FILE* stream);
bool LineRedrawAllowedFor(FILE* stream);

// Columns of the terminal on `stream`; `fallback` when unknown.
int TerminalColumns(FILE* stream, int fallback);

enum class Color { kNone, kGreen, kYellow, kRed, kCyan, kDim };

// `text` wrapped in the SGR escape for `color` and a reset; `text` itself
// for kNone. Output widths ignore these escapes (see output.h Table).
//   Paint("RUNNING", Color::kGreen) == "\x1b[32mRUNNING\x1b[0m"
std::string Paint(absl::string_view text, Color color);

}  // namespace skydeck::cli
