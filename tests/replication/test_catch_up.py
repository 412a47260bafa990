"""Issue 5, fourth bullet: a follower that was down for many transactions
catches up by DIFF; one that was down past a purge catches up by SNAP, with a
tree of more than 100k znodes.

DIFF: SIGKILL a follower peer, write 2000 creates and sets through another
gateway, restart it: its replication log shows `zab.sync mode=DIFF`, its
storage reports the leader's znode count and last applied zxid, and the
gateway homed on it serves the same tree as every other.

SNAP: SIGKILL a follower, build /big with 100k+ children (multi transactions
of 500 creates, pipelined), force three snapshots and a purge on every
storage (`ensemblectl snapshot|purge`; a purge keeps the newest 3 snapshots
and the log the oldest needs, so the log no longer reaches back to the
follower's last zxid), restart it: it logs `zab.sync mode=SNAP`, its storage
reports the same znode count and last applied zxid, and it serves the same
/big (children, stat, sampled children's data and stat) as the leader."""

import os
import random
import subprocess
import time
import unittest

import replication_harness as rh

rh.setup_module_guard(330)

BIG = 100_500
BATCH = 500


def snapshots(ens, sid):
    d = os.path.join(ens.data, f"peer{sid}", "ensemble", "snapshots")
    try:
        return sorted(f for f in os.listdir(d) if f.startswith("snapshot."))
    except FileNotFoundError:
        return []


def ctl(ens, command, sid):
    r = subprocess.run([rh.CTL, command, "--endpoints", ens.grpc(f"storage.{sid}")],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        raise AssertionError(f"ensemblectl {command} storage.{sid}: {r.stdout}{r.stderr}")


class CatchUpTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if os.geteuid() != 0:
            raise unittest.SkipTest("network namespaces need root")
        cls.ens = rh.start(peers=3)

    @classmethod
    def tearDownClass(cls):
        cls.ens.stop()

    def setUp(self):
        self.leader, self.epoch = rh.wait_agreement(self.ens, timeout=30)
        self.followers = [sid for sid in rh.sids(self.ens) if sid != self.leader]

    def restart_and_sync_mode(self, sid, timeout=60):
        mark = len(rh.log_lines(self.ens, sid, r"zab\.sync mode="))
        self.ens.restart(f"peer.{sid}")
        self.assertEqual(rh.wait_agreement(self.ens, timeout=timeout), (self.leader, self.epoch),
                         "the restarted follower must rejoin the same leader and epoch")
        syncs = rh.log_lines(self.ens, sid, r"zab\.sync mode=")[mark:]
        self.assertTrue(syncs, f"peer {sid} logged no sync after its restart")
        print(f"peer {sid}: {syncs[-1]}")
        return syncs[-1]

    def test_1_diff_after_many_transactions(self):
        try:
            self.diff()
        except Exception:
            print(rh.log_excerpt(self.ens, rh.sids(self.ens)))
            raise

    def test_2_snap_after_a_purge_with_100k_znodes(self):
        try:
            self.snap()
        except Exception:
            print(rh.log_excerpt(self.ens, rh.sids(self.ens)))
            raise

    def diff(self):
        down, writer = self.followers
        zk = rh.client(rh.gateway_of(self.ens, writer))
        try:
            rh.retry(lambda: zk.ensure_path("/diff"), 30, "ensure /diff")
            rh.sync(zk, "/diff")
            self.ens.kill(f"peer.{down}")
            for start in range(0, 1500, 250):
                ops = [zk.create_async(f"/diff/n{i:05d}", b"v0") for i in range(start, start + 250)]
                for op in ops:
                    op.get(timeout=30)
            ops = [zk.set_async(f"/diff/n{i:05d}", b"v1") for i in range(0, 500)]
            for op in ops:
                op.get(timeout=30)
        finally:
            rh.close(zk)
        line = self.restart_and_sync_mode(down)
        self.assertIn("mode=DIFF", line)
        self.assertNotIn("from=0x0 ", line, "the follower had written /diff before it died")
        znodes, _ = rh.wait_same_storage(self, self.ens, timeout=30)
        self.assertGreaterEqual(znodes, 1500)
        tree = rh.assert_same_tree(self, self.ens, root="/diff")
        self.assertEqual(len(tree), 1501)
        self.assertEqual(tree["/diff/n00499"][:2], (b"v1", 1))
        self.assertEqual(tree["/diff/n00500"][:2], (b"v0", 0))

    def snap(self):
        down = self.followers[0]
        self.ens.kill(f"peer.{down}")
        up = [sid for sid in rh.sids(self.ens) if sid != down]
        written_mark = {sid: len(rh.log_lines(self.ens, sid, r"snapshot\.written", "storage"))
                        for sid in up}
        zk = rh.client(rh.gateway_of(self.ens, self.leader))
        started = time.monotonic()
        try:
            rh.retry(lambda: zk.ensure_path("/big"), 30, "ensure /big")
            batches = [range(i, min(i + BATCH, BIG)) for i in range(0, BIG, BATCH)]
            in_flight = []
            snaps_forced = 0
            for k, batch in enumerate(batches):
                t = zk.transaction()
                for i in batch:
                    t.create(f"/big/z{i:06d}", b"%d" % i)
                in_flight.append(t.commit_async())
                if len(in_flight) >= 8:
                    results = in_flight.pop(0).get(timeout=60)
                    self.assertTrue(all(isinstance(r, str) for r in results), results[:3])
                # Three snapshots spread over the second half of the build.
                if k in (len(batches) // 2, 3 * len(batches) // 4, len(batches) - 2):
                    for sid in up:
                        ctl(self.ens, "snapshot", sid)
                    snaps_forced += 1
                self.assertLess(time.monotonic() - started, 180, "building the tree is too slow")
            for f in in_flight:
                results = f.get(timeout=60)
                self.assertTrue(all(isinstance(r, str) for r in results), results[:3])
            print(f"{BIG} znodes in {len(batches)} multis: {time.monotonic() - started:.1f}s")
        finally:
            rh.close(zk)
        self.assertEqual(snaps_forced, 3)
        # Snapshots are written asynchronously (by a forked child); then purge.
        rh.wait_until(lambda: all(
            len(rh.log_lines(self.ens, sid, r"snapshot\.written", "storage")) >=
            written_mark[sid] + 3 for sid in up), timeout=60, what="the forced snapshots")
        purge_mark = len(rh.log_lines(self.ens, self.leader, r"zab\.log_purged"))
        for sid in up:
            ctl(self.ens, "purge", sid)
        rh.wait_until(lambda: all(
            rh.log_lines(self.ens, sid, r"storage\.purged snapshots_deleted=[1-9]", "storage")
            for sid in up), timeout=30, what="the purge")
        self.assertTrue(all(len(snapshots(self.ens, sid)) == 3 for sid in up),
                        {sid: snapshots(self.ens, sid) for sid in up})
        rh.wait_until(lambda: len(rh.log_lines(self.ens, self.leader,
                                               r"zab\.log_purged")) > purge_mark,
                      timeout=30, what="the leader's replication to see the purge")
        print(rh.log_lines(self.ens, self.leader, r"zab\.log_purged")[-1])

        line = self.restart_and_sync_mode(down, timeout=120)
        self.assertIn("mode=SNAP", line)
        znodes, zxid = rh.wait_same_storage(self, self.ens, timeout=60)
        self.assertGreater(znodes, BIG)

        # Compare /big as the restarted follower and the leader serve it.
        views = {}
        rng = random.Random(5)
        sample = [f"/big/z{i:06d}" for i in rng.sample(range(BIG), 300)]
        for sid in (down, self.leader):
            zk = rh.client(rh.gateway_of(self.ens, sid))
            try:
                rh.sync(zk, "/big")
                children = zk.get_children_async("/big").get(timeout=60)
                _, stat = zk.get_async("/big").get(timeout=30)
                reads = [zk.get_async(p) for p in sample]
                sampled = [(r.get(timeout=30)[0], r.get(timeout=30)[1].mzxid) for r in reads]
            finally:
                rh.close(zk)
            views[sid] = (sorted(children), stat.numChildren, stat.cversion, stat.pzxid, sampled)
        self.assertEqual(len(views[down][0]), BIG)
        self.assertEqual(views[down], views[self.leader])


if __name__ == "__main__":
    unittest.main(verbosity=2)
