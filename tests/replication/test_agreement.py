"""Issue 5, first bullet: 3 peers, and 5 peers plus an observer, each peer in
its own network namespace, elect exactly one leader; every peer's replication
reports the same leader and epoch; a write through any gateway is read back
(after a sync) through every other gateway, i.e. from every peer's storage."""

import unittest

import replication_harness as rh

rh.setup_module_guard(240)


class AgreementTest(unittest.TestCase):
    def setUp(self):
        rh.require_root(self)

    def check_ensemble(self, peers, observers):
        ens = rh.start(peers=peers, observers=observers)
        clients = []
        try:
            leader, epoch = rh.wait_agreement(ens, timeout=30)
            self.assertIn(leader, rh.voters(ens), "an observer cannot lead")
            self.assertGreater(epoch, 0)
            statuses = {sid: rh.replication_status(ens, sid) for sid in rh.sids(ens)}
            leading = [sid for sid, s in statuses.items() if s["role"] == "leading"]
            self.assertEqual(leading, [leader])
            for sid, s in statuses.items():
                self.assertEqual(int(s["leader"]), leader, f"peer {sid}")
                self.assertEqual(int(s["header"]["epoch"]), epoch, f"peer {sid}")
                self.assertEqual(int(s["header"]["serverId"]), sid)
                expected = "leading" if sid == leader else (
                    "observing" if sid > peers else "following")
                self.assertEqual(s["role"], expected, f"peer {sid}")
            self.assertEqual(ens.leader(), leader, "ensemble-local leader")
            # Each peer really is in its own namespace, on its own address.
            for sid in rh.sids(ens):
                self.assertEqual(ens.grpc(f"storage.{sid}").split(":")[0], ens.peer_ip(sid))
                self.assertNotEqual(ens.peer_ip(sid), "127.0.0.1")

            # A write through each gateway, read back through every gateway.
            addresses = {sid: rh.gateway_of(ens, sid) for sid in rh.sids(ens)}
            for sid, address in addresses.items():
                clients.append((sid, rh.client(address)))
            for sid, zk in clients:
                zk.create_async(f"/w{sid}", f"from gateway homed on {sid}".encode()).get(
                    timeout=rh.OP_TIMEOUT_S)
            for reader_sid, zk in clients:
                rh.sync(zk, "/")
                for writer_sid, _ in clients:
                    data, stat = zk.get_async(f"/w{writer_sid}").get(timeout=rh.OP_TIMEOUT_S)
                    self.assertEqual(data, f"from gateway homed on {writer_sid}".encode(),
                                     f"read through peer {reader_sid}")
                    self.assertEqual(stat.version, 0)
                    self.assertEqual(stat.czxid >> 32, epoch,
                                     "written in the epoch every peer reported")
            # A set through one gateway is seen at once (after sync) by every other.
            clients[0][1].set_async(f"/w{clients[0][0]}", b"changed").get(
                timeout=rh.OP_TIMEOUT_S)
            for reader_sid, zk in clients:
                rh.sync(zk, "/")
                data, stat = zk.get_async(f"/w{clients[0][0]}").get(timeout=rh.OP_TIMEOUT_S)
                self.assertEqual((data, stat.version), (b"changed", 1), f"peer {reader_sid}")
            rh.close(*[zk for _, zk in clients])
            clients = []
            rh.wait_same_storage(self, ens)
            tree = rh.assert_same_tree(self, ens)
            self.assertEqual({p for p in tree if p.startswith("/w")},
                             {f"/w{sid}" for sid in rh.sids(ens)})
            # Nobody moved: still one leader, same epoch.
            self.assertEqual(rh.wait_agreement(ens, timeout=10), (leader, epoch))
        except Exception:
            print(rh.log_excerpt(ens, rh.sids(ens)))
            raise
        finally:
            rh.close(*[zk for _, zk in clients])
            ens.stop()

    def test_three_peers(self):
        self.check_ensemble(peers=3, observers=0)

    def test_five_peers_and_an_observer(self):
        self.check_ensemble(peers=5, observers=1)


if __name__ == "__main__":
    unittest.main(verbosity=2)
