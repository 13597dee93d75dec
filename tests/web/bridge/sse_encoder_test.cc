#include "web/bridge/sse_encoder.h"

#include <catch2/catch.hpp>

#include "skydeck/v1/service.pb.h"

namespace skydeck::web {
namespace {

namespace pb = ::skydeck::v1;

// The events for log chunks sent one after the other.
std::vector<std::string> LogEvents(std::vector<std::string> chunks) {
  SseEncoder encoder(pb::GetJobLogsResponse::descriptor());
  std::vector<std::string> events;
  for (const std::string& chunk : chunks) {
    pb::GetJobLogsResponse msg;
    msg.set_data(chunk);
    auto event = encoder.Encode(msg);
    REQUIRE(event.ok());
    events.push_back(*event);
  }
  events.push_back(encoder.Finish());
  return events;
}

// What an SSE client makes of the events: each event's data lines joined
// with "\n", the events concatenated.
std::string ClientText(const std::vector<std::string>& events) {
  std::string text;
  for (const std::string& event : events) {
    if (event.empty()) continue;
    REQUIRE(event.size() >= 2);
    REQUIRE(event.substr(event.size() - 2) == "\n\n");
    std::string body = event.substr(0, event.size() - 1);
    size_t pos = 0;
    bool first = true;
    while (pos < body.size()) {
      size_t nl = body.find('\n', pos);
      std::string line = body.substr(pos, nl - pos);
      REQUIRE(line.rfind("data: ", 0) == 0);
      if (!first) text += '\n';
      text += line.substr(6);
      first = false;
      pos = nl + 1;
    }
  }
  return text;
}

TEST_CASE("log chunks are events of text lines, not base64", "[bridge][sse]") {
  auto events = LogEvents({"step 1 loss=0.9\nstep 2", " loss=0.8\n"});
  CHECK(events[0] == "data: step 1 loss=0.9\ndata: step 2\n\n");
  CHECK(events[1] == "data:  loss=0.8\ndata: \n\n");
  CHECK(events[2] == "");
  CHECK(ClientText(events) == "step 1 loss=0.9\nstep 2 loss=0.8\n");
}

TEST_CASE("a log's progress and final status are SSE comments of JSON", "[bridge][sse]") {
  SseEncoder encoder(pb::GetJobLogsResponse::descriptor());
  pb::GetJobLogsResponse progress;
  progress.set_progress("job 3 is PENDING");
  auto event = encoder.Encode(progress);
  REQUIRE(event.ok());
  // Plain JSON prints every field (an empty list is [], not missing).
  CHECK(*event ==
        ": {\"data\":\"\",\"progress\":\"job 3 is PENDING\","
        "\"job_status\":\"UNSPECIFIED\"}\n\n");
  pb::GetJobLogsResponse text;
  text.set_data("ok\n");
  event = encoder.Encode(text);
  REQUIRE(event.ok());
  CHECK(*event == "data: ok\ndata: \n\n");
}

TEST_CASE("other streams are one line of plain JSON per message", "[bridge][sse]") {
  SseEncoder encoder(pb::WatchResponse::descriptor());
  pb::WatchResponse msg;
  msg.mutable_event()->set_type("Created");
  msg.mutable_experiment()->set_desired_state(pb::DESIRED_STATE_STOPPED);
  auto event = encoder.Encode(msg);
  REQUIRE(event.ok());
  CHECK(event->rfind("data: {\"event\":{", 0) == 0);
  CHECK(event->find("\"desired_state\":\"STOPPED\"") != std::string::npos);
  CHECK(event->find('\n') == event->size() - 2);
  CHECK(encoder.Finish().empty());
}

TEST_CASE("carriage returns show what a terminal would", "[bridge][sse]") {
  // CRLF is a line end, even cut between two chunks.
  CHECK(ClientText(LogEvents({"a\r\nb\r", "\nc"})) == "a\nb\nc");
  // A progress bar redrawn within a chunk keeps its last state.
  CHECK(ClientText(LogEvents({"train 10%\rtrain 20%\rtrain 30%\ndone\n"})) == "train 30%\ndone\n");
  // A redraw of a line an earlier event already sent starts a new line.
  CHECK(ClientText(LogEvents({"train 10%", "\rtrain 20%", "\rtrain 30%\n"})) ==
        "train 10%\ntrain 20%\ntrain 30%\n");
  // A chunk of only a carriage return sends nothing yet.
  auto events = LogEvents({"x\n", "\r"});
  CHECK(events[1] == "");
}

TEST_CASE("log bytes become UTF-8 text across chunk boundaries", "[bridge][sse]") {
  // "é" is C3 A9; cut between two chunks it is still one character.
  CHECK(ClientText(LogEvents({"caf\xC3", "\xA9\n"})) == "caf\xC3\xA9\n");
  // Bytes that are not UTF-8 become U+FFFD, and so does a character cut
  // short at the very end.
  CHECK(ClientText(LogEvents({"a\xFF"
                              "b\xED\xA0\x80"
                              "c\n"})) ==
        "a\xEF\xBF\xBD"
        "b\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD"
        "c\n");
  CHECK(ClientText(LogEvents({"end\xE2\x82"})) == "end\xEF\xBF\xBD");
}

}  // namespace
}  // namespace skydeck::web
