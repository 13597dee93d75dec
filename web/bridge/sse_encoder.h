// File: web/bridge/sse_encoder.h
//
// The Server-Sent Events of one HTTP stream of a server-streaming RPC, one
// event per message:
//
// - by default a message is one `data:` line of plain JSON (plain_json.h):
//     data: {"event":{"id":"12","type":"Created",...},"experiment":{...}}
//
// - a message type with an `sse_text` field (annotations.proto; the job log)
//   is that field's text, one `data:` line per line, so `curl -N` shows the
//   log and an EventSource's `data` is the text itself:
//     data: step 1 loss=0.9
//     data: step 2 loss=0.8
//     data:
//   (that chunk was "step 1 loss=0.9\nstep 2 loss=0.8\n"). Joining the events'
//   data gives the text, except what a terminal would not show either: SSE
//   cannot carry a carriage return, so a line's text before its last
//   carriage return is dropped (a progress bar keeps its last state), and a
//   carriage return that would overwrite text already sent in an earlier
//   event starts a new line instead. Bytes that are not UTF-8 become U+FFFD;
//   a character cut between two messages is joined first.
//   A message of such a type whose text is empty but that has other fields
//   (the log's `progress` lines and final `job_status`) is an SSE comment of
//   plain JSON, skipped by SSE clients (the joined data stays the log) and
//   shown by `curl -N`:
//     : {"data":"","progress":"job 3 is PENDING; waiting...","job_status":"UNSPECIFIED"}
//
// Thread-safety: one encoder per stream, used by one thread.
#pragma once

#include <string>

#include <google/protobuf/message.h>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace skydeck::web {

class SseEncoder {
 public:
  // `type`: the RPC's response type.
  explicit SseEncoder(const google::protobuf::Descriptor* type);

  // The event for `message` ("data: ...\n\n"); "" when there is nothing to
  // send (a text chunk that only held back a carriage return or part of a
  // character). Errors: INTERNAL when the message cannot be printed.
  absl::StatusOr<std::string> Encode(const google::protobuf::Message& message);

  // At the end of the stream: the event for what is still held back (a
  // character cut short, as U+FFFD), or "".
  std::string Finish();

 private:
  // Valid UTF-8 of carry_ + bytes; an incomplete character at the end is
  // kept in carry_ for the next call.
  std::string DecodeUtf8(absl::string_view bytes, bool final);
  // Applies the carriage-return rules above.
  std::string ResolveCarriageReturns(absl::string_view text);
  static std::string TextEvent(absl::string_view text);

  const google::protobuf::FieldDescriptor* text_field_;  // null: JSON events
  std::string carry_;
  bool pending_cr_ = false;
  bool line_open_ = false;  // text sent so far ends inside a line
};

}  // namespace skydeck::web
