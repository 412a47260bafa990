"""ZooKeeper's C client library (libzookeeper-mt) in a small C program
(c_client.c, built by CMake) against a live Ensemble."""

import os
import subprocess
import unittest

from ensemble_harness import BIN, Ensemble


class CClientTest(unittest.TestCase):
    def test_c_program(self):
        exe = os.path.join(BIN, "bin", "zk_c_client")
        with Ensemble(peers=1, gateways=1) as ensemble:
            r = subprocess.run([exe, ensemble.gateways()[0]], capture_output=True, text=True,
                               timeout=120)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("0 failed", r.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
