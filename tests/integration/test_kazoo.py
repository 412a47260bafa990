"""The Python client kazoo (Debian python3-kazoo) against a real Ensemble:
every create mode, versions, ephemerals after close and after expiry,
sequential names, multi, ACLs and digest auth, watches, reconnect to a second
gateway with the session and its watches kept, four-letter words."""

import os
import subprocess
import sys
import threading
import time
import unittest

from kazoo.client import KazooClient
from kazoo.exceptions import (BadVersionError, NoAuthError, NodeExistsError, NoNodeError,
                              NotEmptyError, NoChildrenForEphemeralsError)
from kazoo.security import make_digest_acl, OPEN_ACL_UNSAFE

from ensemble_harness import Ensemble, four_letter_word, wait_until


def connect(hosts, timeout=10.0, **kw):
    c = KazooClient(hosts=hosts, timeout=timeout, **kw)
    c.start(timeout=15)
    return c


class KazooTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ensemble = Ensemble(peers=1, gateways=2, tick_ms=500)
        cls.gw1, cls.gw2 = cls.ensemble.gateways()

    @classmethod
    def tearDownClass(cls):
        cls.ensemble.stop()

    def setUp(self):
        self.zk = connect(self.gw1)
        self.root = f"/t-{self.id().split('.')[-1]}"
        self.zk.create(self.root)

    def tearDown(self):
        try:
            self.zk.delete(self.root, recursive=True)
        finally:
            self.zk.stop()
            self.zk.close()

    def test_create_every_mode_and_read_back(self):
        zk, r = self.zk, self.root
        self.assertEqual(zk.create(f"{r}/p", b"v"), f"{r}/p")
        self.assertEqual(zk.get(f"{r}/p")[0], b"v")
        zk.create(f"{r}/e", b"", ephemeral=True)
        self.assertEqual(zk.exists(f"{r}/e").ephemeralOwner, zk.client_id[0])
        s1 = zk.create(f"{r}/s-", b"", sequence=True)
        s2 = zk.create(f"{r}/s-", b"", sequence=True)
        self.assertEqual(s1, f"{r}/s-0000000002")
        self.assertEqual(s2, f"{r}/s-0000000003")
        es = zk.create(f"{r}/es-", b"", ephemeral=True, sequence=True)
        self.assertTrue(es.startswith(f"{r}/es-00000000"))
        # (kazoo cannot create containers; zkCli's test does.)
        self.assertEqual(sorted(zk.get_children(r)),
                         sorted(["p", "e", "s-0000000002", "s-0000000003", es.split("/")[-1]]))

    def test_create_errors(self):
        zk, r = self.zk, self.root
        zk.create(f"{r}/a")
        with self.assertRaises(NodeExistsError):
            zk.create(f"{r}/a")
        with self.assertRaises(NoNodeError):
            zk.create(f"{r}/missing/child")
        zk.create(f"{r}/eph", ephemeral=True)
        with self.assertRaises(NoChildrenForEphemeralsError):
            zk.create(f"{r}/eph/child")
        # ZooKeeper 3.8 looks the parent up before validating the name: NoNode.
        with self.assertRaises(NoNodeError):
            zk.create(f"{r}/bad//path")

    def test_versions_on_set_and_delete(self):
        zk, p = self.zk, f"{self.root}/v"
        zk.create(p, b"0")
        stat = zk.set(p, b"1", version=0)
        self.assertEqual(stat.version, 1)
        self.assertEqual(stat.dataLength, 1)
        with self.assertRaises(BadVersionError):
            zk.set(p, b"2", version=0)
        with self.assertRaises(BadVersionError):
            zk.delete(p, version=5)
        zk.delete(p, version=1)
        self.assertIsNone(zk.exists(p))
        with self.assertRaises(NoNodeError):
            zk.get(p)

    def test_stat_fields_track_children(self):
        zk, r = self.zk, self.root
        before = zk.exists(r)
        zk.create(f"{r}/x", b"abc")
        after = zk.exists(r)
        self.assertEqual(after.numChildren, 1)
        self.assertEqual(after.cversion, before.cversion + 1)
        self.assertGreater(after.pzxid, before.pzxid)
        child = zk.exists(f"{r}/x")
        self.assertEqual(child.czxid, child.mzxid)
        self.assertEqual(child.dataLength, 3)
        with self.assertRaises(NotEmptyError):
            zk.delete(r)

    def test_ephemeral_goes_with_closed_session(self):
        other = connect(self.gw2)
        other.create(f"{self.root}/gone", ephemeral=True)
        self.assertIsNotNone(self.zk.exists(f"{self.root}/gone"))
        other.stop()
        other.close()
        self.assertIsNone(self.zk.exists(f"{self.root}/gone"))

    def test_ephemeral_goes_with_expired_session(self):
        # A child process creates an ephemeral node and exits without closing
        # its session; the leader expires it after the (short) timeout.
        code = (
            "import os, sys\n"
            "from kazoo.client import KazooClient\n"
            f"c = KazooClient(hosts='{self.gw1}', timeout=2.0)\n"
            "c.start(timeout=15)\n"
            f"c.create('{self.root}/expiring', ephemeral=True)\n"
            "os._exit(0)\n")
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
        self.assertIsNotNone(self.zk.exists(f"{self.root}/expiring"))
        wait_until(lambda: self.zk.exists(f"{self.root}/expiring") is None, timeout=20,
                   what="the expired session's ephemeral node to vanish")

    def test_multi_commits_all_or_nothing(self):
        zk, r = self.zk, self.root
        t = zk.transaction()
        t.create(f"{r}/m1", b"a")
        t.create(f"{r}/m2", b"b")
        t.set_data(f"{r}/m1", b"c")
        results = t.commit()
        self.assertEqual(results[0], f"{r}/m1")
        self.assertEqual(zk.get(f"{r}/m1")[0], b"c")
        t = zk.transaction()
        t.create(f"{r}/m3")
        t.check(f"{r}/m1", 99)
        results = t.commit()
        self.assertIsInstance(results[1], BadVersionError)
        self.assertIsNone(zk.exists(f"{r}/m3"))

    def test_digest_acl_requires_auth(self):
        zk, p = self.zk, f"{self.root}/secret"
        acl = make_digest_acl("alice", "pw", all=True)
        zk.add_auth("digest", "alice:pw")
        zk.create(p, b"s", acl=[acl])
        self.assertEqual(zk.get(p)[0], b"s")
        stranger = connect(self.gw2)
        try:
            with self.assertRaises(NoAuthError):
                stranger.get(p)
            stranger.add_auth("digest", "alice:pw")
            self.assertEqual(stranger.get(p)[0], b"s")
        finally:
            stranger.stop()
            stranger.close()
        acls, _ = zk.get_acls(p)
        self.assertEqual(acls[0].id.scheme, "digest")
        self.assertTrue(acls[0].id.id.startswith("alice:"))

    def test_data_watch_fires_once(self):
        zk, p = self.zk, f"{self.root}/w"
        zk.create(p, b"0")
        events = []
        fired = threading.Event()

        def watcher(event):
            events.append(event)
            fired.set()

        zk.get(p, watch=watcher)
        zk.set(p, b"1")
        self.assertTrue(fired.wait(10))
        zk.set(p, b"2")
        # Barrier: a watch fired after the second set. Events of one session
        # arrive in order, so a second CHANGED for `p` would come before it.
        zk.create(f"{p}-barrier")
        barrier = threading.Event()
        zk.get(f"{p}-barrier", watch=lambda e: barrier.set())
        zk.set(f"{p}-barrier", b"x")
        self.assertTrue(barrier.wait(10))
        self.assertEqual(len(events), 1)
        self.assertEqual(events[0].type, "CHANGED")
        self.assertEqual(events[0].path, p)

    def test_child_and_exists_watches(self):
        zk, r = self.zk, self.root
        child_events, exist_events = [], []
        got_child, got_exist = threading.Event(), threading.Event()
        zk.get_children(r, watch=lambda e: (child_events.append(e), got_child.set()))
        zk.exists(f"{r}/later", watch=lambda e: (exist_events.append(e), got_exist.set()))
        other = connect(self.gw2)
        try:
            other.create(f"{r}/later")
        finally:
            other.stop()
            other.close()
        self.assertTrue(got_child.wait(10))
        self.assertTrue(got_exist.wait(10))
        self.assertEqual(child_events[0].type, "CHILD")
        self.assertEqual(exist_events[0].type, "CREATED")

    def test_sync_then_read_sees_other_clients_write(self):
        other = connect(self.gw2)
        try:
            other.create(f"{self.root}/synced", b"v")
        finally:
            other.stop()
            other.close()
        self.assertEqual(self.zk.sync(self.root), self.root)
        self.assertEqual(self.zk.get(f"{self.root}/synced")[0], b"v")
        # An idle ensemble answers a sync too.
        self.assertEqual(self.zk.sync("/"), "/")

    def test_four_letter_words(self):
        self.assertEqual(four_letter_word(self.gw1, "ruok"), "imok")
        srvr = four_letter_word(self.gw1, "srvr")
        self.assertIn("Zookeeper version:", srvr)
        self.assertIn("Mode: standalone", srvr)
        mntr = dict(line.split("\t", 1) for line in four_letter_word(self.gw1, "mntr").splitlines()
                    if "\t" in line)
        self.assertIn("zk_version", mntr)
        # Figures that live in storage reach mntr too (polled every 2 s).
        self.zk.create(f"{self.root}/mntr", b"x" * 100, ephemeral=True)
        self.zk.exists(f"{self.root}/mntr", watch=lambda e: None)

        def mntr_value(key):
            text = four_letter_word(self.gw1, "mntr")
            return int(dict(l.split("\t", 1) for l in text.splitlines() if "\t" in l)[key])

        wait_until(lambda: mntr_value("zk_znode_count") >= 6, timeout=10, what="zk_znode_count")
        wait_until(lambda: mntr_value("zk_watch_count") >= 1, timeout=10, what="zk_watch_count")
        wait_until(lambda: mntr_value("zk_ephemerals_count") >= 1, timeout=10,
                   what="zk_ephemerals_count")
        self.assertGreaterEqual(mntr_value("zk_approximate_data_size"), 100)


class ReconnectTest(unittest.TestCase):
    """A client whose gateway dies resumes its session through another one,
    with its ephemeral node and its watch."""

    def test_session_and_watch_survive_gateway_death(self):
        with Ensemble(peers=1, gateways=2, tick_ms=500) as ensemble:
            gw1, gw2 = ensemble.gateways()
            zk = KazooClient(hosts=f"{gw1},{gw2}", timeout=10.0, randomize_hosts=False)
            zk.start(timeout=15)
            try:
                session = zk.client_id
                zk.create("/survivor", ephemeral=True)
                zk.create("/watched", b"0")
                fired = threading.Event()
                zk.get("/watched", watch=lambda e: fired.set())
                ensemble.kill("gateway.1")
                other = connect(gw2)
                wait_until(lambda: zk.connected and zk.client_id == session, timeout=30,
                           what="the client to resume its session on gateway 2")
                other.set("/watched", b"1")
                self.assertTrue(fired.wait(15), "watch did not survive the reconnect")
                self.assertIsNotNone(other.exists("/survivor"))
                other.stop()
                other.close()
            finally:
                zk.stop()
                zk.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
