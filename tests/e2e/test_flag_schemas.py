"""Flag schemas end to end: a real Pydantic (Debian's python3-pydantic, 1.10;
2.x works too) emits the JSON Schema of models written here (nested models,
enums, optionals, literals, unions, lists, defaults); the real CLI imports
it; `exp create` and `exp flags set` are then validated and normalised by
the daemon. Pydantic is a test dependency (scripts/install-deps.sh): without
it these tests fail, they are not skipped."""

import json
import os
import subprocess
import textwrap
import unittest

import harness
from test_http_bridge import Http

CMD = "python train.py"

MODELS = textwrap.dedent('''
    import enum, json
    from typing import List, Literal, Optional, Union
    import pydantic
    from pydantic import BaseModel, Field

    class Optim(str, enum.Enum):
        adam = "adam"
        sgd = "sgd"

    class Trainer(BaseModel):
        lr: float = Field(3e-4, gt=0, le=1, description="learning rate")
        steps: int = Field(1000, ge=1)
        optim: Optim = Optim.adam          # 1.10: allOf [$ref Optim] + default
        schedule: Optional[Optim] = None   # 1.10: a bare $ref; 2.x: anyOf [$ref, null]

    class Model(BaseModel):
        layers: int = Field(..., ge=1, le=64, description="transformer blocks")
        dropout: Optional[float] = None

    class Data(BaseModel):
        path: str = "/data"

    class Config(BaseModel):
        trainer: Trainer = Trainer()
        model: Model
        data: Optional[Data] = None        # a nested model behind a $ref, optional
        run: str = Field("base", description="run label")
        size: Union[int, str] = 4          # anyOf of different types: no flag form
        scale: Union[int, float] = 1       # anyOf of numbers: one float flag
        mode: Literal["fast", "slow"] = "fast"
        seed: Optional[int] = None
        tags: List[str] = []
        debug: bool = False

    schema = (Config.model_json_schema() if hasattr(Config, "model_json_schema")
              else Config.schema())
    print(json.dumps(schema))
''')


def pydantic_schema():
    proc = subprocess.run(["/usr/bin/python3", "-c", MODELS], capture_output=True, text=True,
                          timeout=60)
    # A failure, not a skip: ctest would count a skipped test as passed.
    if proc.returncode != 0:
        raise AssertionError("Pydantic could not emit the schema (is python3-pydantic "
                             f"installed? scripts/install-deps.sh): {proc.stderr.strip()[-300:]}")
    return proc.stdout


class FlagSchemaTest(harness.E2ETestCase):

    def import_schema(self, *extra):
        path = os.path.join(self.tmp, "schema.json")
        with open(path, "w") as f:
            f.write(pydantic_schema())
        return self.cli_json("schema", "import", "--cmd", CMD, path, *extra)

    def test_pydantic_import_then_validation_and_normalisation(self):
        imported = self.import_schema("--strict")
        flags = {f["name"]: f for f in imported["flags"]}
        self.assertEqual(imported["version"], "1")
        self.assertTrue(imported["strict"])
        self.assertEqual(sorted(flags), ["data.path", "debug", "mode", "model.dropout",
                                         "model.layers", "run", "scale", "seed", "trainer.lr",
                                         "trainer.optim", "trainer.schedule",
                                         "trainer.steps"])
        self.assertEqual(flags["trainer.lr"]["type"], "TYPE_FLOAT")
        self.assertEqual(flags["trainer.lr"]["description"], "learning rate")
        self.assertEqual(flags["trainer.lr"]["default_value"], {"double_value": 0.0003})
        self.assertEqual(flags["trainer.optim"]["type"], "TYPE_CHOICE")
        self.assertEqual(flags["trainer.optim"]["choices"], ["adam", "sgd"])
        self.assertEqual(flags["model.layers"]["type"], "TYPE_INT")
        self.assertTrue(flags["model.layers"]["required"])
        self.assertEqual((flags["model.layers"]["min"], flags["model.layers"]["max"]), (1, 64))
        self.assertEqual(flags["seed"]["type"], "TYPE_INT")
        self.assertEqual(flags["debug"]["type"], "TYPE_BOOL")
        # str: a string flag with its default and description.
        self.assertEqual(flags["run"]["type"], "TYPE_STRING")
        self.assertEqual(flags["run"]["default_value"], {"string_value": "base"})
        self.assertEqual(flags["run"]["description"], "run label")
        # Enums behind $ref (with allOf and a default, or optional) are choices.
        self.assertEqual(flags["trainer.schedule"]["type"], "TYPE_CHOICE")
        self.assertEqual(flags["trainer.schedule"]["choices"], ["adam", "sgd"])
        self.assertFalse(flags["trainer.schedule"].get("required", False))
        self.assertEqual(flags["trainer.optim"]["default_value"], {"string_value": "adam"})
        self.assertEqual(flags["mode"]["type"], "TYPE_CHOICE")
        self.assertEqual(flags["mode"]["choices"], ["fast", "slow"])
        # An optional nested model behind a $ref: its fields, not required.
        self.assertEqual(flags["data.path"]["type"], "TYPE_STRING")
        self.assertFalse(flags["data.path"].get("required", False))
        # Union of numbers: one float flag; of int and str: skipped, with why.
        self.assertEqual(flags["scale"]["type"], "TYPE_FLOAT")
        self.assertNotIn("size", flags)
        skipped = {s.split(":", 1)[0]: s for s in imported["skipped"]}
        self.assertIn("size", skipped, imported["skipped"])
        self.assertIn("union", skipped["size"])
        self.assertIn("no flag form", skipped["size"])
        self.assertIn("tags", skipped, imported["skipped"])
        self.assertIn("list", skipped["tags"])
        self.assertEqual(sorted(skipped), ["size", "tags"])

        # Human output names what was skipped too.
        path = os.path.join(self.tmp, "schema.json")
        table = self.cli("schema", "import", "--cmd", CMD, path, "--strict").stdout
        self.assertIn("skipped: tags", table)
        self.assertIn("Version: 2", table)

        # Normalisation: "8" for an int flag -> 8, 1 for a float flag -> 1.0,
        # "true" text for a bool -> true.
        created = self.cli_json("exp", "create", "typed", "--cmd", CMD,
                                "--flag", "model.layers:=8", "--flag", "trainer.lr=1",
                                "--flag", "debug:=true")
        self.assertEqual(created["flags"]["model.layers"], {"int_value": "8"})
        self.assertIn("double_value", created["flags"]["trainer.lr"])
        self.assertEqual(created["flags"]["debug"], {"bool_value": True})

        for flag, words in [("model.layers=100", ["model.layers", "100"]),
                            ("model.layers=four", ["model.layers", "expected int", "four"]),
                            ("trainer.optim=adamw", ["trainer.optim", "adamw"]),
                            ("trainer.lrr=0.1", ["unknown flag trainer.lrr"])]:
            args = ["exp", "create", "bad", "--cmd", CMD, "--flag", flag]
            if not flag.startswith("model.layers"):
                args += ["--flag", "model.layers=4"]
            proc = self.cli(*args, expect=1)
            for word in words:
                self.assertIn(word, proc.stderr)
        proc = self.cli("exp", "create", "missing", "--cmd", CMD, expect=1)
        self.assertIn("model.layers: required", proc.stderr)

        proc = self.cli("exp", "flags", "typed", "set", "trainer.steps=abc", expect=1)
        self.assertIn("trainer.steps", proc.stderr)
        self.cli("exp", "flags", "typed", "set", "trainer.steps:=500")
        flags = self.cli_json("exp", "get", "typed")["flags"]
        self.assertEqual(flags["trainer.steps"], {"int_value": "500"})

        got = self.cli_json("schema", "get", "--cmd", CMD)["schemas"]
        self.assertEqual([s["version"] for s in got], ["2"])
        old = self.cli_json("schema", "get", "--cmd", CMD, "--version", "1")["schemas"]
        self.assertEqual(old[0]["version"], "1")

        # Deleted: no validation; the inferred schema takes over.
        self.cli("schema", "delete", "--cmd", CMD)
        self.cli("exp", "create", "free", "--cmd", CMD, "--flag", "anything=1")
        got = self.cli_json("schema", "get", "--cmd", CMD)["schemas"]
        self.assertTrue(got[0]["inferred"])

    def test_lenient_import_warns_and_native_yaml_apply(self):
        self.import_schema()
        created = self.cli_json("exp", "create", "lenient", "--cmd", CMD,
                                "--flag", "model.layers=4", "--flag", "trainer.lrr=0.1")
        self.assertIn("trainer.lrr", created["flags"])
        events = self.cli_json("exp", "events", "lenient")["events"]
        self.assertTrue(any(e["type"] == "FlagWarning" for e in events), events)

        path = os.path.join(self.tmp, "eval.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent("""\
                base_command: python eval.py
                strict: true
                flags:
                  - name: split
                    type: choice
                    choices: [val, test]
                    default: val
                  - name: batch
                    type: int
                    min: 1
                """))
        applied = self.cli_json("schema", "apply", "-f", path)
        self.assertEqual(applied["version"], "1")
        self.cli("exp", "create", "ev", "--cmd", "python eval.py", "--flag", "split=test",
                 "--flag", "batch=32")
        proc = self.cli("exp", "create", "ev2", "--cmd", "python eval.py", "--flag", "batch=0",
                        expect=1)
        self.assertIn("batch", proc.stderr)

    def test_apply_diff_and_sweep_settle_under_a_schema(self):
        """Values the schema normalises ("4" -> 4, 1 -> 1.0) are not changes:
        apply then diff exits 0, a sweep re-run is unchanged; dry runs are
        checked by the daemon, so they fail where the real run would."""
        self.import_schema()
        path = os.path.join(self.tmp, "m.yaml")
        with open(path, "w") as f:
            f.write(textwrap.dedent(f"""\
                name: normalised
                base_command: {CMD}
                flags:
                  model.layers: "4"
                  trainer.lr: 1
                  trainer.lrr: 2
                """))
        plan = json.loads(self.cli("apply", "-f", path, "--dry-run", "-o", "json").stdout)
        self.assertEqual((plan["created"], plan["changed"], plan["unchanged"]), (1, 0, 0))
        self.assertTrue(plan["dry_run"])
        proc = self.cli("apply", "-f", path)
        self.assertIn("Applied: 1 created, 0 changed, 0 unchanged", proc.stdout)
        # Unknown flag under a lenient schema: kept, and the user is told.
        self.assertIn("warning", self.cli("exp", "flags", "normalised", "set",
                                          "trainer.lrr=3").stderr)
        self.cli("exp", "flags", "normalised", "set", "trainer.lrr=2")
        self.cli("diff", "-f", path)  # exit 0: nothing to change
        plan = json.loads(self.cli("apply", "-f", path, "-o", "json").stdout)
        self.assertEqual((plan["created"], plan["changed"], plan["unchanged"]), (0, 0, 1))
        self.assertEqual(plan["experiments"][0]["action"], "unchanged")

        # A real change is still one, with the normalised value shown.
        with open(path, "a") as f:
            f.write("nodes: 2\n")
        proc = self.cli("diff", "-f", path, expect=1)
        self.assertIn("nodes: 1 -> 2", proc.stdout)
        self.assertNotIn("flags.", proc.stdout)

        # A value the schema refuses fails the dry run and diff (exit > 1).
        with open(path, "w") as f:
            f.write(f"name: broken\nbase_command: {CMD}\nflags:\n  model.layers: four\n")
        proc = self.cli("apply", "-f", path, "--dry-run", expect=1)
        self.assertIn("expected int", proc.stderr)
        self.assertEqual(self.cli("diff", "-f", path, expect=None).returncode, 2)
        self.cli("exp", "get", "broken", expect=1)

        grid = ["sweep", "sw", "--cmd", CMD, "--grid", "trainer.lr=1,0.5",
                "--grid", "model.layers:=4,8"]
        self.cli(*grid)
        again = json.loads(self.cli(*grid, "-o", "json").stdout)
        self.assertEqual((again["created"], again["unchanged"], again["failed"]), (0, 4, 0))
        proc = self.cli("sweep", "bad", "--cmd", CMD, "--grid", "model.layers=4,100",
                        "--dry-run", expect=1)
        self.assertIn("would fail", proc.stdout)
        self.assertIn("model.layers", proc.stdout)
        self.assertEqual(self.cli("exp", "list", "-l", "sweep=bad", "-o", "name").stdout, "")

    def test_http_routes(self):
        h = Http(self.daemon.http_address)
        applied = h.ok("POST", "/api/flag-schemas", {"schema": {
            "base_command": "python web.py", "strict": True,
            "flags": [{"name": "lr", "type": "TYPE_FLOAT", "min": 0}]}})["schema"]
        self.assertEqual(applied["version"], "1")
        got = h.ok("GET", "/api/flag-schemas?base_command=python%20web.py")["schemas"]
        self.assertEqual(got[0]["flags"][0]["name"], "lr")
        status, body, _ = h.request("POST", "/api/experiments", {"experiment": {
            "name": "w", "base_command": "python web.py",
            "flags": {"lr": {"string_value": "fast"}}}})
        self.assertEqual(status, 400, body)
        deleted = h.ok("DELETE", "/api/flag-schemas?base_command=python%20web.py")
        self.assertEqual(deleted["version"], "2")
        self.assertEqual(h.ok("GET", "/api/flag-schemas").get("schemas", []), [])


if __name__ == "__main__":
    unittest.main()
