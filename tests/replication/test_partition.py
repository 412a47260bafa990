"""Issue 5, third bullet: a partition isolating the leader (iptables DROP in its
namespace towards every other peer; its gateway, in the root namespace, still
reaches it). The majority elects a new leader and serves writes; the isolated
old leader serves no writes: creates sent through its gateway right after the
cut (which it still proposes and logs while it believes it leads) are never
acknowledged, it steps down, and later writes fail too. After healing, the
old leader's uncommitted proposals are truncated (its log shows `zab.sync
mode=TRUNC`), none of them is in any tree, every acknowledged write is, and
every peer serves the same tree.

The writes sent to the isolated leader must be answered (with an error)
within 8 s: they were never answered until 1afb196 (found here).

A follower cut off for a moment from a leader that keeps leading must rejoin
after healing (test_partitioned_follower_rejoins). It did not until 80f0b1f:
the election re-decided the same (leader, election epoch), a join repeating
the leader's round, and the replication's ElectionClient took it for the
decision it had abandoned, so the follower stayed LOOKING for good (found by
this folder's tests).

A peer restarted with an uncommitted tail in its log used to crash on the
TRUNC that removes it (StorageDriver::Restore replayed the whole log as if
committed; ZabPeer then tripped ENSEMBLE_CHECK(zxid >= committed_zxid_)).
Fixed in ab32a19 (storage applies the log only up to its commit mark);
test_isolated_leader_killed_and_restarted reproduces that case: isolate the
leader, send it writes (logged, never committed), SIGKILL it, let the majority
elect and write, restart it, heal.
"""

import time
import unittest

import replication_harness as rh

rh.setup_module_guard(200)


class PartitionTest(unittest.TestCase):
    def setUp(self):
        rh.require_root(self)

    def test_isolated_leader_is_truncated_after_healing(self):
        ens = rh.start(peers=3)
        load = minority = None
        try:
            leader, epoch = rh.wait_agreement(ens, timeout=30)
            others = [sid for sid in rh.sids(ens) if sid != leader]
            rh.ensure_path(rh.gateway_of(ens, others[0]), "/load")
            rh.ensure_path(rh.gateway_of(ens, others[0]), "/minority")
            minority = rh.client(rh.gateway_of(ens, leader))
            load = rh.WriteLoad([rh.gateway_of(ens, sid) for sid in others for _ in range(2)],
                                max_per_client=1200, seconds=60).start()
            load.wait_acked(200, timeout=30)
            sync_mark = len(rh.log_lines(ens, leader, r"zab\.sync mode="))

            ens.partition(leader)
            cut_at = time.monotonic()
            # Writes through the isolated leader's gateway, pipelined, at once:
            # the old leader proposes and logs them but can never commit them.
            pending = [minority.create_async(f"/minority/m{i:04d}", b"lost")
                       for i in range(50)]

            new_leader, new_epoch = rh.wait_agreement(ens, among=others, timeout=20,
                                                      not_leader=leader)
            self.assertGreater(new_epoch, epoch)
            acked_at_election = load.acked_count()
            load.wait_acked(acked_at_election + 300, timeout=30)
            print(f"leader {leader} isolated; peer {new_leader} leads epoch {new_epoch} "
                  f"after {time.monotonic() - cut_at:.2f}s")

            # The minority side serves no writes: none of the early ones...
            minority_acked, unanswered = [], []
            answer_by = time.time() + rh.OP_TIMEOUT_S
            for i, p in enumerate(pending):
                try:
                    p.get(timeout=max(0.01, answer_by - time.time()))
                    minority_acked.append(i)
                except rh.KazooTimeoutError:
                    unanswered.append(i)
                except Exception:
                    pass
            self.assertEqual(minority_acked, [], "the isolated leader acknowledged writes")
            self.assertEqual(unanswered, [], "writes to the isolated leader never answered")
            # ... the old leader no longer leads ...
            s = rh.replication_status(ens, leader)
            self.assertIsNotNone(s, "the isolated leader's replication does not answer")
            self.assertNotEqual(s["role"], "leading", "the isolated peer still leads")
            self.assertNotEqual(s["details"].get("serving"), "true")
            # ... and a fresh attempt through its gateway fails too (bounded).
            late_ok, late_failures = 0, 0
            deadline = time.time() + 5
            n = 0
            while time.time() < deadline and n < 20:
                n += 1
                try:
                    zk = rh.client(rh.gateway_of(ens, leader), connect_timeout=2.0)
                except Exception:
                    late_failures += 1
                    continue
                try:
                    zk.create_async(f"/minority/late{n}", b"lost").get(timeout=2.0)
                    late_ok += 1
                except Exception:
                    late_failures += 1
                finally:
                    rh.abandon(zk)
            self.assertEqual(late_ok, 0, "a write through the isolated peer succeeded")
            self.assertGreater(late_failures, 0)

            # Heal: the old leader rejoins under the new one, truncating.
            ens.heal(leader)
            self.assertEqual(rh.wait_agreement(ens, timeout=30), (new_leader, new_epoch))
            load.stop()
            self.assertEqual(load.hung, [], "writes left unanswered while connected")
            syncs = rh.log_lines(ens, leader, r"zab\.sync mode=")[sync_mark:]
            self.assertTrue(syncs, "the old leader logged no sync after healing")
            print(f"old leader {leader} synced: {syncs[-1]}")
            self.assertIn("mode=TRUNC", syncs[-1],
                          "the old leader held uncommitted proposals of its epoch: TRUNC")
            rh.wait_same_storage(self, ens, timeout=30)
            rh.assert_all_acked_present(self, ens, load)
            tree = rh.assert_same_tree(self, ens)
            lost = [p for p in tree if p.startswith("/minority/")]
            self.assertEqual(lost, [], "proposals of the isolated leader survived")
        except Exception:
            print(rh.log_excerpt(ens, rh.sids(ens)))
            raise
        finally:
            if load:
                load.stop()
            if minority:
                rh.abandon(minority)
            ens.stop()


class RestartedIsolatedLeaderTest(unittest.TestCase):
    def setUp(self):
        rh.require_root(self)

    def test_isolated_leader_killed_and_restarted(self):
        ens = rh.start(peers=3)
        minority = None
        try:
            leader, _ = rh.wait_agreement(ens, timeout=30)
            others = [sid for sid in rh.sids(ens) if sid != leader]
            rh.ensure_path(rh.gateway_of(ens, others[0]), "/minority")
            minority = rh.client(rh.gateway_of(ens, leader))
            ens.partition(leader)
            for i in range(20):
                minority.create_async(f"/minority/m{i:04d}", b"lost")
            time.sleep(0.5)  # logged by the old leader, on no other peer
            ens.kill(f"peer.{leader}")
            new_leader, new_epoch = rh.wait_agreement(ens, among=others, timeout=20,
                                                      not_leader=leader)
            zk = rh.client(rh.gateway_of(ens, new_leader))
            try:
                zk.create_async("/after", b"x").get(timeout=rh.OP_TIMEOUT_S)
            finally:
                rh.close(zk)
            sync_mark = len(rh.log_lines(ens, leader, r"zab\.sync mode="))
            ens.restart(f"peer.{leader}")
            ens.heal(leader)
            self.assertEqual(rh.wait_agreement(ens, timeout=30), (new_leader, new_epoch))
            self.assertEqual(rh.log_lines(ens, leader, r"check failed"), [])
            syncs = rh.log_lines(ens, leader, r"zab\.sync mode=")[sync_mark:]
            self.assertTrue(syncs and "mode=TRUNC" in syncs[-1], syncs)
            rh.wait_same_storage(self, ens, timeout=30)
            tree = rh.assert_same_tree(self, ens)
            self.assertIn("/after", tree)
            self.assertEqual([p for p in tree if p.startswith("/minority/")], [])
        except Exception:
            print(rh.log_excerpt(ens, rh.sids(ens)))
            raise
        finally:
            if minority:
                rh.abandon(minority)
            ens.stop()


class FollowerPartitionTest(unittest.TestCase):
    def setUp(self):
        rh.require_root(self)

    def test_partitioned_follower_rejoins(self):
        ens = rh.start(peers=3)
        try:
            leader, epoch = rh.wait_agreement(ens, timeout=30)
            follower = next(sid for sid in rh.sids(ens) if sid != leader)
            ens.partition(follower)
            rh.wait_until(lambda: (rh.replication_status(ens, follower) or {}).get("role")
                          == "looking", timeout=15, what="the cut follower to go looking")
            zk = rh.client(rh.gateway_of(ens, leader))
            try:
                zk.create_async("/while_cut", b"x").get(timeout=rh.OP_TIMEOUT_S)
            finally:
                rh.close(zk)
            ens.heal(follower)
            self.assertEqual(rh.wait_agreement(ens, timeout=20), (leader, epoch))
            rh.wait_same_storage(self, ens, timeout=20)
            rh.assert_same_tree(self, ens)
        except Exception:
            print(rh.log_excerpt(ens, rh.sids(ens)))
            raise
        finally:
            ens.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
