"""The watch and folder four-letter words (wchs, wchc, wchp, dirs) against a
real 3-peer Ensemble with two gateways (homed on peers 1 and 2), side by side
with Apache ZooKeeper 3.8 (Debian's) running the same client workload.

Watches live on a gateway's home storage, as ZooKeeper's live on the server a
client is connected to: a gateway lists the watches of the sessions homed on
its peer. As ZooKeeper's DataTree, the listings show the data table only
(getData and exists watches; getChildren watches are not listed)."""

import os
import re
import unittest

from kazoo.client import KazooClient

from ensemble_harness import Ensemble, four_letter_word, wait_until
from zk_reference import ReferenceZooKeeper

WCHS = re.compile(r"^(\d+) connections watching (\d+) paths\nTotal watches:(\d+)\n$")
DIRS = re.compile(r"^datadir_size: (\d+)\nlogdir_size: (\d+)\n$")
SESSION = re.compile(r"^0x[0-9a-f]+$")


def parse_wchc(text):
    """{session id: [paths]} from wchc's "0x<id>\\n\\t<path>\\n...\\n" (ZooKeeper's
    WatchManager.dumpWatches(byPath=false) then println)."""
    assert text.endswith("\n"), repr(text)
    lines = text[:-1].split("\n")
    assert lines[-1] == "", repr(text)  # the closing println
    out, current = {}, None
    for line in lines[:-1]:
        if line.startswith("\t"):
            assert current is not None, repr(text)
            out[current].append(line[1:])
        else:
            assert SESSION.match(line), repr(line)
            current = int(line, 16)
            assert current not in out, repr(text)
            out[current] = []
    return out


def parse_wchp(text):
    """{path: [session ids]} from wchp's "<path>\\n\\t0x<id>\\n...\\n"."""
    assert text.endswith("\n"), repr(text)
    lines = text[:-1].split("\n")
    assert lines[-1] == "", repr(text)
    out, current = {}, None
    for line in lines[:-1]:
        if line.startswith("\t"):
            assert current is not None and SESSION.match(line[1:]), repr(line)
            out[current].append(int(line[1:], 16))
        else:
            assert line.startswith("/"), repr(line)
            current = line
            out[current] = []
    return out


def normalize(listing, names):
    """Session ids replaced by names; lists sorted (ZooKeeper prints hash order)."""
    result = {}
    for key, values in listing.items():
        key = names.get(key, key)
        result[key] = sorted(names.get(v, v) for v in values)
    return result


def run_workload(a, b):
    """a: data watch on /x, child watch on /x. b: exists watches on /x/y and on
    a missing node, a child watch on /z."""
    a.create("/x", b"1")
    a.create("/x/y", b"2")
    a.create("/z")
    a.get("/x", watch=lambda e: None)
    a.get_children("/x", watch=lambda e: None)
    b.exists("/x/y", watch=lambda e: None)
    b.exists("/nothere", watch=lambda e: None)
    b.get_children("/z", watch=lambda e: None)


def client(hosts):
    zk = KazooClient(hosts=hosts, timeout=10.0)
    zk.start(timeout=30)
    return zk


EXPECTED_WCHC = {"a": ["/x"], "b": ["/nothere", "/x/y"]}
EXPECTED_WCHP = {"/x": ["a"], "/x/y": ["b"], "/nothere": ["b"]}


class FourLetterWordsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ensemble = Ensemble(peers=3, gateways=2)
        cls.gw1, cls.gw2 = cls.ensemble.gateways()
        cls.reference = ReferenceZooKeeper()
        cls.clients = []

    @classmethod
    def tearDownClass(cls):
        for c in cls.clients:
            c.stop()
            c.close()
        cls.reference.stop()
        cls.ensemble.stop()

    def connect(self, hosts):
        c = client(hosts)
        self.clients.append(c)
        return c

    def listings(self, address, names):
        wchs = four_letter_word(address, "wchs")
        wchc = four_letter_word(address, "wchc")
        wchp = four_letter_word(address, "wchp")
        m = WCHS.match(wchs)
        self.assertIsNotNone(m, repr(wchs))
        return (tuple(int(g) for g in m.groups()), normalize(parse_wchc(wchc), names),
                normalize(parse_wchp(wchp), names))

    def test_watch_listings_match_zookeeper(self):
        # Reference: ZooKeeper 3.8 with the same workload.
        ra, rb = self.connect(self.reference.address), self.connect(self.reference.address)
        run_workload(ra, rb)
        ref_names = {ra.client_id[0]: "a", rb.client_id[0]: "b"}
        ref = self.listings(self.reference.address, ref_names)
        self.assertEqual(ref, ((2, 3, 3), EXPECTED_WCHC, EXPECTED_WCHP))

        # Ensemble: both sessions on gateway 1 (home: peer 1).
        ea, eb = self.connect(self.gw1), self.connect(self.gw1)
        run_workload(ea, eb)
        names = {ea.client_id[0]: "a", eb.client_id[0]: "b"}
        self.assertEqual(self.listings(self.gw1, names), ref)

        # Gateway 2 is homed on peer 2: none of these watches are there.
        other = self.listings(self.gw2, names)
        self.assertEqual(other, ((0, 0, 0), {}, {}))
        self.assertEqual(four_letter_word(self.gw2, "wchc"), "\n")
        self.assertEqual(four_letter_word(self.gw2, "wchp"), "\n")

        # A session on gateway 2 shows there only.
        c = self.connect(self.gw2)
        c.exists("/x", watch=lambda e: None)
        stats, by_session, by_path = self.listings(self.gw2, {c.client_id[0]: "c"})
        self.assertEqual((stats, by_session, by_path), ((1, 1, 1), {"c": ["/x"]}, {"/x": ["c"]}))
        self.assertNotIn("c", self.listings(self.gw1, {c.client_id[0]: "c"})[1])

        # A fired one-shot watch leaves the listings (a's on /x and c's).
        eb.set("/x", b"changed")
        wait_until(lambda: "a" not in self.listings(self.gw1, names)[1], what="a's watch fired")
        stats, by_session, by_path = self.listings(self.gw1, names)
        self.assertEqual(by_session, {"b": ["/nothere", "/x/y"]})
        self.assertEqual(stats, (1, 2, 2))

        # Closing a session drops its watches.
        eb.stop()
        wait_until(lambda: self.listings(self.gw1, names)[0] == (0, 0, 0), what="b's watches gone")

    def test_dirs_reports_the_log_and_snapshot_folders(self):
        # ZooKeeper answers "not currently serving" until its server is up.
        wait_until(lambda: DIRS.match(four_letter_word(self.reference.address, "dirs")),
                   timeout=30, what="ZooKeeper's dirs")
        zk = self.connect(self.gw1)
        zk.ensure_path("/dirs")
        for i in range(20):
            zk.create(f"/dirs/n{i}", os.urandom(2000))
        out = four_letter_word(self.gw1, "dirs")
        m = DIRS.match(out)
        self.assertIsNotNone(m, repr(out))
        log_size, snap_size = int(m.group(1)), int(m.group(2))
        # ZooKeeper's datadir_size is its transaction log's folder: ours is
        # peer 1's LevelDB log, which holds the 40 KB just written.
        self.assertGreater(log_size, 40000)
        peer = os.path.join(self.ensemble.data, "peer1", "ensemble")

        def du(path):
            return sum(os.path.getsize(os.path.join(root, f)) for root, _, files in
                       os.walk(path) for f in files)

        # The same folders, measured here (LevelDB may have written or
        # compacted a little in between).
        self.assertAlmostEqual(log_size, du(os.path.join(peer, "log")), delta=1 << 20)
        self.assertEqual(snap_size, du(os.path.join(peer, "snapshots")))
        # conf prints the same figures, as ZooKeeper's dumpConf does (dataDirSize
        # is the log's folder, dataLogSize the snapshots').
        conf = dict(line.split("=", 1) for line in
                    four_letter_word(self.gw1, "conf").splitlines() if "=" in line)
        self.assertAlmostEqual(int(conf["dataDirSize"]), log_size, delta=1 << 20)
        self.assertEqual(int(conf["dataLogSize"]), snap_size)
        ref_conf = four_letter_word(self.reference.address, "conf")
        self.assertEqual([k for k in conf if k in ("dataDirSize", "dataLogSize")],
                         [line.split("=")[0] for line in ref_conf.splitlines()
                          if line.startswith(("dataDirSize=", "dataLogSize="))])


if __name__ == "__main__":
    unittest.main(verbosity=2)
