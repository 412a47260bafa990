"""The same seeded random client workload, run against Apache ZooKeeper 3.8
and against Ensemble, must give the same answers: results, error codes,
created names, data, stats (all but times and zxids), children and watch
events. ENSEMBLE_DIFF_SEED and ENSEMBLE_DIFF_OPS change the run."""

import os
import random
import threading
import unittest

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.protocol.states import EventType

from ensemble_harness import Ensemble
from zk_reference import ReferenceZooKeeper

SEED = int(os.environ.get("ENSEMBLE_DIFF_SEED", "20261123"))
OPS = int(os.environ.get("ENSEMBLE_DIFF_OPS", "600"))
PATHS = ["/d", "/d/a", "/d/b", "/d/a/x", "/d/a/y", "/d/b/z", "/e", "/e/q"]


def stat_view(stat):
    if stat is None:
        return None
    return (stat.version, stat.cversion, stat.aversion, stat.dataLength, stat.numChildren,
            stat.ephemeralOwner != 0)


def outcome(fn):
    try:
        return ("ok", fn())
    except KazooException as e:
        return ("error", type(e).__name__)


class Workload:
    """Runs one seeded workload on one server and records what it saw."""

    def __init__(self, address):
        self.zk = KazooClient(hosts=address, timeout=10.0)
        self.zk.start(timeout=20)
        self.events = []

    def watcher(self, event):
        self.events.append((event.type, event.path))

    def step(self, rng):
        zk = self.zk
        path = rng.choice(PATHS)
        op = rng.choice(["create", "create", "create_seq", "create_eph", "delete", "set", "set",
                         "get", "exists", "children", "multi", "watch_data", "watch_children"])
        version = rng.choice([-1, -1, 0, 1, 2])
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(0, 8)))
        if op == "create":
            return op, path, outcome(lambda: zk.create(path, data))
        if op == "create_seq":
            return op, path, outcome(lambda: zk.create(path + "/s-", data, sequence=True))
        if op == "create_eph":
            return op, path, outcome(lambda: zk.create(path, data, ephemeral=True))
        if op == "delete":
            return op, path, outcome(lambda: zk.delete(path, version=version))
        if op == "set":
            return op, path, outcome(lambda: stat_view(zk.set(path, data, version=version)))
        if op == "get":
            return op, path, outcome(lambda: (lambda d: (d[0], stat_view(d[1])))(zk.get(path)))
        if op == "exists":
            return op, path, outcome(lambda: stat_view(zk.exists(path)))
        if op == "children":
            return op, path, outcome(lambda: sorted(zk.get_children(path)))
        if op == "watch_data":
            return op, path, outcome(lambda: stat_view(zk.exists(path, watch=self.watcher)))
        if op == "watch_children":
            return op, path, outcome(lambda: sorted(zk.get_children(path, watch=self.watcher)))
        # multi: two or three ops, some of which may fail
        t = zk.transaction()
        for _ in range(rng.randrange(2, 4)):
            p = rng.choice(PATHS)
            kind = rng.choice(["create", "delete", "set", "check"])
            if kind == "create":
                t.create(p, data)
            elif kind == "delete":
                t.delete(p, version=version)
            elif kind == "set":
                t.set_data(p, data, version=version)
            else:
                t.check(p, version if version >= 0 else 0)
        results = t.commit()
        return op, path, ("ok", [r if isinstance(r, str) else
                                 (type(r).__name__ if isinstance(r, Exception) else
                                  stat_view(r) if hasattr(r, "version") else r)
                                 for r in results])

    def run(self, seed, ops):
        rng = random.Random(seed)
        trace = [self.step(rng) for _ in range(ops)]
        # Barrier: events of one session arrive in order, so once a watch set
        # after the workload fires, every earlier event has arrived.
        barrier = threading.Event()
        self.zk.create("/barrier", ephemeral=True)
        self.zk.get("/barrier", watch=lambda e: barrier.set())
        self.zk.set("/barrier", b"x")
        if not barrier.wait(10):
            raise AssertionError("the barrier watch did not fire")
        return trace, sorted(self.events)

    def close(self):
        self.zk.stop()
        self.zk.close()


class DifferentialTest(unittest.TestCase):
    def test_same_answers_as_zookeeper(self):
        with ReferenceZooKeeper() as zk, Ensemble(peers=1, gateways=1) as ensemble:
            results = []
            for address in (zk.address, ensemble.gateways()[0]):
                w = Workload(address)
                try:
                    results.append(w.run(SEED, OPS))
                finally:
                    w.close()
        (ref_trace, ref_events), (our_trace, our_events) = results
        for i, (ref, ours) in enumerate(zip(ref_trace, our_trace)):
            self.assertEqual(ref, ours, f"step {i} (seed {SEED}) differs")
        self.assertEqual(ref_events, our_events, f"watch events differ (seed {SEED})")
        kinds = {r[2][0] for r in ref_trace}
        self.assertEqual(kinds, {"ok", "error"}, "the workload should see both outcomes")


if __name__ == "__main__":
    unittest.main(verbosity=2)
