#!/usr/bin/env python3
"""Checks that every #include between SkyDeck's folders follows the layer map.

The map is the one in docs/design.md ("Layout"): each folder may include
only the folders listed for it (and itself). A new edge, and so any cycle,
fails the check with the file and line. Tests and benchmarks may include
anything.

    scripts/check_layers.py [REPO_ROOT]
"""
import pathlib
import re
import sys

# folder -> folders it may include. "proto" is the generated API (skydeck/v1/...).
ALLOWED = {
    "common": set(),
    "common/model": {"common", "proto"},
    "daemon/store": {"common", "common/model"},
    "daemon/workload": {"common", "common/model"},
    "daemon/snapshots": {"common", "common/model", "daemon/store"},
    "daemon/backend": {"common", "common/model"},
    "daemon/http": {"common"},
    "daemon/backend/local": {"common", "common/model", "daemon/backend", "daemon/workload"},
    "daemon/backend/skypilot": {"common", "common/model", "daemon/backend", "daemon/workload",
                                "daemon/snapshots", "daemon/http"},
    "daemon/reconcile": {"common", "common/model", "daemon/backend", "daemon/store",
                         "daemon/workload"},
    "daemon/notify": {"common", "common/model", "daemon/http", "daemon/reconcile",
                      "daemon/store"},
    "daemon/service": {"common", "common/model", "proto", "daemon/backend", "daemon/notify",
                       "daemon/reconcile", "daemon/snapshots", "daemon/store", "daemon/workload"},
    "daemon/metrics": {"common", "common/model", "daemon/backend", "daemon/notify",
                       "daemon/reconcile", "daemon/store"},
    # The daemon's entry point wires everything together, the bridge included.
    "daemon": {"common", "common/model", "proto", "daemon/backend", "daemon/backend/local",
               "daemon/backend/skypilot", "daemon/http", "daemon/metrics", "daemon/notify",
               "daemon/reconcile",
               "daemon/service", "daemon/snapshots", "daemon/store", "daemon/workload",
               "web/bridge"},
    "web/bridge": {"common", "common/model", "proto"},
    "cli": {"common", "common/model", "proto"},
}
OURS = ("common/", "daemon/", "web/", "cli/", "skydeck/v1/")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def folder(path: str) -> str:
    """The layer a file belongs to: the deepest folder named in ALLOWED."""
    if path.startswith("skydeck/v1/"):
        return "proto"
    parts = path.split("/")[:-1]
    while parts and "/".join(parts) not in ALLOWED:
        parts.pop()
    return "/".join(parts)


def cycle_in_map():
    """A cycle among ALLOWED's edges, as a list of folders, or None."""
    state = {}

    def visit(node, path):
        if state.get(node) == "open":
            return path[path.index(node):] + [node]
        if state.get(node) == "done":
            return None
        state[node] = "open"
        for dep in sorted(ALLOWED.get(node, ())):
            found = visit(dep, path + [node])
            if found:
                return found
        state[node] = "done"
        return None

    for node in sorted(ALLOWED):
        found = visit(node, [])
        if found:
            return found
    return None


def main() -> int:
    cycle = cycle_in_map()
    if cycle:
        print("the layer map itself has a cycle: " + " -> ".join(cycle))
        return 1
    root = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else ".").resolve()
    problems = []
    for top in ("common", "daemon", "web/bridge", "cli"):
        for f in sorted((root / top).rglob("*")):
            if f.suffix not in (".h", ".cc") or "build" in f.parts:
                continue
            rel = f.relative_to(root).as_posix()
            src = folder(rel)
            text = f.read_text(errors="replace")
            for m in INCLUDE.finditer(text):
                inc = m.group(1)
                if not inc.startswith(OURS):
                    continue
                dst = folder(inc)
                if dst != src and dst not in ALLOWED.get(src, set()):
                    line = text.count("\n", 0, m.start()) + 1
                    problems.append(f"{rel}:{line}: {src} may not include {inc} ({dst})")
    for p in problems:
        print(p)
    if problems:
        print(f"{len(problems)} include(s) break the layer map in docs/design.md")
        return 1
    print("layers: every include follows the map")
    return 0


if __name__ == "__main__":
    sys.exit(main())
