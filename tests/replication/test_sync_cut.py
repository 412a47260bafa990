"""Issue 5, sixth bullet: a peer whose synchronisation with a new leader is cut
off after NEWLEADER and before UPTODATE, and which then takes part in the next
election, never loses or hides acknowledged writes (Apache ZooKeeper 3.8 has
been seen to diverge exactly there).

With real processes the window between NEWLEADER and UPTODATE is made wide
and deterministic instead of timed: 5 voters, so a new leader needs two
followers' NEWLEADER acks before it is established and sends UPTODATE.

 1. 5 peers (initLimit/syncLimit raised so that slow syncs are not dropped);
    writes W1. Followers C and D are SIGKILLed; writes W2 (500 creates of
    1 KiB, acknowledged by the leader L and followers B and E).
 2. C's and D's links are throttled (`ensemble-local netem peer.N rate 1mbit`:
    tc netem, or tc tbf on kernels without netem) in both directions, L is
    SIGKILLed and C and D restarted. B and E hold W2, so one of them wins the
    election (N, the new leader); the other (F) is up to date and acks
    NEWLEADER at once, but N can only establish itself once C or D has pulled
    the 0.5 MB DIFF through its throttled link, seconds later.
 3. As soon as F's replication log shows `zab.newleader` for the new epoch,
    F is cut off from every peer (iptables in its namespace); the test checks
    from F's log that it had NEWLEADER and never got UPTODATE.
 4. N establishes itself with C and D; writes W3 through N's gateway
    (acknowledged by N, C, D, while F is cut off).
 5. N is SIGKILLed, F healed, C and D unthrottled: the next election is among
    F, C and D, where F holds the new epoch but not W3.
 6. L and N are restarted; all five agree on one leader, every acknowledged
    write of W1, W2 and W3 is read back through every peer's gateway, and
    every peer serves the same tree (and storage reports the same znode count
    and last applied zxid).
"""

import re
import time
import unittest

import replication_harness as rh

rh.setup_module_guard(240)

PAYLOAD = b"p" * 1024


def write_all(testcase, address, paths, payload=b"", timeout=60):
    """Creates every path (pipelined in slices); returns the acknowledged set."""
    zk = rh.client(address)
    acked = set()
    try:
        for start in range(0, len(paths), 200):
            ops = [(p, zk.create_async(p, payload)) for p in paths[start:start + 200]]
            for p, op in ops:
                op.get(timeout=timeout)
                acked.add(p)
    finally:
        rh.close(zk)
    testcase.assertEqual(len(acked), len(paths))
    return acked


class SyncCutTest(unittest.TestCase):
    def setUp(self):
        rh.require_root(self)

    def test_cut_after_newleader_before_uptodate(self):
        # 8 s for a sync and for silence: a learner's sync, and the PINGs queued
        # behind it on the same stream, take seconds through the throttled links.
        ens = rh.start(peers=5, settings=("initLimit=40", "syncLimit=40"))
        try:
            leader, epoch = rh.wait_agreement(ens, timeout=40)
            followers = [sid for sid in rh.sids(ens) if sid != leader]
            # The slow ones are the two lowest sids: the election then prefers
            # B/E anyway (equal zxids, higher sid), and C/D lag behind.
            c, d, b, e = followers
            rh.ensure_path(rh.gateway_of(ens, b), "/w")
            acked = write_all(self, rh.gateway_of(ens, b), [f"/w/one{i:04d}" for i in range(200)])

            ens.kill(f"peer.{c}")
            ens.kill(f"peer.{d}")
            acked |= write_all(self, rh.gateway_of(ens, b),
                               [f"/w/two{i:04d}" for i in range(500)], PAYLOAD)

            for sid in (c, d):
                ens.netem(sid, "rate", "1mbit")
            marks = {sid: len(rh.log_lines(ens, sid, r".")) for sid in rh.sids(ens)}
            ens.kill(f"peer.{leader}")
            ens.restart(f"peer.{c}")
            ens.restart(f"peer.{d}")

            # Step 3: find the new leader N and F, and cut F right after NEWLEADER.
            deadline = time.time() + 30
            new_leader = f = None
            newleader_line = None
            while time.time() < deadline and newleader_line is None:
                for sid in (b, e):
                    lines = rh.log_lines(ens, sid, r".")[marks[sid]:]
                    if any("zab.leading" in l for l in lines):
                        new_leader, f = sid, (e if sid == b else b)
                if f is not None:
                    lines = rh.log_lines(ens, f, r".")[marks[f]:]
                    hit = [l for l in lines if "zab.newleader" in l]
                    if hit:
                        newleader_line = hit[-1]
                        ens.partition(f)
                        break
                time.sleep(0.01)
            self.assertIsNotNone(newleader_line, "F never received NEWLEADER")
            new_epoch = int(re.search(r"zab\.newleader epoch=(\d+)", newleader_line).group(1))
            self.assertGreater(new_epoch, epoch)
            f_lines = rh.log_lines(ens, f, r".")[marks[f]:]
            after = f_lines[f_lines.index(newleader_line):]
            self.assertFalse([l for l in after if "zab.uptodate" in l],
                             "F got UPTODATE before the cut: the window was missed")
            print(f"leader {leader} killed; {new_leader} leads epoch {new_epoch}; peer {f} cut "
                  f"after: {newleader_line}")

            # Step 4: N establishes with C and D; W3 through N's gateway.
            rh.wait_agreement(ens, among=[new_leader, c, d], timeout=60)
            acked |= write_all(self, rh.gateway_of(ens, new_leader),
                               [f"/w/three{i:04d}" for i in range(300)])
            f_lines = rh.log_lines(ens, f, r".")[marks[f]:]
            self.assertFalse([l for l in f_lines if "zab.uptodate" in l],
                             "F was not cut off before UPTODATE")
            # F acknowledged NEWLEADER only once durable: it holds the new epoch.
            self.assertTrue([l for l in f_lines if re.search(
                rf"replication\.role role=FOLLOWING phase=SYNCHRONIZATION leader={new_leader} "
                rf"epoch={new_epoch}", l)], "F never reached SYNCHRONIZATION in the new epoch")

            # Step 5: the next election among F, C, D.
            ens.kill(f"peer.{new_leader}")
            for sid in (c, d):
                ens.netem(sid, "off")
            ens.heal(f)
            # The agreement is among the live peers F, C, D.
            third_leader, third_epoch = rh.wait_agreement(ens, among=[f, c, d], timeout=40)
            self.assertIn(third_leader, (f, c, d))
            self.assertGreater(third_epoch, new_epoch)
            syncs = [l for l in rh.log_lines(ens, f, r"zab\.sync mode=")]
            print(f"next election: {third_leader} leads epoch {third_epoch}; F's last sync: "
                  f"{syncs[-1] if syncs else None}")

            # Step 6: everyone back; nothing acknowledged is lost or hidden.
            ens.restart(f"peer.{leader}")
            ens.restart(f"peer.{new_leader}")
            rh.wait_agreement(ens, timeout=40)
            rh.wait_same_storage(self, ens, timeout=40)
            for sid in rh.sids(ens):
                zk = rh.client(rh.gateway_of(ens, sid))
                try:
                    children = rh.synced_children(zk, "/w", timeout=30)
                finally:
                    rh.close(zk)
                missing = acked - {f"/w/{c_}" for c_ in children}
                self.assertFalse(missing, f"peer {sid} lost or hides {len(missing)} "
                                          f"acknowledged writes, e.g. {sorted(missing)[:5]}")
            tree = rh.assert_same_tree(self, ens, root="/w")
            self.assertEqual(set(tree) - {"/w"}, acked)
        except Exception:
            print(rh.log_excerpt(ens, rh.sids(ens), tail=40))
            raise
        finally:
            ens.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
