#!/usr/bin/python3
"""Issue 9, item 1: a seeded, bounded fault campaign against a real 5-peer
Ensemble (each peer in its own network namespace, tools/ensemble-local
--netns) with gateways.

Each round draws (random.Random(seed), so a seed replays the same schedule) a
schedule of 1-3 faults, possibly overlapping, among:

  kill_process  SIGKILL one process (storage/replication/election of any peer,
                or a gateway) and restart it after a while
  kill_peer     SIGKILL a whole peer (its three processes) and restart it
  partition     cut a peer (half the time: whoever leads when it fires) off
                from every other peer, then heal
  oneway        drop the packets from one peer to another only (an iptables
                rule in the sender's namespace), then heal
  isolate       cut the link between two peers (both directions), then heal
  slow          netem on a peer's link (delay+loss, or loss only on a kernel
                without sch_netem), then back to normal
  disk_stall    every fsync/fdatasync of one peer's storage stalls 100-1000 ms
                (LD_PRELOAD shim fault_shim.c), then normal again
  disk_eio      every fsync/fdatasync of one peer's storage fails with EIO
                (the storage must stop acknowledging: fail-stop); then the
                disk is "replaced": normal again and that storage restarted
  clock_jump    the wall clock (CLOCK_REALTIME) of one peer's three processes
                jumps by -1 day .. +1 day (same shim), then back

while 4-6 kazoo clients on different gateways run create / set / delete /
sync+get on a few keys of the round (recorded with tests/linearizability's
Recorder; connection loss and timeouts are indeterminate) and unique creates
under /fc/u (every acknowledged one must survive). After each round:
everything healed and restarted, wait for agreement (one leader, every peer
serving), every acknowledged unique create (of all rounds) must be listed by
every gateway after a sync, nothing nobody wrote may appear, and the round's
history must be linearizable.

  /usr/bin/python3 tests/faults/fault_campaign.py --seed 1 --rounds 3 --round-seconds 8

ENSEMBLE_BIN names the build folder (its bin/ensemble-*). Needs root.
Exit status: 0 no anomaly, 1 anomaly, 2 could not run (setup), 77 not root.
"""

import argparse
import collections
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "replication"))

import replication_harness as rh  # noqa: E402  (adds integration/ and linearizability/)
import linearizability as lz  # noqa: E402

from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError  # noqa: E402

ROOT_PATH = "/fc"
UNIQUE = "/fc/u"
KEYS_PER_ROUND = 6
OP_TIMEOUT = 5.0
PAUSE = 0.01
AGREEMENT_TIMEOUT = 60.0
KINDS = ["kill_process", "kill_peer", "partition", "oneway", "isolate", "slow", "disk_stall",
         "disk_eio", "clock_jump"]
SHIM_NAME = "libensemble_fault_shim.so"


def find_shim():
    """The LD_PRELOAD fault shim: $ENSEMBLE_FAULT_SHIM, else the one
    CMake builds in <ENSEMBLE_BIN>/lib; None if absent."""
    path = os.environ.get("ENSEMBLE_FAULT_SHIM") or os.path.join(rh.BIN, "lib", SHIM_NAME)
    return path if os.path.isfile(path) else None


def log(msg):
    print(msg, flush=True)


# --- the workload --------------------------------------------------------------


class Worker(threading.Thread):
    """One client: ops on the round's keys (recorded) and unique creates."""

    def __init__(self, n, round_no, address, rec, stop, seed, uniques):
        super().__init__(daemon=True)
        self.n = n
        self.round_no = round_no
        self.address = address
        self.rec = rec
        self.stop_event = stop
        self.rng = random.Random(seed)
        self.uniques = uniques
        self.keys = [f"{ROOT_PATH}/r{round_no}k{i}" for i in range(KEYS_PER_ROUND)]
        self.zk = None
        self.ops = 0
        self.replaced = 0
        self.clients = []

    def connect(self):
        while not self.stop_event.is_set():
            try:
                self.zk = rh.client(self.address, connect_timeout=5.0)
                self.clients.append(self.zk)
                return True
            except Exception:
                time.sleep(0.2)
        return False

    def run(self):
        if not self.connect():
            return
        while not self.stop_event.is_set():
            self.ops += 1
            self.one_op()
            time.sleep(PAUSE)

    def unique_create(self):
        path = f"{UNIQUE}/r{self.round_no}-c{self.n}-{self.ops:06d}"
        try:
            self.zk.create_async(path, b"u").get(timeout=OP_TIMEOUT)
            self.uniques.acked(path)
        except NodeExistsError:
            self.uniques.error(path, "NodeExists for a path created once")
        except rh.KazooTimeoutError:
            self.uniques.unknown(path)
            self.replace_if_hung()
        except Exception:
            self.uniques.unknown(path)
            time.sleep(0.05)

    def replace_if_hung(self):
        # No answer while connected (test_leader_kill.py's unanswered-write
        # bug): go on with a new session.
        if self.zk.connected and not self.stop_event.is_set():
            rh.abandon(self.zk)
            self.replaced += 1
            self.connect()

    def one_op(self):
        kind = self.rng.choices(["create", "set", "delete", "sync_get", "unique"],
                                [2, 3, 1, 4, 2])[0]
        if kind == "unique":
            return self.unique_create()
        key = self.rng.choice(self.keys)
        value = f"c{self.n}-{self.ops}"
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
        except (NoNodeError, NodeExistsError, BadVersionError) as e:
            self.rec.complete(h, lz.classify_error(e))
        except rh.KazooTimeoutError:
            self.rec.fail(h)  # indeterminate
            self.replace_if_hung()
        except Exception:
            self.rec.fail(h)  # connection loss, session expired...: indeterminate
            time.sleep(0.05)


class Uniques:
    """Every unique create of the campaign: acknowledged, unknown outcome."""

    def __init__(self):
        self.lock = threading.Lock()
        self.acked_set = set()
        self.unknown_set = set()
        self.errors = []

    def acked(self, path):
        with self.lock:
            self.acked_set.add(path)

    def unknown(self, path):
        with self.lock:
            self.unknown_set.add(path)

    def error(self, path, what):
        with self.lock:
            self.errors.append((path, what))


# --- faults ----------------------------------------------------------------------


class Faults:
    """Injects and heals faults on one netns ensemble."""

    def __init__(self, ens, peers, gateways, shim, skip=()):
        self.skip = set(skip)
        self.ens = ens
        self.peers = peers
        self.gateways = gateways
        self.shim = shim
        self.netem_delay = self._probe_netem()

    def _probe_netem(self):
        try:
            self.ens.netem(self.peers, "delay", "1ms")
            ok = True
        except RuntimeError:
            ok = False
        self.ens.netem(self.peers, "off")
        return ok

    def disk_control(self, sid, text, name="disk-fault.ctl"):
        """Writes (text) or removes (None) one of the shim's control files of a
        peer."""
        path = os.path.join(self.ens.data, f"peer{sid}", name)
        if text is None:
            try:
                os.remove(path)
            except FileNotFoundError:
                pass
        else:
            with open(path + ".tmp", "w") as f:
                f.write(text + "\n")
            os.replace(path + ".tmp", path)

    def restart(self, name, tries=3):
        """ensemble-local restart, again (up to `tries` times, 2 s apart) when
        the process dies at start (e.g. its binary was being rebuilt)."""
        for attempt in range(tries):
            try:
                return self.ens.restart(name)
            except RuntimeError as e:
                if attempt == tries - 1:
                    raise
                log(f"  restart {name} failed ({str(e).strip()[:200]}); again in 2 s")
                time.sleep(2)

    def ns(self, sid):
        return self.ens.state["netns"]["peers"][str(sid)]["ns"]

    def ip(self, sid):
        return self.ens.peer_ip(sid)

    def leader_or(self, fallback):
        leader = self.ens.leader()
        return leader if leader else fallback

    def inject(self, f):
        """Applies fault f (a dict from plan_round); returns a description."""
        kind = f["kind"]
        if kind in self.skip:
            f["skipped"] = True
            return f"{kind} skipped (--skip-kinds)"
        if kind == "kill_process":
            self.ens.kill(f["process"])
            return f"kill {f['process']}"
        if kind == "kill_peer":
            sid = self.leader_or(f["peer"]) if f["leader"] else f["peer"]
            f["resolved"] = sid
            self.ens.kill(f"peer.{sid}")
            return f"kill peer.{sid}{' (leader)' if f['leader'] else ''}"
        if kind == "partition":
            sid = self.leader_or(f["peer"]) if f["leader"] else f["peer"]
            f["resolved"] = sid
            self.ens.partition(sid)
            return f"partition peer.{sid}{' (leader)' if f['leader'] else ''}"
        if kind == "oneway":
            a = self.leader_or(f["peer"]) if f["leader"] else f["peer"]
            b = f["other"] if f["other"] != a else f["peer"]
            f["resolved"] = a
            # In a's namespace the ENSPART chain sees both directions; a rule on
            # the destination only drops a -> b (tools/ensemble-local heal
            # flushes the chain).
            subprocess.run(["ip", "netns", "exec", self.ns(a), "iptables", "-w", "-A", "ENSPART",
                            "-d", self.ip(b), "-j", "DROP"], check=True, capture_output=True)
            return f"drop peer.{a} -> peer.{b}{' (leader)' if f['leader'] else ''}"
        if kind == "isolate":
            self.ens.isolate_from(f["peer"], f["other"])
            f["resolved"] = f["peer"]
            return f"isolate peer.{f['peer']} <-> peer.{f['other']}"
        if kind == "slow":
            spec = (["delay", f"{f['delay_ms']}ms", "loss", f"{f['loss']}%"] if self.netem_delay
                    else ["loss", f"{f['loss']}%"])
            self.ens.netem(f["peer"], *spec)
            return f"netem peer.{f['peer']} {' '.join(spec)}"
        if kind in ("disk_stall", "disk_eio", "clock_jump"):
            if not self.shim:
                f["skipped"] = True
                return f"{kind} skipped (no disk-fault shim)"
            sid = self.leader_or(f["peer"]) if f["leader"] else f["peer"]
            f["resolved"] = sid
            if kind == "disk_stall":
                self.disk_control(sid, f"{f['delay_ms']} 0")
                return f"fsync of storage.{sid} stalls {f['delay_ms']}ms" + \
                    (" (leader)" if f["leader"] else "")
            if kind == "clock_jump":
                self.disk_control(sid, str(f["offset_s"]), "clock-offset.ctl")
                return f"wall clock of peer.{sid} jumps {f['offset_s']:+d}s" + \
                    (" (leader)" if f["leader"] else "")
            self.disk_control(sid, "0 100")
            return f"fsync of storage.{sid} fails with EIO" + (" (leader)" if f["leader"] else "")
        raise ValueError(kind)

    def undo(self, f):
        kind = f["kind"]
        if f.get("skipped"):
            return
        if kind == "kill_process":
            self.restart(f["process"])
        elif kind == "kill_peer":
            self.restart(f"peer.{f['resolved']}")
        elif kind in ("partition", "oneway", "isolate"):
            self.ens.heal(f["resolved"])
        elif kind == "slow":
            self.ens.netem(f["peer"], "off")
        elif kind == "clock_jump" and not f.get("skipped"):
            self.disk_control(f["resolved"], None, "clock-offset.ctl")
        elif kind in ("disk_stall", "disk_eio") and not f.get("skipped"):
            self.disk_control(f["resolved"], None)
            if kind == "disk_eio":
                # A storage whose fsync failed stops acknowledging (its log's
                # first error is sticky); the operator's answer is a restart.
                self.restart(f"storage.{f['resolved']}")

    def heal_everything(self):
        """Every link healed and back to normal, every process running."""
        self.ens.heal("all")
        for sid in range(1, self.peers + 1):
            self.ens.netem(sid, "off")
            self.disk_control(sid, None)
            self.disk_control(sid, None, "clock-offset.ctl")
        restarted = []
        for name, p in sorted(self.ens.state["procs"].items()):
            if not rh.alive(p.get("pid")):
                # Every fault restarts what it killed: a process dead now died
                # on its own (or its restart failed). Show why, then restart.
                try:
                    with open(p["log"], errors="replace") as fh:
                        tail = fh.readlines()[-6:]
                except OSError:
                    tail = []
                restarted.append((name, "".join("      " + t for t in tail).rstrip()))
                self.restart(name)
        return restarted


def plan_round(rng, peers, gateways, round_seconds):
    """1-3 faults: kind, targets, start (s into the round), duration."""
    faults = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.choice(KINDS)
        start = rng.uniform(0.5, max(0.6, round_seconds * 0.6))
        duration = rng.uniform(1.0, max(1.1, min(4.0, round_seconds - start - 1.0)))
        a, b = rng.sample(range(1, peers + 1), 2)
        f = {"kind": kind, "start": round(start, 2), "duration": round(duration, 2),
             "peer": a, "other": b, "leader": rng.random() < 0.5}
        if kind == "kill_process":
            role = rng.choice(["storage", "replication", "election", "gateway"])
            f["process"] = (f"gateway.{rng.randint(1, gateways)}" if role == "gateway"
                            else f"{role}.{a}")
        elif kind == "slow":
            f["delay_ms"] = rng.choice([20, 50, 100, 200])
            f["loss"] = rng.choice([1, 5, 10, 20])
        elif kind == "disk_stall":
            f["delay_ms"] = rng.choice([100, 300, 1000])
        elif kind == "clock_jump":
            f["offset_s"] = rng.choice([-86400, -3600, -300, -30, 30, 300, 3600, 86400])
        faults.append(f)
    return faults


def run_schedule(faults_api, plan, round_seconds, injected, stop_at):
    """Runs the round's schedule (inject at start, undo at start+duration);
    returns the descriptions of what was done."""
    events = []
    for i, f in enumerate(plan):
        events.append((f["start"], 1, i))
        events.append((f["start"] + f["duration"], 0, i))
    events.sort()
    t0 = time.monotonic()
    done = []
    active = set()
    for at, is_inject, i in events:
        delay = t0 + at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        f = plan[i]
        try:
            if is_inject:
                what = faults_api.inject(f)
                if not f.get("skipped"):
                    active.add(i)
                    injected[f["kind"]] += 1
                done.append(f"+{at:.1f}s {what}")
            elif i in active:
                faults_api.undo(f)
                active.discard(i)
                done.append(f"+{at:.1f}s undo {f['kind']}")
        except (RuntimeError, subprocess.CalledProcessError) as e:
            done.append(f"+{at:.1f}s {f['kind']} failed: {e}")
    rest = t0 + round_seconds - time.monotonic()
    if rest > 0:
        time.sleep(min(rest, max(0.0, stop_at - time.monotonic())))
    return done


# --- checks ----------------------------------------------------------------------


def wait_agreement(ens, log_fn):
    """(leader, epoch) once every peer serves under one leader and epoch, or
    None after AGREEMENT_TIMEOUT (an anomaly: the faults are all healed)."""
    try:
        return rh.wait_agreement(ens, timeout=AGREEMENT_TIMEOUT)
    except AssertionError as e:
        log_fn(f"  NO AGREEMENT: {str(e)[:1500]}")
        return None


def check_uniques(ens, gateways, uniques):
    """{gateway: (lost, phantom)} for every gateway; None when a gateway could
    not be read."""
    with uniques.lock:
        acked = set(uniques.acked_set)
        unknown = set(uniques.unknown_set)
    out = {}
    for gid in range(1, gateways + 1):
        address = ens.state["procs"][f"gateway.{gid}"]["client"]
        zk = None
        try:
            zk = rh.retry(lambda: rh.client(address, connect_timeout=10.0), 30.0,
                          f"connect to gateway.{gid}")
            children = rh.synced_children(zk, UNIQUE, timeout=30.0)
            full = {f"{UNIQUE}/{c}" for c in children}
            out[gid] = (sorted(acked - full), sorted(full - acked - unknown))
        except AssertionError as e:
            out[gid] = None
            log(f"  gateway.{gid} unreadable: {e}")
        finally:
            if zk is not None:
                rh.close_bounded([zk])
    return out, len(acked)


# --- the campaign ------------------------------------------------------------------


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--round-seconds", type=float, default=8.0)
    ap.add_argument("--peers", type=int, default=5)
    ap.add_argument("--gateways", type=int, default=3)
    ap.add_argument("--time-budget-s", type=float, default=240.0,
                    help="no round starts once it could not end within the budget")
    ap.add_argument("--keep", action="store_true", help="keep the data folder and logs")
    ap.add_argument("--check-timeout-s", type=float, default=60.0)
    ap.add_argument("--skip-kinds", default="", metavar="KIND,...",
                    help="draw these faults (the schedule stays the seed's) but do not inject "
                         f"them; kinds: {','.join(KINDS)}")
    args = ap.parse_args()
    unknown_kinds = [k for k in args.skip_kinds.split(",") if k and k not in KINDS]
    if unknown_kinds:
        ap.error(f"unknown fault kinds {unknown_kinds}; kinds: {','.join(KINDS)}")

    if os.geteuid() != 0:
        log("fault campaign: needs root (network namespaces); skipped")
        return 77
    if args.keep:
        os.environ["ENSEMBLE_KEEP_DATA"] = "1"
    started = time.monotonic()
    budget_end = started + args.time_budget_s
    # SIGALRM/SIGTERM become exceptions so that the finally below cleans up.
    rh.setup_module_guard(args.time_budget_s + 60)

    rng = random.Random(args.seed)
    shim = find_shim()
    if shim:
        # tools/ensemble-local passes its environment on to every process;
        # the shim acts in ensemble-* servers only.
        os.environ["LD_PRELOAD"] = shim
    log(f"fault campaign: seed {args.seed}, {args.rounds} rounds of {args.round_seconds}s, "
        f"{args.peers} peers, {args.gateways} gateways, budget {args.time_budget_s}s, "
        f"bin {rh.BIN}")
    injected = collections.Counter()
    totals = collections.Counter()
    anomalies = []
    uniques = Uniques()
    ens = None
    rounds_done = 0
    try:
        try:
            ens = rh.start(peers=args.peers, gateways=args.gateways)
            leader, epoch = rh.wait_agreement(ens, timeout=AGREEMENT_TIMEOUT)
        except Exception as e:
            log(f"fault campaign: could not start the ensemble: {e}")
            if ens is not None:
                log(rh.log_excerpt(ens, rh.sids(ens)))
            return 2
        log(f"ensemble up in {ens.data}: leader {leader}, epoch {epoch}")
        rh.ensure_path(rh.gateway_of(ens, 1), UNIQUE)
        skip = [k for k in args.skip_kinds.split(",") if k]
        faults_api = Faults(ens, args.peers, args.gateways, shim, skip)
        if not shim:
            log(f"no disk-fault shim ({SHIM_NAME} in {rh.BIN}/lib or "
                f"$ENSEMBLE_FAULT_SHIM): disk faults and clock jumps are skipped")
        if not faults_api.netem_delay:
            log("no sch_netem in this kernel: slow links are emulated as loss only")
        round_cost = args.round_seconds + 30.0
        for round_no in range(1, args.rounds + 1):
            if time.monotonic() + round_cost > budget_end:
                log(f"time budget reached before round {round_no}")
                break
            plan = plan_round(rng, args.peers, args.gateways, args.round_seconds)
            n_clients = rng.randint(4, 6)
            client_seeds = [rng.randrange(1 << 30) for _ in range(n_clients)]
            rec = lz.Recorder()
            stop = threading.Event()
            workers = []
            for n in range(n_clients):
                address = ens.state["procs"][f"gateway.{n % args.gateways + 1}"]["client"]
                workers.append(Worker(n, round_no, address, rec, stop, client_seeds[n], uniques))
            for w in workers:
                w.start()
            time.sleep(0.5)
            done = run_schedule(faults_api, plan, args.round_seconds, injected, budget_end)
            stop.set()
            for w in workers:
                w.join(OP_TIMEOUT * 2 + 5)
            stuck_workers = sum(w.is_alive() for w in workers)
            rh.close_bounded([zk for w in workers for zk in w.clients], 5.0)
            restarted = faults_api.heal_everything()
            agreed = wait_agreement(ens, log)
            history = rec.history()
            answered = sum(1 for op in history if op["complete"] is not None)
            log(f"round {round_no}: faults: {'; '.join(done)}")
            for name, tail in restarted:
                totals["died"] += 1
                log(f"  {name} was found dead after the round (restarted); its log ends:\n{tail}")
            if stuck_workers:
                anomalies.append(f"round {round_no}: {stuck_workers} clients never returned")
            if agreed is None:
                anomalies.append(f"round {round_no}: no agreement {AGREEMENT_TIMEOUT}s after "
                                 f"healing")
                log(rh.log_excerpt(ens, rh.sids(ens)))
                rounds_done = round_no
                break
            per_gateway, n_acked = check_uniques(ens, args.gateways, uniques)
            acked_before, totals["acked_seen"] = totals["acked_seen"], n_acked
            for gid, res in per_gateway.items():
                if res is None:
                    anomalies.append(f"round {round_no}: gateway.{gid} could not be read")
                    continue
                lost, phantom = res
                if lost:
                    totals["lost"] = max(totals["lost"], len(lost))
                    anomalies.append(f"round {round_no}: gateway.{gid} misses {len(lost)} "
                                     f"acknowledged creates, e.g. {lost[:5]}")
                if phantom:
                    anomalies.append(f"round {round_no}: gateway.{gid} lists {len(phantom)} "
                                     f"creates nobody made, e.g. {phantom[:5]}")
            result = lz.check(history, timeout=args.check_timeout_s)
            checked = len(history) if result.status is True else 0
            totals["recorded"] += len(history)
            totals["answered"] += answered
            totals["checked"] += checked
            if result.status is False:
                path = os.path.join(tempfile.gettempdir(),
                                    f"fault-campaign-seed{args.seed}-round{round_no}.jsonl")
                rec.dump(path)
                anomalies.append(f"round {round_no}: NOT linearizable (history in {path}): "
                                 f"{result.summary()[:3000]}")
            elif result.status is None:
                totals["unknown_rounds"] += 1
                log(f"  checker bound reached: {result.summary()[:300]}")
            log(f"  ops recorded {len(history)} (answered {answered}), ops checked {checked}, "
                f"unique creates acknowledged {n_acked - acked_before} (checked on every gateway: "
                f"{n_acked} so far), sessions replaced "
                f"{sum(w.replaced for w in workers)}, leader {agreed[0]} epoch {agreed[1]}")
            rounds_done = round_no
    except BaseException as e:  # Deadline, SIGTERM: report, then clean up
        anomalies.append(f"campaign aborted: {type(e).__name__}: {e}")
        if ens is not None:
            try:
                log(rh.log_excerpt(ens, rh.sids(ens)))
            except Exception:
                pass
    finally:
        if ens is not None:
            if anomalies or args.keep:
                try:
                    log(f"logs kept in {rh.keep_logs(ens)}")
                except Exception:
                    pass
            ens.stop()
        # The guard must not fire after cleanup.
        import signal
        signal.alarm(0)

    with uniques.lock:
        n_acked, n_unknown = len(uniques.acked_set), len(uniques.unknown_set)
    log("")
    log(f"rounds: {rounds_done}")
    log("faults injected: " + (", ".join(f"{k} {injected[k]}" for k in KINDS if injected[k])
                               or "none") + f" (total {sum(injected.values())})")
    log(f"operations recorded: {totals['recorded']} (answered {totals['answered']}), "
        f"checked: {totals['checked']}")
    log(f"unique creates: {n_acked} acknowledged, {n_unknown} unknown outcome")
    log(f"lost acknowledged writes: {totals['lost']}")
    log(f"rounds the checker could not decide: {totals['unknown_rounds']}")
    log(f"processes found dead after a round (not counted as anomalies): {totals['died']}")
    lin = sum(1 for a in anomalies if "NOT linearizable" in a)
    log(f"linearizability anomalies: {lin}")
    log(f"anomalies: {len(anomalies)}")
    for a in anomalies:
        log(f"  ANOMALY {a}")
    log(f"elapsed {time.monotonic() - started:.0f}s")
    return 1 if anomalies else 0


if __name__ == "__main__":
    sys.exit(main())
