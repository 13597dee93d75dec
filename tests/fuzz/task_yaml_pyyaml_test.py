#!/usr/bin/python3
"""Every task YAML SkyDeck renders for SkyPilot reads back, with PyYAML (what
SkyPilot's API server parses it with; Debian's python3-yaml), as exactly
the recorded command, environment and resources.

  task_yaml_pyyaml_test.py build/test/tests/fuzz/task_yaml_corpus [--count N]

The corpus (task_yaml_corpus.cc) is fuzzed text full of the characters
YAML readers refuse or rewrite: DEL, C0/C1 controls, NEL, LS/PS, BOM,
noncharacters. Exits 1 naming the first specs that do not read back.
"""

import json
import subprocess
import sys

import yaml


def check(line):
    record = json.loads(line)
    expect = record["expect"]
    try:
        docs = list(yaml.safe_load_all(record["yaml"]))
    except yaml.YAMLError as err:
        return f"does not parse: {str(err).splitlines()[0]}"
    if len(docs) != 2:
        return f"{len(docs)} documents, want 2"
    head, task = docs
    got = {
        "name": head.get("name"),
        "task name": task.get("name"),
        "run": task.get("run"),
        "envs": task.get("envs"),
        "num_nodes": task.get("num_nodes"),
        "infra": task.get("resources", {}).get("infra"),
        "accelerators": task.get("resources", {}).get("accelerators"),
    }
    want = {
        "name": expect["name"],
        "task name": expect["name"],
        "run": expect["run"],
        "envs": expect["envs"],
        "num_nodes": expect["num_nodes"],
        "infra": expect.get("infra"),
        "accelerators": expect.get("accelerators"),
    }
    for key in want:
        if got[key] != want[key]:
            return f"{key}: read {got[key]!r}, recorded {want[key]!r}"
    return None


def main():
    if len(sys.argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = subprocess.run(sys.argv[1:], check=True, capture_output=True, text=True).stdout
    # One JSON object per "\n"-terminated line (splitlines() would also
    # split at the U+2028 and U+0085 the JSON strings carry raw).
    lines = [line for line in out.split("\n") if line]
    failures = []
    for line in lines:
        problem = check(line)
        if problem:
            failures.append((json.loads(line)["index"], problem))
    print(f"{len(lines)} task YAMLs checked with PyYAML {yaml.__version__}, "
          f"{len(failures)} did not read back")
    for index, problem in failures[:10]:
        print(f"  spec {index}: {problem}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
