"""Every process starts from the launcher, serves gRPC health, the admin API
and /metrics, rejects a broken configuration naming the line, and stops
cleanly."""

import json
import os
import subprocess
import tempfile
import unittest
import urllib.request

from ensemble_harness import BIN, Ensemble

CTL = os.path.join(BIN, "bin", "ensemblectl")
PROCESSES = ["storage.1", "replication.1", "election.1", "gateway.1"]


class LauncherTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ensemble = Ensemble(peers=1, gateways=1)

    @classmethod
    def tearDownClass(cls):
        cls.ensemble.stop()

    def test_every_process_reports_serving(self):
        for name in PROCESSES:
            r = subprocess.run([CTL, "health", "--endpoints", self.ensemble.grpc(name)],
                               capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, f"{name}: {r.stdout}{r.stderr}")
            self.assertIn("SERVING", r.stdout)

    def test_admin_status_names_the_process(self):
        for name in PROCESSES:
            r = subprocess.run([CTL, "status", "--endpoints", self.ensemble.grpc(name), "-o",
                                "json"], capture_output=True, text=True)
            self.assertEqual(r.returncode, 0, r.stderr)
            status = json.loads(r.stdout)
            self.assertEqual(status["process"], name.split(".")[0])

    def test_replication_leads_alone(self):
        r = subprocess.run([CTL, "status", "--endpoints", self.ensemble.grpc("replication.1"),
                            "-o", "json"], capture_output=True, text=True)
        status = json.loads(r.stdout)
        self.assertEqual(status["role"], "standalone")
        self.assertEqual(int(status["leader"]), 1)
        self.assertGreater(int(status["header"]["epoch"]), 0)

    def test_metrics_endpoints_export_process_metrics(self):
        for name in PROCESSES:
            url = f"http://{self.ensemble.metrics(name)}/metrics"
            body = urllib.request.urlopen(url, timeout=5).read().decode()
            self.assertIn("process_resident_memory_bytes", body, name)

    def test_storage_exports_tree_metrics(self):
        body = urllib.request.urlopen(
            f"http://{self.ensemble.metrics('storage.1')}/metrics", timeout=5).read().decode()
        self.assertIn("ensemble_storage_znodes", body)

    def test_launcher_lists_gateway_addresses(self):
        out = self.ensemble.launcher("gateways").split()
        self.assertEqual(out, self.ensemble.gateways())


class BadConfigTest(unittest.TestCase):
    def test_unknown_key_stops_the_process_and_names_the_line(self):
        with tempfile.TemporaryDirectory() as d:
            cfg = os.path.join(d, "zoo.cfg")
            with open(cfg, "w") as f:
                f.write(f"tickTime=2000\nnoSuchKey=1\ndataDir={d}\n")
            for process in ["storage", "replication", "election", "gateway"]:
                exe = os.path.join(BIN, "bin", "ensemble-" + process)
                r = subprocess.run([exe, "--config", cfg], capture_output=True, text=True,
                                   timeout=20)
                self.assertEqual(r.returncode, 2, process)
                self.assertIn("zoo.cfg:2", r.stderr, process)
                self.assertIn("noSuchKey", r.stderr, process)

    def test_missing_config_flag_is_an_error(self):
        exe = os.path.join(BIN, "bin", "ensemble-storage")
        r = subprocess.run([exe], capture_output=True, text=True, timeout=20)
        self.assertEqual(r.returncode, 2)
        self.assertIn("--config", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
