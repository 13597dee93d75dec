// The verify phase: every acknowledged write read back, by id and through
// the paginated list, and compared with the ledger.
#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

#include "bench/load/phases.h"

namespace skydeck::bench {
namespace {

constexpr size_t kDetails = 10;
constexpr int kReaders = 4;

class Findings {
 public:
  void Add(int64_t* counter, const std::string& detail) {
    std::lock_guard<std::mutex> lock(mu_);
    ++*counter;
    if (details_.size() < kDetails) details_.push_back(detail);
  }
  const std::vector<std::string>& details() const { return details_; }

 private:
  std::mutex mu_;
  std::vector<std::string> details_;
};

}  // namespace

nlohmann::json RunVerifyPhase(const LoadTarget& target, const Ledger& ledger) {
  auto start = std::chrono::steady_clock::now();
  std::vector<const LedgerEntry*> entries;
  int64_t uncertain = 0;
  for (const auto& [id, e] : ledger.entries()) {
    if (e.uncertain) {
      ++uncertain;
    } else {
      entries.push_back(&e);
    }
  }
  int64_t lost = 0, mismatched = 0, read_errors = 0;
  int64_t missing_from_list = 0, mismatched_in_list = 0, list_errors = 0;
  Findings findings;

  // By id, from a few readers in parallel.
  std::atomic<size_t> next{0};
  std::vector<std::thread> readers;
  for (int r = 0; r < kReaders; ++r) {
    readers.emplace_back([&] {
      std::unique_ptr<ApiClient> client = MakeGrpcClient(target.grpc, target.deadline);
      for (size_t i = next++; i < entries.size(); i = next++) {
        const pb::Experiment& want = entries[i]->expected;
        pb::GetExperimentRequest req;
        req.set_id(std::to_string(want.id()));
        pb::GetExperimentResponse resp;
        absl::Status s = client->GetExperiment(req, &resp);
        if (absl::IsNotFound(s)) {
          findings.Add(&lost,
                       absl::StrCat("experiment ", want.id(), " (", want.name(), ") is gone"));
        } else if (!s.ok()) {
          findings.Add(&read_errors, absl::StrCat("get ", want.id(), ": ", s.ToString()));
        } else if (auto diff = Differences(want, resp.experiment()); !diff.empty()) {
          findings.Add(&mismatched,
                       absl::StrCat("experiment ", want.id(), ": ", absl::StrJoin(diff, "; ")));
        }
      }
    });
  }
  for (auto& t : readers) t.join();

  // Through the list: every page, in order, each experiment once.
  std::unique_ptr<ApiClient> client = MakeGrpcClient(target.grpc, target.deadline);
  int pages = 0;
  int64_t listed = 0, unacknowledged = 0;
  auto all = ListAll(*client, "", 1000, &pages);
  if (!all.ok()) {
    findings.Add(&list_errors, absl::StrCat("list: ", all.status().ToString()));
  } else {
    listed = static_cast<int64_t>(all->size());
    std::set<int64_t> seen;
    int64_t last = 0;
    for (const pb::Experiment& e : *all) {
      if (e.id() <= last || !seen.insert(e.id()).second) {
        findings.Add(&list_errors, absl::StrCat("list out of order or repeated at id ", e.id()));
      }
      last = e.id();
      auto it = ledger.entries().find(e.id());
      if (it == ledger.entries().end()) {
        // Created by a call that was not acknowledged (or by someone else).
        if (e.labels().count("bench") && e.labels().at("bench") == target.prefix) {
          ++unacknowledged;
        }
        continue;
      }
      if (it->second.uncertain) continue;
      if (auto diff = Differences(it->second.expected, e); !diff.empty()) {
        findings.Add(&mismatched_in_list,
                     absl::StrCat("listed experiment ", e.id(), ": ", absl::StrJoin(diff, "; ")));
      }
    }
    for (const LedgerEntry* entry : entries) {
      if (!seen.count(entry->expected.id())) {
        findings.Add(&missing_from_list,
                     absl::StrCat("experiment ", entry->expected.id(), " not in the list"));
      }
    }
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  bool ok =
      lost + mismatched + read_errors + missing_from_list + mismatched_in_list + list_errors == 0;
  return {{"phase", "verify"},
          {"ok", ok},
          {"checked", entries.size()},
          {"uncertain_skipped", uncertain},
          {"lost", lost},
          {"mismatched", mismatched},
          {"read_errors", read_errors},
          {"listed", listed},
          {"list_pages", pages},
          {"missing_from_list", missing_from_list},
          {"mismatched_in_list", mismatched_in_list},
          {"list_errors", list_errors},
          {"unacknowledged_present", unacknowledged},
          {"details", findings.details()},
          {"seconds", seconds},
          {"errors", read_errors + list_errors}};
}

}  // namespace skydeck::bench
