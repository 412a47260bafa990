"""Issue 5, linearizability bullet: concurrent kazoo clients on different
gateways run create / set (any version or an expected one) / delete /
sync+get on a few keys while the test SIGKILLs the leader peer, restarts it,
and cuts the next leader off (iptables in its namespace) and heals it. Every
operation is recorded with its invocation and completion times
(tests/linearizability's Recorder); the WGL checker must find the history
linearizable.

Reads are always `sync` then `get` on the same session, recorded as
`sync_get`: a plain ZooKeeper read may be stale, Ensemble's sync is a quorum
operation so sync+get is linearizable. NoNode/NodeExists/BadVersion are
definite answers; connection loss, session expiry and timeouts make a write
indeterminate (it may or may not have happened) and drop a read. A client
whose request gets no answer while connected (the unanswered-write bug,
test_leader_kill.py) is replaced by a new session."""

import os
import random
import tempfile
import threading
import time
import unittest

import replication_harness as rh
import linearizability as lz

from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError

rh.setup_module_guard(200)

KEYS = [f"/lin/k{i}" for i in range(8)]
CLIENTS = 6
MAX_OPS_PER_CLIENT = 2500
PAUSE = 0.01  # between a client's ops: the load spans every fault
OP_TIMEOUT = 5.0


class Worker(threading.Thread):
    def __init__(self, n, address, recorder, stop, seed):
        super().__init__(daemon=True)
        self.n = n
        self.address = address
        self.rec = recorder
        self.stop_event = stop
        self.rng = random.Random(seed)
        self.zk = None
        self.ops = 0
        self.replaced = 0
        self.definite = 0

    def connect(self):
        while not self.stop_event.is_set():
            try:
                self.zk = rh.client(self.address, connect_timeout=10.0)
                return True
            except Exception:
                time.sleep(0.2)
        return False

    def run(self):
        if not self.connect():
            return
        deadline = time.time() + 60
        while not self.stop_event.is_set() and self.ops < MAX_OPS_PER_CLIENT \
                and time.time() < deadline:
            self.ops += 1
            self.one_op()
            time.sleep(PAUSE)
        rh.abandon(self.zk)

    def one_op(self):
        key = self.rng.choice(KEYS)
        value = f"c{self.n}-{self.ops}"
        kind = self.rng.choices(["create", "set", "delete", "sync_get"], [2, 3, 1, 4])[0]
        zk = self.zk
        if kind == "create":
            h = self.rec.invoke(self.n, "create", key, {"value": value})
            call = lambda: zk.create_async(key, value.encode()).get(timeout=OP_TIMEOUT)
            done = lambda r: "ok"
        elif kind == "set":
            version = self.rng.choice([-1, -1, 0, 1, 2])
            h = self.rec.invoke(self.n, "set", key, {"value": value, "version": version})
            call = lambda: zk.set_async(key, value.encode(), version).get(timeout=OP_TIMEOUT)
            done = lambda stat: {"version": stat.version}
        elif kind == "delete":
            version = self.rng.choice([-1, 0, 1])
            h = self.rec.invoke(self.n, "delete", key, {"version": version})
            call = lambda: zk.delete_async(key, version).get(timeout=OP_TIMEOUT)
            done = lambda r: "ok"
        else:
            h = self.rec.invoke(self.n, "sync_get", key, {})

            def call():
                zk.sync_async(key).get(timeout=OP_TIMEOUT)
                return zk.get_async(key).get(timeout=OP_TIMEOUT)

            done = lambda r: {"value": r[0].decode(), "version": r[1].version}
        try:
            result = call()
            self.rec.complete(h, done(result))
            self.definite += 1
        except (NoNodeError, NodeExistsError, BadVersionError) as e:
            self.rec.complete(h, lz.classify_error(e))
            self.definite += 1
        except rh.KazooTimeoutError:
            self.rec.fail(h)  # indeterminate
            if zk.connected and not self.stop_event.is_set():
                rh.abandon(zk)
                self.replaced += 1
                self.connect()
        except Exception:
            self.rec.fail(h)  # connection loss, session expired...: indeterminate
            time.sleep(0.05)


class LinearizableUnderFaultsTest(unittest.TestCase):
    def setUp(self):
        rh.require_root(self)

    def test_history_under_kill_restart_partition_is_linearizable(self):
        ens = rh.start(peers=3)
        stop = threading.Event()
        workers = []
        try:
            leader, _ = rh.wait_agreement(ens, timeout=30)
            rh.ensure_path(rh.gateway_of(ens, 1), "/lin")
            rec = lz.Recorder()
            seed = int(os.environ.get("ENSEMBLE_LIN_SEED", random.randrange(1 << 30)))
            print(f"seed {seed} (ENSEMBLE_LIN_SEED replays the op choices)")
            for n in range(CLIENTS):
                gateway = rh.gateway_of(ens, n % 3 + 1)
                workers.append(Worker(n, gateway, rec, stop, seed + n))
            for w in workers:
                w.start()

            faults = []

            def fault(what):
                faults.append((what, time.monotonic_ns()))

            time.sleep(3)
            fault("kill")
            ens.kill(f"peer.{leader}")
            others = [sid for sid in rh.sids(ens) if sid != leader]
            second, _ = rh.wait_agreement(ens, among=others, timeout=20, not_leader=leader)
            time.sleep(2)
            fault("restart")
            ens.restart(f"peer.{leader}")
            rh.wait_agreement(ens, timeout=30)
            time.sleep(2)
            fault("partition")
            ens.partition(second)
            rest = [sid for sid in rh.sids(ens) if sid != second]
            rh.wait_agreement(ens, among=rest, timeout=20, not_leader=second)
            time.sleep(2)
            fault("heal")
            ens.heal(second)
            rh.wait_agreement(ens, timeout=40)
            fault("rejoined")
            time.sleep(3)
            stop.set()
            for w in workers:
                w.join(30)
            self.assertFalse(any(w.is_alive() for w in workers), "clients did not stop")

            history = rec.history()
            definite = sum(w.definite for w in workers)
            indeterminate = sum(1 for op in history if op["complete"] is None)
            print(f"{len(history)} ops, {definite} answered, {indeterminate} indeterminate, "
                  f"{sum(w.replaced for w in workers)} sessions replaced after no answer")
            self.assertGreater(definite, 500, "too few operations completed")
            reads = [op for op in history if op["kind"] == "sync_get" and op["complete"]]
            self.assertGreater(len(reads), 100)
            # The load spans every fault: answered writes and reads between each
            # fault and the next, and after the last.
            marks = [t for _, t in faults] + [max(op["complete"] or 0 for op in history)]
            for (what, t0), t1 in zip(faults, marks[1:]):
                between = [op for op in history if op["complete"] and t0 < op["invoke"]
                           and op["complete"] < t1]
                self.assertTrue(any(op["kind"] == "sync_get" for op in between) and
                                any(op["kind"] != "sync_get" for op in between),
                                f"no answered reads and writes after '{what}'")
            result = lz.check(history, timeout=90)
            if result.status is not True:
                path = os.path.join(tempfile.gettempdir(), f"lin-history-{seed}.jsonl")
                rec.dump(path)
                print(f"history kept in {path}")
            self.assertIs(result.status, True, result.summary())
            print(result.summary())
        except Exception:
            print(rh.log_excerpt(ens, rh.sids(ens)))
            raise
        finally:
            stop.set()
            for w in workers:
                w.join(10)
            ens.stop()


if __name__ == "__main__":
    unittest.main(verbosity=2)
