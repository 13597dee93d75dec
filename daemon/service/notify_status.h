// File: daemon/service/notify_status.h
//
// The notifier's sinks as the API shows them (Health.notify_sinks).
#pragma once

#include "daemon/notify/notifier.h"
#include "skydeck/v1/resources.pb.h"

namespace skydeck::service {

// Appends one NotifySink per sink of `notifier` to `health`; nothing when
// `notifier` is null.
void AddNotifySinks(const notify::Notifier* notifier, skydeck::v1::Health* health);

}  // namespace skydeck::service
