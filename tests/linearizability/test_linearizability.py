#!/usr/bin/python3
"""Tests of the linearizability checker: histories it must accept, known
non-linearizable histories it must reject, random histories from a simulated
linearizable register (accepted) and the same with one read made provably
stale (rejected), a bounded performance check, the recorder and the CLI."""

import os
import random
import subprocess
import sys
import tempfile
import threading
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import linearizability as lz  # noqa: E402

SCRIPT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "linearizability.py")


def op(client, kind, invoke, complete, result, key="/a", **args):
    return {"client": client, "kind": kind, "key": key, "args": args, "invoke": invoke,
            "complete": complete, "result": result}


def create(c, t0, t1, value, result="ok", key="/a"):
    return op(c, "create", t0, t1, result, key=key, value=value)


def set_(c, t0, t1, value, result, version=-1, key="/a"):
    return op(c, "set", t0, t1, result, key=key, value=value, version=version)


def get(c, t0, t1, result, key="/a"):
    return op(c, "get", t0, t1, result, key=key)


def delete(c, t0, t1, result="ok", version=-1, key="/a"):
    return op(c, "delete", t0, t1, result, key=key, version=version)


def val(value, version=None):
    r = {"value": value}
    if version is not None:
        r["version"] = version
    return r


class Accepts(unittest.TestCase):
    def assertLinearizable(self, history, **kw):
        r = lz.check(history, **kw)
        self.assertIs(r.status, True, r.summary())
        return r

    def test_empty(self):
        r = self.assertLinearizable([])
        self.assertEqual(r.summary(), "linearizable: 0 ops, 0 keys")

    def test_sequential(self):
        self.assertLinearizable([
            get(1, 0, 1, "NONODE"),
            create(1, 2, 3, "a"),
            create(2, 4, 5, "b", result="NODEEXISTS"),
            get(2, 6, 7, val("a", 0)),
            set_(1, 8, 9, "b", {"version": 1}),
            set_(2, 10, 11, "c", "BADVERSION", version=0),
            set_(2, 12, 13, "c", 2, version=1),
            get(1, 14, 15, val("c", 2)),
            op(1, "sync_get", 16, 17, val("c", 2)),
            delete(2, 18, 19, "BADVERSION", version=7),
            delete(2, 20, 21, "ok", version=2),
            delete(1, 22, 23, "NONODE"),
            set_(1, 24, 25, "d", "NONODE"),
            get(1, 26, 27, "NONODE"),
            create(1, 28, 29, "e"),
            get(2, 30, 31, [b"e", 0]),  # a new node starts again at version 0
        ])

    def test_overlapping_writes_either_order(self):
        for final, versions in (("x", (2, 1)), ("y", (1, 2))):
            with self.subTest(final=final):
                self.assertLinearizable([
                    create(1, 0, 1, "init"),
                    set_(1, 10, 30, "x", {"version": versions[0]}),
                    set_(2, 15, 25, "y", {"version": versions[1]}),
                    get(3, 40, 41, val(final, 2)),
                ])

    def test_read_concurrent_with_write_sees_either_value(self):
        for seen in (val("old", 0), val("new", 1)):
            with self.subTest(seen=seen):
                self.assertLinearizable([
                    create(1, 0, 1, "old"),
                    set_(1, 10, 50, "new", "ok"),
                    get(2, 20, 30, seen),
                    get(2, 60, 70, val("new", 1)),
                ])

    def test_concurrent_reads_may_disagree_while_a_write_is_pending(self):
        # Both reads overlap the write and each other: old then new is fine.
        self.assertLinearizable([
            create(1, 0, 1, "old"),
            set_(1, 10, 50, "new", "ok"),
            get(2, 20, 40, val("new")),
            get(3, 25, 45, val("old")),
        ])

    def test_indeterminate_write_takes_effect_late(self):
        self.assertLinearizable([
            create(1, 0, 1, "old"),
            set_(1, 10, None, "new", None),  # the client never heard back
            get(2, 20, 30, val("old", 0)),
            get(2, 40, 50, val("old", 0)),
            get(2, 1000, 1001, val("new", 1)),
        ])

    def test_indeterminate_write_never_takes_effect(self):
        self.assertLinearizable([
            create(1, 0, 1, "old"),
            set_(1, 10, None, "new", None),
            delete(1, 12, None, None),
            get(2, 20, 30, val("old", 0)),
            get(2, 1000, 1001, val("old", 0)),
        ])

    def test_indeterminate_create_and_completed_time_without_result(self):
        self.assertLinearizable([
            create(1, 0, 5, "a", result=None),  # no result: treated as indeterminate
            get(2, 10, 11, "NONODE"),
            get(2, 20, 21, val("a", 0)),
        ])

    def test_unanswered_read_is_ignored(self):
        self.assertLinearizable([create(1, 0, 1, "a"), get(2, 2, None, None)])

    def test_create_with_missing_parent_constrains_nothing(self):
        self.assertLinearizable([
            create(1, 0, 1, "a"),
            create(2, 2, 3, "b", result="NONODE"),
            get(1, 4, 5, val("a", 0)),
        ])

    def test_equal_times_count_as_concurrent(self):
        self.assertLinearizable([
            create(1, 0, 10, "a"),
            get(2, 10, 20, "NONODE"),
        ])

    def test_keys_are_independent(self):
        self.assertLinearizable([
            create(1, 0, 10, "a", key="/a"),
            create(2, 5, 15, "b", key="/b"),
            get(1, 20, 21, val("a", 0), key="/a"),
            get(2, 20, 21, val("b", 0), key="/b"),
        ])

    def test_initial_state(self):
        self.assertLinearizable([get(1, 0, 1, val("pre", 4))], initial={"/a": ("pre", 4)})

    def test_positional_args_and_result_spellings(self):
        self.assertLinearizable([
            op(1, "create", 0, 1, "/a", value="a"),  # create answers its path
            {"process": 2, "kind": "set", "path": "/a", "args": ["b", 0], "invoke": 2,
             "complete": 3, "result": 1},
            {"client": 2, "kind": "delete", "key": "/a", "args": [0], "invoke": 4,
             "complete": 5, "result": "BadVersionError"},
            {"client": 2, "kind": "get", "key": "/a", "invoke": 6, "complete": 7,
             "result": ["b", 1]},
        ])

    def test_deep_history_needs_no_recursion(self):
        h = [create(1, 0, 1, "v0")]
        for i in range(1, 5000):
            h.append(set_(1 + i % 3, 2 * i, 2 * i + 1, f"v{i}", {"version": i}))
        self.assertLinearizable(h)


class Rejects(unittest.TestCase):
    def assertNotLinearizable(self, history, key="/a", witness=None):
        r = lz.check(history)
        self.assertIs(r.status, False, r.summary())
        self.assertEqual([f.key for f in r.failures], [key])
        text = r.summary()
        self.assertTrue(text.startswith("NOT linearizable"), text)
        self.assertIn(repr(key), text)
        if witness is not None:
            self.assertEqual(r.failures[0].witness.id, witness, text)
        return r

    def test_stale_read_after_completed_write(self):
        r = self.assertNotLinearizable([
            create(1, 0, 1, "old"),
            set_(1, 10, 20, "new", {"version": 1}),
            get(2, 30, 40, val("old", 0)),
        ], witness=2)
        f = r.failures[0]
        self.assertEqual([o.id for o in f.best], [0, 1])
        self.assertEqual(f.best_state, ("new", 1))
        self.assertEqual([o.id for o in f.stuck], [2])
        self.assertIn("the model would answer ok('new', version=1)", r.summary())

    def test_read_of_a_value_never_written(self):
        self.assertNotLinearizable([
            create(1, 0, 1, "a"),
            set_(1, 10, 20, "b", "ok"),
            get(2, 5, 25, val("zzz")),
        ], witness=2)

    def test_new_old_inversion(self):
        # The write is still running, but the first read saw it, so the
        # later read may not see the old value again.
        self.assertNotLinearizable([
            create(1, 0, 1, "old"),
            set_(1, 10, 100, "new", "ok"),
            get(2, 20, 30, val("new")),
            get(3, 40, 50, val("old")),
        ], witness=3)

    def test_lost_acknowledged_write(self):
        # Both sets were acknowledged, yet the node has seen only one.
        self.assertNotLinearizable([
            create(1, 0, 1, "init"),
            set_(1, 10, 20, "x", "ok"),
            set_(2, 12, 22, "y", "ok"),
            get(3, 30, 31, val("x", 1)),
        ])

    def test_two_writes_acknowledged_with_the_same_version(self):
        self.assertNotLinearizable([
            create(1, 0, 1, "init"),
            set_(1, 10, 20, "x", {"version": 1}),
            set_(2, 12, 22, "y", {"version": 1}),
        ])

    def test_version_goes_backwards(self):
        self.assertNotLinearizable([
            create(1, 0, 1, "a"),
            set_(1, 2, 3, "b", {"version": 1}),
            set_(1, 4, 5, "b", {"version": 2}),
            get(2, 6, 7, val("b", 2)),
            get(2, 8, 9, val("b", 1)),
        ], witness=4)

    def test_create_succeeds_twice_without_delete(self):
        self.assertNotLinearizable([
            create(1, 0, 10, "a"),
            create(2, 5, 15, "b"),  # concurrent, yet both cannot win
        ])

    def test_nonode_read_after_completed_create(self):
        self.assertNotLinearizable([
            create(1, 0, 10, "a"),
            get(2, 20, 30, "NONODE"),
        ], witness=1)

    def test_read_after_completed_delete(self):
        self.assertNotLinearizable([
            create(1, 0, 1, "a"),
            delete(1, 2, 3),
            get(2, 4, 5, val("a", 0)),
        ])

    def test_indeterminate_write_cannot_act_before_it_is_invoked(self):
        self.assertNotLinearizable([
            create(1, 0, 1, "old"),
            get(2, 5, 8, val("new")),
            set_(1, 10, None, "new", None),
        ], witness=1)

    def test_wrong_badversion(self):
        self.assertNotLinearizable([
            create(1, 0, 1, "a"),
            set_(1, 2, 3, "b", "BADVERSION", version=0),
        ])

    def test_only_the_bad_key_is_reported(self):
        h = []
        for k in range(5):
            key = f"/k{k}"
            h += [create(1, 10 * k, 10 * k + 1, "a", key=key),
                  get(2, 10 * k + 2, 10 * k + 3, val("a", 0), key=key)]
        h.append(get(3, 100, 101, "NONODE", key="/k3"))
        r = self.assertNotLinearizable(h, key="/k3")
        self.assertIn("1 of 5 keys ('/k3')", r.summary())

    def test_smallest_failing_prefix_is_reported(self):
        # A long good history with one stale read in the middle: the witness
        # is that read, not the last op.
        h = [create(1, 0, 1, "v0")]
        t = 10
        for i in range(1, 60):
            h.append(set_(1, t, t + 5, f"v{i}", {"version": i}))
            h.append(get(2, t + 2, t + 8, val(f"v{i}" if i != 30 else "v1")))
            t += 10
        r = self.assertNotLinearizable(h, witness=60)
        f = r.failures[0]
        self.assertLess(len(f.prefix_ops), len(h))
        self.assertIn("op 60", r.summary())


# ---------------------------------------------------------------------------
# Random histories from a simulated linearizable znode.


class Simulation:
    """Clients issue random ops one after another; each op takes effect at a
    random point of its interval (in that order on one model state), so the
    history is linearizable by construction. Values are unique per op."""

    def __init__(self, seed, n_ops, keys, clients, p_indeterminate=0.05, span=20):
        rng = random.Random(seed)
        model = lz.ZnodeModel()
        cursor = [rng.randint(0, span) for _ in range(clients)]
        planned = []
        for n in range(n_ops):
            c = rng.randrange(clients)
            key = rng.choice(keys)
            kind = rng.choices(["create", "set", "get", "sync_get", "delete"],
                               weights=[2, 5, 5, 1, 1])[0]
            args = {}
            if kind in ("create", "set"):
                args["value"] = f"c{c}-{n}"
            if kind in ("set", "delete"):
                args["version"] = rng.choice([-1, -1, -1, 0, 1, 2, 3])
            t0 = cursor[c] + rng.randint(0, span)
            lin = t0 + rng.random() * span
            t1 = lin + rng.random() * span
            indeterminate = rng.random() < p_indeterminate
            applied = True
            if indeterminate:
                applied = rng.random() < 0.5
                lin = t0 + rng.random() * span * 20  # may take effect much later
                t1 = None
                cursor[c] = t0 + 1
            else:
                cursor[c] = t1
            planned.append((lin, n, {"id": n, "client": c, "kind": kind, "key": key,
                                     "args": args, "invoke": t0, "complete": t1}, applied))
        states = {}
        self.history = [None] * n_ops
        for lin, n, h, applied in sorted(planned, key=lambda p: (p[0], p[1])):
            o = lz.make_ops([dict(h, complete=None, result=None)], model)[0]
            state = states.get(h["key"])
            result = None
            if applied:
                code, value, version, new = model.outcome(state, o)
                states[h["key"]] = new
                if code != lz.OK:
                    result = code
                elif h["kind"] == "set":
                    result = {"version": version}
                elif h["kind"] in ("get", "sync_get"):
                    result = {"value": value, "version": version}
                else:
                    result = "ok"
            if h["complete"] is None:
                result = None
            self.history[n] = dict(h, result=result)


def make_stale(history, rng):
    """Makes one completed read return the value of a write W1 although a
    later successful write W2 (invoked after W1 completed) completed before
    the read was invoked. Values are unique, so nothing can write W1's value
    again: provably not linearizable. Returns the new history or None."""
    writes = [h for h in history if h["complete"] is not None and h["result"] is not None
              and h["kind"] in ("create", "set") and h["result"] != "NODEEXISTS"
              and h["result"] not in ("NONODE", "BADVERSION")]
    changes = [h for h in history if h["complete"] is not None
               and h["kind"] in ("create", "set", "delete")
               and h["result"] not in ("NONODE", "BADVERSION", "NODEEXISTS")]
    reads = [h for h in history if h["complete"] is not None
             and h["kind"] in ("get", "sync_get")]
    candidates = []
    for r in reads:
        for w2 in changes:
            if w2["key"] != r["key"] or w2["complete"] >= r["invoke"]:
                continue
            for w1 in writes:
                if w1["key"] == r["key"] and w1["complete"] < w2["invoke"]:
                    candidates.append((r, w1))
    if not candidates:
        return None
    r, w1 = rng.choice(candidates)
    out = [dict(h) for h in history]
    out[r["id"]]["result"] = {"value": w1["args"]["value"]}
    return out, r["id"]


class Randomized(unittest.TestCase):
    def test_simulated_histories_are_linearizable(self):
        for seed in range(60):
            sim = Simulation(seed, n_ops=60, keys=["/a", "/b"], clients=4)
            r = lz.check(sim.history, max_steps=500_000)
            self.assertIs(r.status, True, f"seed {seed}: {r.summary()}")

    def test_one_stale_read_is_rejected(self):
        rejected = 0
        for seed in range(60):
            sim = Simulation(seed, n_ops=60, keys=["/a", "/b"], clients=4)
            mutated = make_stale(sim.history, random.Random(seed))
            if mutated is None:
                continue
            history, read_id = mutated
            r = lz.check(history, max_steps=500_000)
            self.assertIs(r.status, False, f"seed {seed}: read {read_id} made stale")
            self.assertEqual(len(r.failures), 1)
            self.assertEqual(r.failures[0].key, history[read_id]["key"])
            rejected += 1
        self.assertGreater(rejected, 40, "too few histories could be mutated")

    def test_heavily_concurrent_histories(self):
        for seed in range(10):
            sim = Simulation(1000 + seed, n_ops=40, keys=["/a"], clients=8, span=60,
                             p_indeterminate=0.15)
            r = lz.check(sim.history, max_steps=2_000_000)
            self.assertIs(r.status, True, f"seed {seed}: {r.summary()}")

    def test_2000_ops_20_keys_5_clients_gets_a_definite_answer(self):
        keys = [f"/k{i}" for i in range(20)]
        sim = Simulation(7, n_ops=2000, keys=keys, clients=5)
        r = lz.check(sim.history, max_steps=200_000)
        self.assertIs(r.status, True, r.summary())
        self.assertEqual(r.num_keys, 20)
        mutated, _ = make_stale(sim.history, random.Random(7))
        r = lz.check(mutated, max_steps=200_000)
        self.assertIs(r.status, False, r.summary())


class Bounds(unittest.TestCase):
    def hard_history(self):
        # Many concurrent acknowledged sets with unrecorded versions and a
        # final read that no order explains: the search must try many orders.
        h = [create(0, 0, 1, "init")]
        for c in range(1, 15):
            h.append(set_(c, 10, 100, f"x{c}", "ok"))
        h.append(get(99, 200, 201, val("never")))
        return h

    def test_step_bound_gives_unknown(self):
        r = lz.check(self.hard_history(), max_steps=1000)
        self.assertIsNone(r.status)
        self.assertEqual(r.unknown_keys, ["/a"])
        self.assertTrue(r.summary().startswith("unknown"), r.summary())

    def test_deadline_gives_unknown(self):
        r = lz.check(self.hard_history(), max_steps=10**12, timeout=0.05)
        self.assertIsNone(r.status)

    def test_memoization_makes_the_hard_history_cheap(self):
        # 14 commuting writes: memoized by (set, state) it is 2^14 subsets,
        # not 14! orders.
        r = lz.check(self.hard_history(), max_steps=2_000_000)
        self.assertIs(r.status, False)


class Recording(unittest.TestCase):
    def test_threads_on_a_locked_register_give_a_linearizable_history(self):
        rec = lz.Recorder()
        model = lz.ZnodeModel()
        lock = threading.Lock()
        states = {}

        def worker(c):
            rng = random.Random(c)
            for n in range(150):
                key = rng.choice(["/x", "/y"])
                kind = rng.choice(["create", "set", "get", "delete"])
                args = {"value": f"{c}-{n}".encode()} if kind in ("create", "set") else {}
                if kind in ("set", "delete"):
                    args["version"] = -1
                h = rec.invoke(c, kind, key, args)
                if rng.random() < 0.05:
                    rec.fail(h, indeterminate=False)  # never sent
                    continue
                with lock:
                    o = lz.make_ops([{"kind": kind, "key": key, "args": args, "invoke": 0}],
                                    model)[0]
                    code, value, version, new = model.outcome(states.get(key), o)
                    states[key] = new
                if code != lz.OK:
                    rec.complete(h, code)
                elif kind == "get":
                    rec.complete(h, (value.encode("utf-8", "surrogateescape"), version))
                elif kind == "set":
                    rec.complete(h, {"version": version})
                else:
                    rec.complete(h, "ok")

        threads = [threading.Thread(target=worker, args=(c,)) for c in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        history = rec.history()
        self.assertGreater(len(history), 600)
        r = lz.check(history)
        self.assertIs(r.status, True, r.summary())
        # The same history, through a file.
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "h.jsonl")
            rec.dump(path)
            loaded = lz.load_history(path)
        self.assertEqual(len(loaded), len(history))
        self.assertIs(lz.check(loaded).status, True)
        # And one read made stale is caught.
        mutated = make_stale([dict(h, id=i) for i, h in enumerate(loaded)], random.Random(1))
        self.assertIsNotNone(mutated)
        self.assertIs(lz.check(mutated[0]).status, False)

    def test_fail_and_complete(self):
        ticks = iter(range(100))
        rec = lz.Recorder(clock=lambda: next(ticks))
        a = rec.invoke(1, "create", "/a", {"value": "v"})
        b = rec.invoke(2, "set", "/a", {"value": "w"})
        c = rec.invoke(3, "get", "/a")
        d = rec.invoke(4, "delete", "/a")
        rec.complete(a, "ok")
        rec.fail(b)
        rec.fail(c, indeterminate=False)
        with self.assertRaises(ValueError):
            rec.complete(a, "ok")
        h = rec.history()
        self.assertEqual([o["id"] for o in h], [a, b, d])
        self.assertEqual(h[0]["invoke"], 0)
        self.assertEqual(h[0]["complete"], 4)
        self.assertIsNone(h[1]["complete"])
        self.assertIsNone(h[2]["complete"])  # never finished: indeterminate
        self.assertIs(lz.check(h).status, True)

    def test_classify_error(self):
        class NoNodeError(Exception):
            pass

        class ConnectionLoss(Exception):
            pass

        self.assertEqual(lz.classify_error(NoNodeError()), "NONODE")
        self.assertIsNone(lz.classify_error(ConnectionLoss()))


class BadInput(unittest.TestCase):
    def test_rejected_with_the_op_named(self):
        bad = [
            [{"kind": "frob", "key": "/a", "invoke": 0, "complete": 1, "result": "ok"}],
            [{"kind": "get", "invoke": 0, "complete": 1, "result": "ok"}],
            [get(1, 5, 1, "NONODE")],
            [get(1, "x", 1, "NONODE")],
            [create(1, 0, 1, "a", result="BADVERSION")],
            [op(1, "set", 0, 1, "ok")],
            ["not an op"],
        ]
        for h in bad:
            with self.subTest(h=h), self.assertRaisesRegex(ValueError, "^op 0 "):
                lz.check(h)


class Cli(unittest.TestCase):
    def run_cli(self, history, *extra):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "h.jsonl")
            lz.dump_history(history, path)
            p = subprocess.run([sys.executable, SCRIPT, path, *extra], capture_output=True,
                               text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr

    def test_linearizable(self):
        rc, out, _ = self.run_cli([create(1, 0, 1, "a"), get(2, 2, 3, val("a", 0)),
                                   get(2, 2, 3, "NONODE", key="/b")])
        self.assertEqual(rc, 0)
        self.assertEqual(out.strip(), "linearizable: 3 ops, 2 keys")

    def test_not_linearizable(self):
        rc, out, _ = self.run_cli([create(1, 0, 1, "a"), get(2, 2, 3, "NONODE")])
        self.assertEqual(rc, 1)
        self.assertTrue(out.startswith("NOT linearizable: 1 of 1 keys ('/a')"), out)
        self.assertIn("get(/a) -> NONODE", out)

    def test_unknown(self):
        rc, out, _ = self.run_cli(Bounds().hard_history(), "--max-steps", "100")
        self.assertEqual(rc, 2)
        self.assertTrue(out.startswith("unknown"), out)

    def test_bad_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "h.jsonl")
            with open(path, "w") as f:
                f.write("{not json\n")
            p = subprocess.run([sys.executable, SCRIPT, path], capture_output=True, text=True,
                               timeout=120)
        self.assertEqual(p.returncode, 2)
        self.assertIn("h.jsonl:1", p.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
