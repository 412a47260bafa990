"""Runs `bench/compare --quick` against real ZooKeeper 3.8 and a real local
Ensemble and checks that the table is printed and every figure was measured on
both sides without errors. Timings and ratios are never asserted."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COMPARE = os.path.join(ROOT, "bench", "compare")
BIN = os.environ.get("ENSEMBLE_BIN", os.path.join(ROOT, "build"))

# Figures a single-server run cannot have, with the reason compare gives.
NOT_APPLICABLE_WITH_ONE_SERVER = {"failover_ms": "needs --servers 3 or more"}


class CompareSmokeTest(unittest.TestCase):
    def test_quick_run_measures_every_figure(self):
        for name in ("ensemble-bench", "ensemble-gateway", "ensemble-storage"):
            path = os.path.join(BIN, "bin", name)
            self.assertTrue(os.access(path, os.X_OK), f"{path} is not built")
        with tempfile.TemporaryDirectory(prefix="bench-smoke-") as tmp:
            out_json = os.path.join(tmp, "figures.json")
            r = subprocess.run([sys.executable, COMPARE, "--quick", "--bin", BIN, "--json",
                                out_json, "--workdir", tmp],
                               capture_output=True, text=True, timeout=360)
            print(r.stdout)
            if r.returncode != 0:
                print(r.stderr[-5000:], file=sys.stderr)
            self.assertEqual(r.returncode, 0, "bench/compare reported errors (see the table)")
            with open(out_json) as f:
                figures = json.load(f)
            # Nothing left behind in the work folder.
            self.assertEqual(sorted(os.listdir(tmp)), ["figures.json"])

        lines = r.stdout.splitlines()
        header = [l for l in lines if l.startswith("figure")]
        self.assertEqual(len(header), 1, r.stdout)
        for column in ("ZooKeeper", "Ensemble", "Ens/ZK"):
            self.assertIn(column, header[0])
        self.assertNotIn("error[", r.stdout)
        self.assertTrue(any(l.startswith("server CPU time") for l in lines), r.stdout)
        self.assertTrue(any(l.startswith("server peak RSS") for l in lines), r.stdout)

        columns = figures["columns"]
        self.assertEqual(sorted(columns), ["Ensemble", "ZooKeeper"])
        for side, column in columns.items():
            results = column["results"]
            self.assertGreaterEqual(len(results), 20, side)
            for key, (state, value) in results.items():
                if key in NOT_APPLICABLE_WITH_ONE_SERVER:
                    self.assertEqual((state, value), ("n/a", NOT_APPLICABLE_WITH_ONE_SERVER[key]))
                    continue
                self.assertEqual(state, "ok", f"{side} {key}: {value}")
                self.assertIsInstance(value, (int, float), f"{side} {key}")
                self.assertGreaterEqual(value, 0, f"{side} {key}")
            self.assertGreater(column["cpu_s"], 0, side)
            self.assertGreater(column["peak_rss_mb"], 0, side)


if __name__ == "__main__":
    unittest.main(verbosity=2)
