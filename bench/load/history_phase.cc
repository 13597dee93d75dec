// The history phase: job history made by the real daemon. Each round is
// what a user does with `skydeck exp start -l bench=PREFIX`: one
// SetDesiredState by selector, after which the reconciler launches one job
// per experiment on the local backend (`true`, or `false` for one in ten),
// the poller records how it ended, and the reconciler settles the
// experiment (SUCCEEDED, or FAILED with its budget used). The next round's
// start is then a new run. So every job row, event and observed state in
// the database was written by the code paths production uses.
#include <chrono>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"

#include "bench/load/phases.h"

namespace skydeck::bench {
namespace {

bool Settled(const pb::Experiment& e) {
  return e.current_job_id() == 0 && (e.observed_state() == pb::OBSERVED_STATE_SUCCEEDED ||
                                     e.observed_state() == pb::OBSERVED_STATE_FAILED);
}

absl::Status SetAll(ApiClient& client, const std::string& selector, pb::DesiredState state,
                    const std::string& reason, Ledger* ledger, int* addressed) {
  pb::SetDesiredStateRequest req;
  req.set_label_selector(selector);
  req.set_desired_state(state);
  req.set_reason(reason);
  pb::SetDesiredStateResponse resp;
  if (absl::Status s = client.SetDesiredState(req, &resp); !s.ok()) return s;
  for (const pb::Experiment& e : resp.experiments()) {
    auto it = ledger->entries().find(e.id());
    if (it != ledger->entries().end()) it->second.expected.set_desired_state(e.desired_state());
  }
  *addressed = resp.experiments_size();
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<nlohmann::json> RunHistoryPhase(const LoadTarget& target, int rounds,
                                               absl::Duration round_timeout, Ledger* ledger) {
  // Selecting thousands of experiments in one call takes a while.
  LoadTarget slow = target;
  slow.deadline = std::max(target.deadline, absl::Minutes(10));
  std::unique_ptr<ApiClient> client = MakeGrpcClient(slow.grpc, slow.deadline);
  const std::string selector = absl::StrCat("bench=", target.prefix);
  nlohmann::json round_summaries = nlohmann::json::array();
  auto phase_start = std::chrono::steady_clock::now();
  int64_t jobs_made = 0;
  for (int round = 1; round <= rounds; ++round) {
    std::map<int64_t, int> jobs_before;
    {
      auto all = ListAll(*client, selector, 1000);
      if (!all.ok()) return all.status();
      for (const pb::Experiment& e : *all) jobs_before[e.id()] = e.job_count();
    }
    auto t0 = std::chrono::steady_clock::now();
    int addressed = 0;
    if (absl::Status s = SetAll(*client, selector, pb::DESIRED_STATE_RUNNING,
                                absl::StrCat("history round ", round), ledger, &addressed);
        !s.ok()) {
      return s;
    }
    double start_call_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    auto deadline = t0 + absl::ToChronoMilliseconds(round_timeout);
    int settled = 0;
    int64_t jobs_now = 0;
    while (true) {
      auto all = ListAll(*client, selector, 1000);
      if (!all.ok()) return all.status();
      settled = 0;
      jobs_now = 0;
      for (const pb::Experiment& e : *all) {
        auto before = jobs_before.find(e.id());
        bool new_job = before == jobs_before.end() || e.job_count() > before->second;
        if (new_job && Settled(e)) ++settled;
        jobs_now += e.job_count();
      }
      if (settled == static_cast<int>(all->size())) break;
      if (std::chrono::steady_clock::now() > deadline) {
        return absl::DeadlineExceededError(absl::StrCat(
            "history round ", round, ": only ", settled, " of ", all->size(),
            " experiments finished a new job within ", absl::FormatDuration(round_timeout)));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    int64_t jobs_then = 0;
    for (const auto& [id, n] : jobs_before) jobs_then += n;
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    jobs_made += jobs_now - jobs_then;
    round_summaries.push_back({{"round", round},
                               {"experiments", addressed},
                               {"start_call_s", start_call_s},
                               {"seconds", seconds},
                               {"jobs", jobs_now - jobs_then},
                               {"jobs_per_s", (jobs_now - jobs_then) / seconds},
                               {"total_jobs", jobs_now}});
  }
  int addressed = 0;
  if (absl::Status s =
          SetAll(*client, selector, pb::DESIRED_STATE_STOPPED, "history done", ledger, &addressed);
      !s.ok()) {
    return s;
  }
  double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - phase_start).count();
  return nlohmann::json{
      {"phase", "history"}, {"rounds", round_summaries},         {"jobs_made", jobs_made},
      {"seconds", seconds}, {"jobs_per_s", jobs_made / seconds}, {"errors", 0}};
}

}  // namespace skydeck::bench
