// Colour and progress rules of the CLI (cli/terminal.h, cli/progress.h) and
// coloured tables that still line up (cli/output.h, cli/views.h).
#include "cli/terminal.h"

#include <catch2/catch.hpp>

#include "cli/output.h"
#include "cli/progress.h"
#include "cli/views.h"

using namespace skydeck::cli;

TEST_CASE("colour only on a terminal, never with NO_COLOR or TERM=dumb", "[cli][terminal]") {
  CHECK(ColorAllowed(true, nullptr, "xterm-256color"));
  CHECK(ColorAllowed(true, nullptr, nullptr));
  CHECK(ColorAllowed(true, "", "xterm"));  // NO_COLOR set but empty: no opinion
  CHECK_FALSE(ColorAllowed(false, nullptr, "xterm"));
  CHECK_FALSE(ColorAllowed(true, "1", "xterm"));
  CHECK_FALSE(ColorAllowed(true, nullptr, "dumb"));
}

TEST_CASE("a status line is redrawn only on a capable terminal", "[cli][terminal]") {
  CHECK(LineRedrawAllowed(true, "xterm"));
  CHECK_FALSE(LineRedrawAllowed(false, "xterm"));
  CHECK_FALSE(LineRedrawAllowed(true, "dumb"));
}

TEST_CASE("coloured cells line up like plain ones", "[cli][terminal]") {
  CHECK(Paint("RUNNING", Color::kGreen) == "\x1b[32mRUNNING\x1b[0m");
  CHECK(Paint("x", Color::kNone) == "x");
  Table plain({"STATE", "NAME"});
  plain.AddRow({"RUNNING", "a"});
  plain.AddRow({"FAILED (stalled)", "b"});
  Table painted({"STATE", "NAME"});
  painted.AddRow({Paint("RUNNING", Color::kGreen), "a"});
  painted.AddRow({Paint("FAILED (stalled)", Color::kRed), "b"});
  std::string text = painted.Render();
  for (const char* sgr : {"\x1b[32m", "\x1b[31m", "\x1b[0m"}) {
    size_t at;
    while ((at = text.find(sgr)) != std::string::npos) text.erase(at, std::string(sgr).size());
  }
  CHECK(text == plain.Render());
}

TEST_CASE("state words are coloured by meaning, and only when asked", "[cli][terminal]") {
  CHECK(PaintState("RUNNING", true) == Paint("RUNNING", Color::kGreen));
  CHECK(PaintState("SUCCEEDED", true) == Paint("SUCCEEDED", Color::kGreen));
  CHECK(PaintState("PENDING", true) == Paint("PENDING", Color::kYellow));
  CHECK(PaintState("FAILED (stalled)", true) == Paint("FAILED (stalled)", Color::kRed));
  CHECK(PaintState("FAILED_SETUP", true) == Paint("FAILED_SETUP", Color::kRed));
  CHECK(PaintState("STOPPED", true) == Paint("STOPPED", Color::kDim));
  CHECK(PaintState("-", true) == "-");
  CHECK(PaintState("RUNNING", false) == "RUNNING");

  skydeck::v1::Experiment e;
  e.set_id(1);
  e.set_name("a");
  e.set_desired_state(skydeck::v1::DESIRED_STATE_RUNNING);
  e.set_observed_state(skydeck::v1::OBSERVED_STATE_PENDING);
  std::string coloured = ExperimentTable({e}, 0, /*color=*/true);
  CHECK(coloured.find("\x1b[32mRUNNING\x1b[0m") != std::string::npos);
  CHECK(coloured.find("\x1b[33mPENDING\x1b[0m") != std::string::npos);
  CHECK(coloured.find("ID") == 0);  // headers stay plain
  CHECK(ExperimentTable({e}, 0).find('\x1b') == std::string::npos);

  skydeck::v1::Job j;
  j.set_id(3);
  j.set_status(skydeck::v1::JOB_STATUS_FAILED);
  CHECK(JobTable({j}, 0, true).find("\x1b[31mFAILED\x1b[0m") != std::string::npos);
  CHECK(JobTable({j}, 0).find('\x1b') == std::string::npos);
}

TEST_CASE("the progress line shows the steps, the time and fits the terminal", "[cli][progress]") {
  std::vector<ProgressTrack> one = {{"lr-a", {"LAUNCHING", "PENDING", "RUNNING"}, true}};
  CHECK(RenderProgressLine(one, "RUNNING", 12000, 0, 80) ==
        "| lr-a: LAUNCHING -> PENDING -> RUNNING (12s)");
  CHECK(RenderProgressLine(one, "RUNNING", 12000, 1, 80).substr(0, 2) == "/ ");
  CHECK(RenderProgressLine(one, "RUNNING", 12000, -1, 80) ==
        "lr-a: LAUNCHING -> PENDING -> RUNNING (12s)");

  std::vector<ProgressTrack> three = {
      {"a", {"PENDING", "RUNNING"}, true}, {"b", {"LAUNCHING"}, false}, {"c", {"PENDING"}, false}};
  CHECK(RenderProgressLine(three, "RUNNING", 3000, 2, 80) ==
        "- 1/3 RUNNING, b: LAUNCHING, c: PENDING (3s)");
  std::string cut = RenderProgressLine(three, "RUNNING", 3000, 2, 20);
  CHECK(cut == "- 1/3 RUNNING, b...");
  CHECK(cut.size() == 19);  // never the full width: a wrapped line cannot be redrawn
}
