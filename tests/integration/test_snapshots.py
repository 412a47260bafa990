"""Snapshots on a running peer: written in the background every snapCount
transactions, used at restart (snapshot + log replay), and a corrupt newest
snapshot falls back to an older valid one (set aside as .broken) with no
acknowledged write lost."""

import glob
import os
import unittest

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from ensemble_harness import Ensemble, wait_until


def client(hosts):
    zk = KazooClient(hosts=hosts, timeout=10.0,
                     connection_retry=KazooRetry(max_tries=-1, delay=0.2, max_delay=1))
    zk.start(timeout=60)
    return zk


class SnapshotTest(unittest.TestCase):
    def test_snapshots_restart_and_corruption_fallback(self):
        with Ensemble(peers=1, gateways=1, settings=["snapCount=50"]) as ensemble:
            snapdir = os.path.join(ensemble.data, "peer1", "ensemble", "snapshots")
            zk = client(ensemble.hosts())
            try:
                zk.create("/snap")
                for i in range(300):
                    zk.create(f"/snap/n{i}", str(i).encode())
                wait_until(lambda: len(glob.glob(os.path.join(snapdir, "snapshot.*"))) >= 3,
                           timeout=30, what="snapshots to be written")
            finally:
                zk.stop()
                zk.close()

            ensemble.kill("peer.1")
            ensemble.restart("peer.1")
            zk = client(ensemble.hosts())
            try:
                self.assertEqual(len(zk.get_children("/snap")), 300)
                zk.set("/snap/n7", b"after-restart")
            finally:
                zk.stop()
                zk.close()

            # Corrupt the newest snapshot: restart must fall back to an older
            # one and replay the log from there.
            ensemble.kill("peer.1")
            snaps = sorted(p for p in glob.glob(os.path.join(snapdir, "snapshot.*"))
                           if not p.endswith((".tmp", ".broken")))
            newest = max(snaps, key=lambda p: int(p.rsplit(".", 1)[1], 16))
            with open(newest, "r+b") as f:
                f.seek(os.path.getsize(newest) // 2)
                f.write(b"\xde\xad\xbe\xef")
            ensemble.restart("peer.1")
            zk = client(ensemble.hosts())
            try:
                children = zk.get_children("/snap")
                self.assertEqual(len(children), 300)
                self.assertEqual(zk.get("/snap/n7")[0], b"after-restart")
                self.assertEqual(zk.get("/snap/n299")[0], b"299")
            finally:
                zk.stop()
                zk.close()
            self.assertTrue(os.path.exists(newest + ".broken"),
                            "the corrupt snapshot should be set aside")


if __name__ == "__main__":
    unittest.main(verbosity=2)
