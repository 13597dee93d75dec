// File: daemon/daemon_metrics.h
//
// The daemon's own Prometheus metrics (appended to the bridge's /metrics):
// reconcile outcomes, queue depth, poll health, live jobs by status.
#pragma once

#include <string>

#include "daemon/backend/backend.h"
#include "daemon/reconcile/controller.h"
#include "daemon/store/store.h"

namespace skydeck {

std::string DaemonMetrics(store::Store& store, const reconcile::Controller& controller,
                          backend::Backend* backend);

}  // namespace skydeck
