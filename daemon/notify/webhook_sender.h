// File: daemon/notify/webhook_sender.h
//
// POSTs one notification to a sink over the daemon's HTTP client
// (daemon/http/http_call.h), with the `Idempotency-Key` header.
//
// Errors: as SendHttp for no answer; UNAVAILABLE for 408, 429 and 5xx;
// FAILED_PRECONDITION for any other status outside 2xx (the sink is
// misconfigured; it is retried all the same, since the receiver may be
// fixed). Messages name the sink by its redacted URL only.
//
// Thread-safety: a free function.
#pragma once

#include <string>

#include "absl/status/status.h"

#include "daemon/notify/notify_config.h"

namespace skydeck::notify {

inline constexpr char kIdempotencyKeyHeader[] = "Idempotency-Key";

absl::Status PostWebhook(const SinkConfig& sink, const std::string& body,
                         const std::string& idempotency_key);

}  // namespace skydeck::notify
