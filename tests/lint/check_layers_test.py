"""Tests scripts/check_layers.py on small trees made here.

An include that the layer map allows passes; one it does not (the store
reaching up into the service, plumbing reaching into the model) fails with
the file and line; tests may include anything.
"""

import os
import subprocess
import sys
import tempfile
import unittest

SCRIPT = os.path.join(os.path.dirname(__file__), "..", "..", "scripts", "check_layers.py")


def run_on(files):
    with tempfile.TemporaryDirectory() as root:
        for path, text in files.items():
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        return subprocess.run([sys.executable, SCRIPT, root], capture_output=True, text=True)


class CheckLayersTest(unittest.TestCase):
    def test_allowed_includes_pass(self):
        r = run_on({
            "daemon/store/store.cc": '#include "common/model/records.h"\n#include "common/log.h"\n',
            "daemon/service/s.cc": '#include "daemon/store/store.h"\n#include "skydeck/v1/service.pb.h"\n',
            "tests/daemon/x_test.cc": '#include "daemon/daemon.h"\n',
        })
        self.assertEqual(r.returncode, 0, r.stdout)

    def test_an_include_against_the_map_fails_with_file_and_line(self):
        r = run_on({
            "daemon/store/store.cc": '#include "common/log.h"\n#include "daemon/service/skydeck_service.h"\n',
        })
        self.assertEqual(r.returncode, 1)
        self.assertIn("daemon/store/store.cc:2: daemon/store may not include "
                      "daemon/service/skydeck_service.h", r.stdout)

    def test_plumbing_may_not_include_the_model(self):
        r = run_on({"common/log.cc": '#include "common/model/states.h"\n'})
        self.assertEqual(r.returncode, 1)
        self.assertIn("common may not include common/model/states.h", r.stdout)


if __name__ == "__main__":
    unittest.main()
