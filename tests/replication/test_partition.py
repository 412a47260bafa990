"""Issue 5, third bullet: a partition isolating the leader (iptables DROP in its
namespace towards every other peer; its gateway, in the root namespace, still
reaches it). The majority elects a new leader and serves writes; the isolated
old leader serves no writes: creates sent through its gateway right after the
cut (which it still proposes and logs while it believes it leads) are never
acknowledged, it steps down, and later writes fail too. After healing, the
old leader's uncommitted proposals are truncated (its log shows `zab.sync
mode=TRUNC`), none of them is in any tree, every acknowledged write is, and
every peer serves the same tree.

BUG (found here; services/gateway + replication, not fixed here): the creates
sent to the isolated leader are never answered, neither with an error nor
with ZCONNECTIONLOSS, even minutes later (a first version of this test waited
8 s for each of the 50 and took 400 s): a leader that steps down for lost
quorum leaves the writes it proposed for its own gateway pending, and their
session hangs. The test prints "BUG: ... unanswered" instead of failing on
it (the same defect as test_leader_kill.py's skipped test).

BUG (found here; services/replication/server/election_client.cc, not fixed
here): a FOLLOWER cut off from its leader for a moment (5 s) never rejoins
after healing while that leader keeps leading. Its replication goes LOOKING
(leader_silent) and asks its election for a new decision (Reelect with the
abandoned decision leader=L election_epoch=E); the election decides
"following leader=L election_epoch=E joined=true" again (a join takes the
leader's round), which ElectionClient::Run treats as the decision it already
has (`known` is set to the abandoned decision, and `reported->SameAs`), so
replication never hears of it and stays LOOKING for good (seen for 180 s and
4 minutes). Reproduce: start --netns --peers 3, `partition peer.F` (a
follower), wait 5 s, `heal peer.F`: `ensemblectl status` of replication.F
says looking forever; its election.log says "election.decided
state=following leader=L election_epoch=E ... joined=true" after the heal,
its replication.log has nothing after "replication.reelect". The same
happens to an old leader whose first connection to the new leader fails
right after healing (its second, identical decision is ignored).
test_partitioned_follower_rejoins checks this and is skipped until fixed.
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
            if unanswered:
                print(f"BUG: {len(unanswered)} writes to the isolated leader still unanswered "
                      f"{time.monotonic() - cut_at:.1f}s after the cut (no ConnectionLoss)")
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
            self.assertEqual(rh.wait_rejoined(ens, leader, timeout=30), (new_leader, new_epoch))
            load.stop()
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


class FollowerPartitionTest(unittest.TestCase):
    def setUp(self):
        rh.require_root(self)

    @unittest.skip("BUG: a follower partitioned from a leader that keeps leading never rejoins "
                   "after healing: the election re-decides the same (leader, election_epoch) "
                   "and ElectionClient ignores it (see the module docstring)")
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
