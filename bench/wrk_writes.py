"""The HTTP write loads of the write benchmarks (write_throughput.py,
seed_peer_writes.py): one wrk run per mode from a generated Lua script, and
the check that the writes it sent were really made.

Modes: `get` (GET /api/experiments/FIRST, the ceiling of a cheap call),
`create` (POST /api/experiments, names PREFIX-THREAD-N), `desired`
(POST /api/experiments/ID/state, STOPPED <-> TERMINATED: no launches) and
`flags` (POST /api/experiments/ID/flags, load.step = N). Every write changes
something: experiments start STOPPED, and each experiment's first state
write is TERMINATED, the next STOPPED, and so on; every flag write sets a
value that experiment never had.
"""

import os
import re

from http_vs_grpc import parse_wrk, wrk_output

MODES = ("get", "create", "desired", "flags")

# wrk: `setup` gives each thread its number, and each thread numbers its
# requests (n, a global so that `done` can read it). Desired-state and flag
# writes go to the thread's own share of experiments FIRST..FIRST+COUNT-1,
# in turn (its connections never write the same experiment at once while the
# share is larger than them); request n goes to the share's experiment
# (n - 1) mod SIZE, so each experiment's first write is the state change
# TERMINATED. `done` prints how many requests each thread made, which says
# what each experiment must hold afterwards (expected_finals).
LUA = r"""
local threads = {}
function setup(thread)
  thread:set("tid", #threads)
  table.insert(threads, thread)
end
n = 0
local mode, first, count, nthreads, prefix = "%(mode)s", %(first)d, %(count)d, %(threads)d, "%(prefix)s"
local flags_key = "%(flags_key)s"
local json = {["Content-Type"] = "application/json"}
function request()
  n = n + 1
  if mode == "get" then
    return wrk.format("GET", "/api/experiments/" .. first)
  end
  if mode == "create" then
    local body = string.format(
      '{"name": "%%s-%%d-%%d", "base_command": "python train.py", ' ..
      '"flags": {"trainer.lr": %%g}, "labels": {"bench": "writes"}}',
      prefix, tid, n, 1e-4 * (1 + n %% 7))
    return wrk.format("POST", "/api/experiments", json, body)
  end
  local size = math.floor((count - tid + nthreads - 1) / nthreads)
  local k = n - 1
  local id = first + tid + nthreads * (k %% size)
  if mode == "desired" then
    local state = (math.floor(k / size) %% 2 == 0) and "TERMINATED" or "STOPPED"
    return wrk.format("POST", "/api/experiments/" .. id .. "/state", json,
                      '{"desired_state": "' .. state .. '"}')
  end
  return wrk.format("POST", "/api/experiments/" .. id .. "/flags", json,
                    '{"' .. flags_key .. '": {"load.step": ' .. n .. '}}')
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    io.write(string.format("wrk-thread %%d made %%d\n", t:get("tid"), t:get("n")))
  end
  io.write(string.format("wrk-max-latency-us %%d\n", latency.max))
end
"""


class Sent:
    """What one wrk run sent: made[thread], the requests each thread made
    (the last `recent[thread]` of which may have been unanswered when wrk
    stopped), over `seconds`."""

    def __init__(self, made, max_latency_s, connections, seconds):
        self.made = made
        self.connections = connections
        threads = len(made)
        # Each connection has at most one request unanswered, its newest;
        # while it waits, its thread's other connections go on. Allow twice
        # what a thread makes during the slowest answered request.
        self.recent = {tid: -(-connections // threads) +
                       2 * int(total / seconds * max_latency_s + 1)
                       for tid, total in made.items()}


def run_mode(url, mode, first, count, threads, connections, seconds, tmp, prefix,
             flags_key="set"):
    """One wrk run of `mode` against `url` (http://HOST:PORT): returns
    ((req/s, p50 ms, p99 ms, errors), Sent). flags_key: the flag write's body
    key (`set` for skydeckd, whose `flags` means the same; `flags` for the
    seed implementation, which replaces the flags with them)."""
    script = os.path.join(tmp, f"{mode}.lua")
    with open(script, "w") as f:
        f.write(LUA % {"mode": mode, "first": first, "count": count, "threads": threads,
                       "prefix": prefix, "flags_key": flags_key})
    out = wrk_output(url, threads, connections, seconds, script)
    made = {int(t): int(k) for t, k in re.findall(r"^wrk-thread (\d+) made (\d+)$", out, re.M)}
    max_latency = re.search(r"^wrk-max-latency-us (\d+)$", out, re.M)
    if sorted(made) != list(range(threads)) or not max_latency:
        raise RuntimeError("wrk's script printed no request counts:\n" + out)
    return parse_wrk(out), Sent(made, int(max_latency.group(1)) / 1e6, connections, seconds)


def _value(mode, n, size):
    if mode == "desired":
        return "TERMINATED" if ((n - 1) // size) % 2 == 0 else "STOPPED"
    return n


def expected_finals(mode, first, count, threads, made):
    """{id: (last, before, thread, n)}: the value (desired state, or
    load.step) of the last and the one-before-last `mode` write each
    experiment was sent (`desired`: STOPPED, `flags`: None where there was
    none), and which request of which wrk thread the last was (n 0: none)."""
    initial = "STOPPED" if mode == "desired" else None
    finals = {}
    for tid in range(threads):
        size = (count - tid + threads - 1) // threads
        total = made.get(tid, 0)
        for j in range(size):
            id_ = first + tid + threads * j
            if total < j + 1:
                finals[id_] = (initial, initial, tid, 0)
                continue
            last = j + 1 + size * ((total - 1 - j) // size)
            before = _value(mode, last - size, size) if last - size >= 1 else initial
            finals[id_] = (_value(mode, last, size), before, tid, last)
    return finals


def check_updates(mode, first, count, threads, sent, held):
    """Whether the experiments hold what the `mode` run sent them. held: {id:
    the desired state, or the load.step flag (None if absent), read after the
    run}. Each must hold the value of its last write, except that at most
    one per connection (its request unanswered when wrk stopped) may hold the
    write before, if its last write was among its thread's newest
    `sent.recent` requests. A desired state the write before also set is
    indistinguishable from it. Returns (ok, description)."""
    at_last = at_before = 0
    wrong = []
    for id_, (last, before, tid, n) in expected_finals(mode, first, count, threads,
                                                       sent.made).items():
        value = held.get(id_, "<missing>")
        if value == last:
            at_last += 1
        elif value == before and n > sent.made[tid] - sent.recent[tid]:
            at_before += 1
        else:
            wrong.append((id_, value, last))
    text = (f"{mode}: {sum(sent.made.values())} sent, {at_last} experiments hold their last "
            f"write, {at_before} the one before (allowed: {sent.connections}, whose last write "
            f"was among the newest {max(sent.recent.values())} of its wrk thread, which wrote "
            f"{-(-count // threads)} experiments in turn), {len(wrong)} neither")
    if wrong:
        text += f" (e.g. id {wrong[0][0]} holds {wrong[0][1]!r}, expected {wrong[0][2]!r})"
    return not wrong and at_before <= sent.connections, text


def check_creates(prefix, connections, sent, names):
    """Whether the experiments named PREFIX-THREAD-N are the ones the create
    run sent (all but at most one unanswered request per connection).
    names: every experiment name read after the run. Returns (ok, description)."""
    sent_names = {f"{prefix}-{tid}-{n}" for tid, total in sent.made.items()
                  for n in range(1, total + 1)}
    found = [name for name in names if name.startswith(prefix + "-")]
    unexpected = set(found) - sent_names
    ok = (not unexpected and len(found) == len(set(found))
          and len(found) >= len(sent_names) - connections)
    return ok, (f"create: {len(sent_names)} sent, {len(found)} found, {len(unexpected)} never "
                f"sent, {len(found) - len(set(found))} duplicated")
