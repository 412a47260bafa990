"""Issue 5, second bullet: SIGKILL of the leader peer (storage, replication and
election at once) under a bounded write load from several kazoo clients on
gateways homed on the other peers. A new leader is elected among the
survivors, writes continue, no acknowledged write is lost (each is read back
through every gateway), and the old leader, restarted, catches up: it follows
the new leader, its storage reports the same znode count and last applied
zxid, and the gateway homed on it serves the same tree.

Every write gets an answer: a client whose write is answered neither with a
result nor with ConnectionLoss within 8 s fails the test. (This test found
that a write forwarded to the leader just before its SIGKILL was never
answered and hung its session; fixed in 1afb196.)
"""

import time
import unittest

import replication_harness as rh

rh.setup_module_guard(200)


class LeaderKillTest(unittest.TestCase):
    def setUp(self):
        rh.require_root(self)

    def test_leader_sigkill_under_load(self):
        ens = rh.start(peers=3)
        load = None
        try:
            leader, epoch = rh.wait_agreement(ens, timeout=30)
            others = [sid for sid in rh.sids(ens) if sid != leader]
            rh.ensure_path(rh.gateway_of(ens, others[0]), "/load")
            # Two clients on each gateway not homed on the leader.
            addresses = [rh.gateway_of(ens, sid) for sid in others for _ in range(2)]
            load = rh.WriteLoad(addresses, max_per_client=1500, seconds=60).start()
            load.wait_acked(300, timeout=30)

            acked_before = load.acked_count()
            ens.kill(f"peer.{leader}")
            killed_at = time.monotonic()  # the launcher returns once the pids are gone
            new_leader, new_epoch = rh.wait_agreement(ens, among=others, timeout=20,
                                                      not_leader=leader)
            self.assertIn(new_leader, others)
            self.assertGreater(new_epoch, epoch)
            # Writes continue under the new leader.
            load.wait_acked(acked_before + 300, timeout=30)
            first = load.first_ack_invoked_after(killed_at)
            self.assertIsNotNone(first, "no write invoked after the kill was acknowledged")
            print(f"leader {leader} killed; peer {new_leader} leads epoch {new_epoch}; first "
                  f"write invoked after the kill acknowledged {first:.3f}s after it")
            load.stop()
            self.assertFalse(load.running(), "the load did not stop")
            self.assertEqual(load.hung, [], "writes left unanswered while connected")
            self.assertGreater(len(load.acked), 600)

            # Every acknowledged write is there on the two survivors.
            rh.assert_all_acked_present(self, ens, load, among=others)

            # The old leader rejoins as a follower and catches up.
            restart_mark = len(rh.log_lines(ens, leader, r"zab\.sync mode="))
            ens.restart(f"peer.{leader}")
            self.assertEqual(rh.wait_agreement(ens, timeout=30), (new_leader, new_epoch),
                             "the restarted old leader must follow, not disturb, the new one")
            syncs = rh.log_lines(ens, leader, r"zab\.sync mode=")[restart_mark:]
            self.assertTrue(syncs, "the old leader logged no sync with the new leader")
            self.assertRegex(syncs[-1], r"mode=(DIFF|TRUNC|SNAP)")
            print(f"old leader {leader} synced: {syncs[-1]}")
            znodes, zxid = rh.wait_same_storage(self, ens, timeout=30)
            self.assertGreaterEqual(znodes, len(load.acked))
            self.assertEqual(zxid >> 32, new_epoch)
            rh.assert_all_acked_present(self, ens, load)
            tree = rh.assert_same_tree(self, ens)
            self.assertGreaterEqual(len(tree), len(load.acked) + 1)
        except Exception:
            print(rh.log_excerpt(ens, rh.sids(ens)))
            raise
        finally:
            if load:
                load.stop()
            ens.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
