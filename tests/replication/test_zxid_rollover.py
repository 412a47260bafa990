"""Issue 5, zxid counter roll-over (docs/zab.md, "zxid counter roll-over"):
started with ensemble.testing.initialZxidCounter=4294967000, a new leader's
counter starts 295 below the 32-bit limit. 600 writes from clients on two
gateways (one homed on a follower, one on the leader) all succeed without any
client-visible error; the leader moves to the next epoch in place: same leader,
no peer ran another election (replication status `elections` unchanged),
epoch + 1, `zab.rollover_done` in its log, the znodes' czxids go from (e,
0xffffffxx) to (e+1, small), and every peer serves the same tree."""

import unittest

import replication_harness as rh

rh.setup_module_guard(150)

INITIAL = 4294967000


class ZxidRolloverTest(unittest.TestCase):
    def setUp(self):
        rh.require_root(self)

    def test_counter_rollover_changes_epoch_without_election(self):
        ens = rh.start(peers=3, settings=(f"ensemble.testing.initialZxidCounter={INITIAL}",))
        load = None
        try:
            leader, epoch = rh.wait_agreement(ens, timeout=30)
            before = {sid: rh.replication_status(ens, sid) for sid in rh.sids(ens)}
            elections = {sid: int(s["details"]["elections"]) for sid, s in before.items()}
            follower = next(sid for sid in rh.sids(ens) if sid != leader)
            zk = rh.client(rh.gateway_of(ens, follower))
            try:
                zk.create_async("/roll", b"").get(timeout=rh.OP_TIMEOUT_S)
                _, stat = zk.get_async("/roll").get(timeout=rh.OP_TIMEOUT_S)
                self.assertEqual(stat.czxid >> 32, epoch)
                self.assertGreaterEqual(stat.czxid & 0xFFFFFFFF, INITIAL,
                                        "the leader's counter starts near the limit")
            finally:
                rh.close(zk)

            load = rh.WriteLoad([rh.gateway_of(ens, follower), rh.gateway_of(ens, leader)],
                                prefix="/roll", max_per_client=300, seconds=60,
                                replace_hung=False).start()
            for t in load.threads:
                t.join(70)
            load.stop()
            self.assertEqual(load.errors, [], "client-visible errors during the roll-over")
            self.assertEqual(len(load.acked), 600)

            after_leader, after_epoch = rh.wait_agreement(ens, timeout=20)
            self.assertEqual(after_leader, leader, "the leader changed")
            self.assertEqual(after_epoch, epoch + 1, "the epoch moved on by one")
            for sid in rh.sids(ens):
                s = rh.replication_status(ens, sid)
                self.assertEqual(int(s["details"]["elections"]), elections[sid],
                                 f"peer {sid} ran an election")
            self.assertTrue(rh.log_lines(ens, leader, r"zab\.rollover_done"),
                            "no zab.rollover_done in the leader's log")
            self.assertEqual(rh.log_lines(ens, leader, r"zab\.looking")[1:], [],
                             "the leader went LOOKING after its first election")

            rh.wait_same_storage(self, ens, timeout=30)
            tree = rh.assert_same_tree(self, ens, root="/roll")
            czxids = sorted(v[4] for p, v in tree.items() if p != "/roll")
            self.assertEqual(len(czxids), 600)
            self.assertEqual({z >> 32 for z in czxids}, {epoch, epoch + 1})
            old = [z for z in czxids if z >> 32 == epoch]
            new = [z for z in czxids if z >> 32 == epoch + 1]
            self.assertGreaterEqual(min(z & 0xFFFFFFFF for z in old), INITIAL)
            self.assertGreater(len(old), 0)
            self.assertGreater(len(new), 300, "the roll-over came after about 295 txns")
            self.assertLess(min(z & 0xFFFFFFFF for z in new), 1000,
                            "the new epoch's counter starts again from the bottom")
        except Exception:
            print(rh.log_excerpt(ens, rh.sids(ens)))
            raise
        finally:
            if load:
                load.stop()
            ens.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
