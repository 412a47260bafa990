"""Snapshots on a running peer: written in the background every snapCount
transactions, used at restart (snapshot + log replay), and a corrupt newest
snapshot falls back to an older valid one (set aside as .broken) with no
acknowledged write lost."""

import glob
import os
import subprocess
import unittest

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry

from ensemble_harness import BIN, Ensemble, wait_until

CTL = os.path.join(BIN, "bin", "ensemblectl")


def snapshot_files(snapdir):
    return [p for p in glob.glob(os.path.join(snapdir, "snapshot.*"))
            if not p.endswith((".tmp", ".broken"))]


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

            # On demand, through the admin API: a snapshot now, then a purge
            # down to autopurge.snapRetainCount (3).
            storage = ensemble.grpc("storage.1")
            before = len(snapshot_files(snapdir))
            self.assertGreater(before, 3)
            zk = client(ensemble.hosts())
            try:
                zk.create("/snap/on-demand")
            finally:
                zk.stop()
                zk.close()
            r = subprocess.run([CTL, "snapshot", "--endpoints", storage], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            wait_until(lambda: len(snapshot_files(snapdir)) == before + 1, timeout=30,
                       what="the on-demand snapshot")
            r = subprocess.run([CTL, "purge", "--endpoints", storage], capture_output=True,
                               text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(len(snapshot_files(snapdir)), 3)
            # Other processes refuse the storage actions.
            r = subprocess.run([CTL, "purge", "--endpoints", ensemble.grpc("gateway.1")],
                               capture_output=True, text=True, timeout=30)
            self.assertNotEqual(r.returncode, 0)
            # After the purge the peer still restarts with everything.
            ensemble.kill("peer.1")
            ensemble.restart("peer.1")
            zk = client(ensemble.hosts())
            try:
                self.assertEqual(len(zk.get_children("/snap")), 301)
            finally:
                zk.stop()
                zk.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
