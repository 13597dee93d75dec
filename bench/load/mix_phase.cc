// The mixed phase: closed-loop clients (each sends its next request when
// the last one answered), half over gRPC and half over HTTP by default.
// Each client owns a disjoint share of the ledger and is the only writer
// of those experiments, so "the last acknowledged write" is well defined
// and every read of an owned experiment must already show it.
#include <chrono>
#include <random>
#include <thread>

#include "absl/strings/str_cat.h"

#include "bench/load/latency_stats.h"
#include "bench/load/phases.h"

namespace skydeck::bench {
namespace {

enum class Op { kGet, kListFirst, kListLabel, kListNext, kUpdate, kFlags, kState, kCreate };

// Relative weights: reads dominate, as with a dashboard and scripts.
constexpr std::pair<Op, int> kMix[] = {
    {Op::kGet, 25},    {Op::kListFirst, 5}, {Op::kListLabel, 5}, {Op::kListNext, 10},
    {Op::kUpdate, 15}, {Op::kFlags, 15},    {Op::kState, 15},    {Op::kCreate, 10},
};

class MixClient {
 public:
  // `run_tag` keeps the names this run creates apart from earlier runs'.
  MixClient(int index, ApiClient* api, const LoadTarget& target, uint64_t seed, std::string run_tag,
            std::vector<LedgerEntry*> owned, const std::vector<int64_t>* all_ids)
      : index_(index),
        api_(api),
        target_(target),
        rng_(seed),
        run_tag_(std::move(run_tag)),
        owned_(std::move(owned)),
        all_ids_(all_ids) {}

  void Run(std::chrono::steady_clock::time_point until) {
    std::vector<int> weights;
    for (const auto& [op, w] : kMix) weights.push_back(w);
    std::discrete_distribution<int> pick(weights.begin(), weights.end());
    while (std::chrono::steady_clock::now() < until) {
      Op op = kMix[pick(rng_)].first;
      if (owned_.empty() && (op == Op::kUpdate || op == Op::kFlags || op == Op::kState)) {
        op = Op::kCreate;
      }
      Do(op);
    }
  }

  LatencyStats& stats() { return stats_; }
  std::vector<LedgerEntry>& created() { return created_; }
  int64_t stale_reads() const { return stale_reads_; }

 private:
  template <typename F>
  absl::Status Timed(const std::string& rpc, F&& call) {
    auto t0 = std::chrono::steady_clock::now();
    absl::Status s = call();
    stats_.Add(
        absl::StrCat(api_->transport(), " ", rpc),
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count(),
        s);
    return s;
  }

  LedgerEntry& PickOwned() {
    return *owned_[std::uniform_int_distribution<size_t>(0, owned_.size() - 1)(rng_)];
  }

  // A write that failed may or may not have been applied.
  void Settle(LedgerEntry& entry, const absl::Status& s, const pb::Experiment& after,
              const pb::Experiment& want) {
    if (!s.ok()) {
      entry.uncertain = true;
      return;
    }
    entry.expected = want;
    // The response is the experiment after the write: it must show it.
    if (!Differences(want, after).empty()) ++stale_reads_;
  }

  void Do(Op op) {
    ++seq_;
    switch (op) {
      case Op::kGet:
        return Get();
      case Op::kListFirst:
        return List("ListExperiments(first page)", "", "");
      case Op::kListLabel:
        return List("ListExperiments(label page)",
                    absl::StrCat("sweep=s", std::uniform_int_distribution<int>(0, 19)(rng_)), "");
      case Op::kListNext: {
        std::string token = cursor_;
        return List("ListExperiments(next page)", "", token);
      }
      case Op::kUpdate:
        return Update();
      case Op::kFlags:
        return Flags();
      case Op::kState:
        return State();
      case Op::kCreate:
        return Create();
    }
  }

  void Get() {
    // Mostly experiments others write; now and then our own, which must
    // show our last write.
    bool own = !owned_.empty() && seq_ % 4 == 0;
    LedgerEntry* mine = own ? &PickOwned() : nullptr;
    int64_t id =
        mine ? mine->expected.id()
             : (*all_ids_)[std::uniform_int_distribution<size_t>(0, all_ids_->size() - 1)(rng_)];
    pb::GetExperimentRequest req;
    req.set_id(std::to_string(id));
    pb::GetExperimentResponse resp;
    absl::Status s = Timed("GetExperiment", [&] { return api_->GetExperiment(req, &resp); });
    if (s.ok() && mine && !mine->uncertain &&
        !Differences(mine->expected, resp.experiment()).empty()) {
      ++stale_reads_;
    }
  }

  void List(const std::string& rpc, const std::string& selector, const std::string& token) {
    pb::ListExperimentsRequest req;
    req.set_page_size(100);
    req.set_label_selector(selector);
    req.set_page_token(token);
    pb::ListExperimentsResponse resp;
    absl::Status s = Timed(rpc, [&] { return api_->ListExperiments(req, &resp); });
    if (s.ok() && selector.empty()) cursor_ = resp.next_page_token();  // "" wraps around
  }

  void Update() {
    LedgerEntry& e = PickOwned();
    pb::Experiment want = e.expected;
    want.set_description(absl::StrCat("client ", index_, " write ", seq_));
    (*want.mutable_labels())["rev"] = absl::StrCat(seq_);
    pb::UpdateExperimentRequest req;
    req.set_id(std::to_string(want.id()));
    req.mutable_experiment()->set_description(want.description());
    *req.mutable_experiment()->mutable_labels() = want.labels();
    req.mutable_update_mask()->add_paths("description");
    req.mutable_update_mask()->add_paths("labels");
    pb::UpdateExperimentResponse resp;
    absl::Status s = Timed("UpdateExperiment", [&] { return api_->UpdateExperiment(req, &resp); });
    Settle(e, s, resp.experiment(), want);
  }

  void Flags() {
    LedgerEntry& e = PickOwned();
    pb::Experiment want = e.expected;
    pb::UpdateFlagsRequest req;
    req.set_id(std::to_string(want.id()));
    (*req.mutable_set())["step"].set_int_value(seq_);
    (*req.mutable_set())["trainer.lr"].set_double_value(
        1e-4 * std::uniform_int_distribution<int>(1, 9)(rng_));
    if (seq_ % 3 == 0) {
      req.add_unset("optimizer");
      want.mutable_flags()->erase("optimizer");
    } else if (seq_ % 3 == 1) {
      (*req.mutable_set())["optimizer"].set_string_value(seq_ % 2 ? "adamw" : "lion");
    }
    for (const auto& [k, v] : req.set()) (*want.mutable_flags())[k] = v;
    pb::UpdateFlagsResponse resp;
    absl::Status s = Timed("UpdateFlags", [&] { return api_->UpdateFlags(req, &resp); });
    Settle(e, s, resp.experiment(), want);
  }

  void State() {
    LedgerEntry& e = PickOwned();
    pb::Experiment want = e.expected;
    // RUNNING launches a real (instant) job on the local backend, STOPPED
    // cancels it if it is still there, TERMINATED now and then tears down.
    pb::DesiredState next =
        want.desired_state() == pb::DESIRED_STATE_RUNNING
            ? (seq_ % 10 == 0 ? pb::DESIRED_STATE_TERMINATED : pb::DESIRED_STATE_STOPPED)
            : pb::DESIRED_STATE_RUNNING;
    if (!target_.launches) {
      next = want.desired_state() == pb::DESIRED_STATE_STOPPED ? pb::DESIRED_STATE_TERMINATED
                                                               : pb::DESIRED_STATE_STOPPED;
    }
    want.set_desired_state(next);
    pb::SetDesiredStateRequest req;
    req.set_id(std::to_string(want.id()));
    req.set_desired_state(next);
    pb::SetDesiredStateResponse resp;
    absl::Status s = Timed("SetDesiredState", [&] { return api_->SetDesiredState(req, &resp); });
    if (s.ok() && resp.experiments_size() != 1) {
      s = absl::InternalError("SetDesiredState answered for other than one experiment");
    }
    Settle(e, s, s.ok() ? resp.experiments(0) : pb::Experiment(), want);
  }

  void Create() {
    pb::Experiment want = SeedExperiment(target_.prefix, static_cast<int>(seq_));
    want.set_name(absl::StrCat(target_.prefix, "-", run_tag_, "-c", index_, "-", seq_));
    want.set_description(absl::StrCat("created under load by client ", index_));
    pb::CreateExperimentRequest req;
    *req.mutable_experiment() = want;
    pb::CreateExperimentResponse resp;
    absl::Status s = Timed("CreateExperiment", [&] { return api_->CreateExperiment(req, &resp); });
    if (!s.ok()) return;  // no id: verify counts experiments nobody acknowledged
    want.set_id(resp.experiment().id());
    if (!Differences(want, resp.experiment()).empty()) ++stale_reads_;
    created_.push_back(LedgerEntry{ExpectedSpec(want), false});
  }

  const int index_;
  ApiClient* api_;
  const LoadTarget& target_;
  std::mt19937_64 rng_;
  const std::string run_tag_;
  std::vector<LedgerEntry*> owned_;
  const std::vector<int64_t>* all_ids_;
  std::vector<LedgerEntry> created_;
  std::string cursor_;
  int64_t seq_ = 0;
  int64_t stale_reads_ = 0;
  LatencyStats stats_;
};

}  // namespace

nlohmann::json RunMixPhase(const LoadTarget& target, absl::Duration duration, uint64_t seed,
                           Ledger* ledger) {
  std::vector<std::unique_ptr<ApiClient>> clients = MakeClients(target);
  std::vector<int64_t> all_ids;
  std::vector<std::vector<LedgerEntry*>> owned(clients.size());
  size_t n = 0;
  for (auto& [id, entry] : ledger->entries()) {
    all_ids.push_back(id);
    if (!entry.uncertain) owned[n++ % clients.size()].push_back(&entry);
  }
  std::vector<std::unique_ptr<MixClient>> mix;
  // The newest id before the run is unique to it (ids are never reused).
  std::string run_tag = absl::StrCat("m", all_ids.empty() ? 0 : all_ids.back());
  for (size_t i = 0; i < clients.size(); ++i) {
    mix.push_back(std::make_unique<MixClient>(static_cast<int>(i), clients[i].get(), target,
                                              seed + i, run_tag, std::move(owned[i]), &all_ids));
  }
  auto start = std::chrono::steady_clock::now();
  auto until = start + absl::ToChronoMilliseconds(duration);
  std::vector<std::thread> threads;
  for (auto& m : mix) threads.emplace_back([&m, until] { m->Run(until); });
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  LatencyStats all;
  int64_t stale = 0, created = 0;
  for (auto& m : mix) {
    all.Merge(m->stats());
    stale += m->stale_reads();
    for (LedgerEntry& e : m->created()) {
      ledger->entries()[e.expected.id()] = e;
      ++created;
    }
  }
  int64_t uncertain = 0;
  for (const auto& [id, e] : ledger->entries()) uncertain += e.uncertain;
  nlohmann::json out = all.Summary(seconds);
  out["phase"] = "mix";
  out["launches"] = target.launches;
  out["clients"] = {{"grpc", target.grpc_clients},
                    {"http", target.http.empty() ? 0 : target.http_clients}};
  out["created"] = created;
  out["stale_reads"] = stale;
  out["ok"] = stale == 0;  // a read that missed an acknowledged write fails the phase
  out["uncertain_experiments"] = uncertain;
  return out;
}

}  // namespace skydeck::bench
