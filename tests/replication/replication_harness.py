"""Helpers for the replicated-ensemble tests: each peer in its own network
namespace (tools/ensemble-local --netns), kazoo clients on the gateways, a
bounded write load that records every acknowledged write, and comparisons of
what every peer serves.

Every module calls setup_module_guard() first: it turns SIGTERM/SIGINT and an
overall deadline (below ctest's TIMEOUT) into exceptions, so that the
ensembles' stop() (try/finally and atexit) always runs, namespaces included.
"""

import json
import logging
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "integration"))
sys.path.insert(0, os.path.join(os.path.dirname(HERE), "linearizability"))

from ensemble_harness import BIN, Ensemble, wait_until  # noqa: E402

from kazoo.client import KazooClient  # noqa: E402
from kazoo.retry import KazooRetry  # noqa: E402
from kazoo.exceptions import NodeExistsError, NoNodeError  # noqa: E402
from kazoo.handlers.threading import KazooTimeoutError  # noqa: E402

CTL = os.path.join(BIN, "bin", "ensemblectl")

# kazoo logs every dropped connection; the tests provoke hundreds.
logging.basicConfig(level=logging.ERROR)
logging.getLogger("kazoo").setLevel(logging.ERROR)

# Small ticks so that elections and fail-over are quick; sessions long enough to
# survive every fault a test injects (the gateway clamps to maxSessionTimeout).
TICK_MS = 200
SETTINGS = ("maxSessionTimeout=60000",)
SESSION_TIMEOUT_S = 30.0
OP_TIMEOUT_S = 8.0  # one client operation, bounded


class Deadline(Exception):
    pass


def setup_module_guard(seconds):
    """Raises Deadline in the main thread after `seconds` and SystemExit on
    SIGTERM/SIGINT, so try/finally and atexit clean up before ctest kills us."""

    def on_alarm(*_):
        raise Deadline(f"test module ran longer than {seconds}s")

    def on_term(signum, _):
        raise SystemExit(f"signal {signum}")

    signal.signal(signal.SIGALRM, on_alarm)
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(int(seconds))


def require_root(testcase):
    if os.geteuid() != 0:
        testcase.skipTest("network namespaces need root")
    if subprocess.run(["ip", "netns", "list"], capture_output=True).returncode != 0:
        testcase.skipTest("ip netns unavailable")


def start(peers, gateways=None, observers=0, settings=(), tick_ms=TICK_MS):
    """A netns ensemble; by default one gateway per peer, gateway k homed on
    peer k."""
    total = peers + observers
    return Ensemble(peers=peers, observers=observers, gateways=gateways or total,
                    tick_ms=tick_ms, settings=SETTINGS + tuple(settings), netns=True, wait=90)


def alive(pid):
    """Whether pid runs (a zombie counts as dead)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


# --- status ------------------------------------------------------------------


def ctl_status(address, timeout_ms=2000):
    """ensemblectl status -o json of one endpoint, or None if it does not answer."""
    try:
        r = subprocess.run([CTL, "status", "--endpoints", address, "-o", "json", "--timeout-ms",
                            str(timeout_ms)], capture_output=True, text=True,
                           timeout=timeout_ms / 1000 + 5)
    except subprocess.TimeoutExpired:
        return None
    if r.returncode != 0:
        return None
    try:
        return json.loads(r.stdout)
    except ValueError:
        return None


def sids(ens):
    st = ens.state
    return list(range(1, st["peers"] + st["observers"] + 1))


def voters(ens):
    return list(range(1, ens.state["peers"] + 1))


def replication_status(ens, sid):
    return ctl_status(ens.grpc(f"replication.{sid}"))


def storage_status(ens, sid):
    return ctl_status(ens.grpc(f"storage.{sid}"))


def agreement(ens, among):
    """(leader, epoch) if every peer in `among` serves under one leader and
    epoch, with exactly one of them leading; else None."""
    leaders, epochs, leading = set(), set(), []
    for sid in among:
        s = replication_status(ens, sid)
        if s is None or s.get("details", {}).get("serving") != "true":
            return None
        role = s.get("role")
        if role not in ("leading", "following", "observing"):
            return None
        if role == "leading":
            leading.append(sid)
        leaders.add(int(s.get("leader", 0)))
        epochs.add(int(s["header"]["epoch"]))
    if len(leaders) != 1 or len(epochs) != 1 or len(leading) != 1:
        return None
    leader = leaders.pop()
    if leading[0] != leader:
        return None
    return leader, epochs.pop()


def wait_agreement(ens, among=None, timeout=30.0, not_leader=None):
    """Waits until `among` (default every peer) agree on one leader and epoch;
    returns (leader, epoch). not_leader: a sid that must not be the leader."""
    among = sids(ens) if among is None else list(among)
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        last = agreement(ens, among)
        if last and last[0] != not_leader:
            return last
        time.sleep(0.1)
    detail = {sid: replication_status(ens, sid) for sid in among}
    raise AssertionError(f"no agreement among {among} within {timeout}s: "
                         f"{json.dumps(detail)[:3000]}")


def gateway_of(ens, sid):
    """The client address of the gateway homed on peer sid."""
    for name, p in sorted(ens.state["procs"].items()):
        if "client" in p and p.get("home") == sid:
            return p["client"]
    raise KeyError(f"no gateway homed on peer {sid}")


def log_lines(ens, sid, pattern, process="replication"):
    path = os.path.join(ens.data, f"peer{sid}", f"{process}.log")
    try:
        with open(path, errors="replace") as f:
            return [line.rstrip("\n") for line in f if re.search(pattern, line)]
    except FileNotFoundError:
        return []


def keep_logs(ens):
    """Copies the ensemble's logs and state (not its data) to a folder that
    outlives the test, for a failure's post-mortem; returns its path."""
    import shutil
    dest = tempfile.mkdtemp(prefix="ensemble-failed-",
                            dir=os.environ.get("ENSEMBLE_TEST_LOGS") or None)
    for root, _, files in os.walk(ens.data):
        for f in files:
            if f.endswith(".log") or f in ("ensemble.json", "zoo.cfg"):
                rel = os.path.relpath(os.path.join(root, f), ens.data)
                os.makedirs(os.path.join(dest, os.path.dirname(rel)), exist_ok=True)
                shutil.copy(os.path.join(root, f), os.path.join(dest, rel))
    return dest


def log_excerpt(ens, sids_, pattern=r"zab\.|replication\.(role|election|following)", tail=25):
    out = [f"logs kept in {keep_logs(ens)}"]
    for sid in sids_:
        lines = log_lines(ens, sid, pattern)
        out.append(f"--- peer{sid}/replication.log (matching, last {tail})")
        out += lines[-tail:]
    return "\n".join(out)


# --- clients -----------------------------------------------------------------


def client(address, timeout=SESSION_TIMEOUT_S, connect_timeout=20.0):
    """A started kazoo client on one gateway. Retries of the connection are
    bounded; operations are not retried (callers see every failure)."""
    zk = KazooClient(hosts=address, timeout=timeout,
                     connection_retry=KazooRetry(max_tries=-1, delay=0.05, max_delay=0.5),
                     command_retry=None)
    zk.start(timeout=connect_timeout)
    return zk


def close(*clients):
    for zk in clients:
        try:
            zk.stop()
            zk.close()
        except Exception:
            pass


def close_bounded(clients, seconds=5.0):
    """Closes clients in parallel, waiting at most `seconds` in all (a session
    whose closeSession is never answered is left to the gateway to drop)."""
    threads = [threading.Thread(target=close, args=(zk,), daemon=True) for zk in clients]
    for t in threads:
        t.start()
    deadline = time.time() + seconds
    for t in threads:
        t.join(max(0.0, deadline - time.time()))


def abandon(zk):
    """Closes a client whose session may be stuck (a closeSession that is never
    answered would block stop() for the read timeout) without waiting."""
    threading.Thread(target=close, args=(zk,), daemon=True).start()


def sync(zk, path="/", timeout=OP_TIMEOUT_S):
    return zk.sync_async(path).get(timeout=timeout)


def retry(fn, timeout=30.0, what="operation"):
    """Calls fn until it returns without raising (connection losses while a
    fail-over settles), bounded by `timeout`."""
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        try:
            return fn()
        except (NoNodeError, NodeExistsError):
            raise
        except Exception as e:  # ConnectionLoss, timeouts, session moved...
            last = e
            time.sleep(0.2)
    raise AssertionError(f"{what} did not succeed within {timeout}s: {last!r}")


def synced_children(zk, path, timeout=30.0):
    def go():
        sync(zk, path)
        return set(zk.get_children_async(path).get(timeout=OP_TIMEOUT_S))

    return retry(go, timeout, f"sync+get_children {path}")


def fingerprint(zk, root="/", skip=("/zookeeper",)):
    """Every znode under root (after a sync): path -> (data, version, cversion,
    numChildren, czxid, mzxid, pzxid, ephemeralOwner)."""
    sync(zk, root)
    out = {}
    stack = [root]
    while stack:
        path = stack.pop()
        if path in skip:
            continue
        data_async = zk.get_async(path)
        children_async = zk.get_children_async(path)
        data, stat = data_async.get(timeout=OP_TIMEOUT_S)
        children = children_async.get(timeout=OP_TIMEOUT_S)
        out[path] = (data, stat.version, stat.cversion, stat.numChildren, stat.czxid,
                     stat.mzxid, stat.pzxid, stat.ephemeralOwner)
        for c in children:
            stack.append(path.rstrip("/") + "/" + c)
    return out


def fingerprints_by_peer(ens, among=None, root="/"):
    """{sid: fingerprint} read through the gateway homed on each peer."""
    result = {}
    for sid in (sids(ens) if among is None else among):
        zk = client(gateway_of(ens, sid))
        try:
            result[sid] = retry(lambda: fingerprint(zk, root), 60.0, f"fingerprint of peer {sid}")
        finally:
            close(zk)
    return result


def assert_same_tree(testcase, ens, among=None, root="/"):
    fps = fingerprints_by_peer(ens, among, root)
    first_sid = min(fps)
    first = fps[first_sid]
    for sid, fp in fps.items():
        if fp != first:
            only_a = sorted(set(first) - set(fp))[:10]
            only_b = sorted(set(fp) - set(first))[:10]
            differ = sorted(p for p in set(first) & set(fp) if first[p] != fp[p])[:10]
            testcase.fail(f"peer {sid} serves another tree than peer {first_sid}: "
                          f"only on {first_sid}: {only_a}; only on {sid}: {only_b}; "
                          f"different: {[(p, first[p], fp[p]) for p in differ]}")
    return first


def wait_same_storage(testcase, ens, among=None, timeout=30.0):
    """Waits until every storage in `among` reports the same znode count and
    last applied zxid; returns (znodes, zxid)."""
    among = sids(ens) if among is None else among
    deadline = time.time() + timeout
    seen = {}
    while time.time() < deadline:
        seen = {}
        for sid in among:
            s = storage_status(ens, sid)
            seen[sid] = (int(s["details"]["znodes"]), int(s["details"]["last_applied_zxid"])) \
                if s else None
        if None not in seen.values() and len(set(seen.values())) == 1:
            return next(iter(seen.values()))
        time.sleep(0.2)
    testcase.fail(f"storages never agreed on (znodes, last applied zxid): {seen}")


# --- load --------------------------------------------------------------------


class WriteLoad:
    """Client threads creating /<prefix>/c<client>-<n> through the given gateways
    (one kazoo client each), bounded by max_per_client and a deadline. Records
    every acknowledged create and every create whose outcome is unknown.

    A create that gets no answer at all within OP_TIMEOUT_S while the client
    stays connected (no ConnectionLoss either) is recorded in `hung` (tests
    assert it stays empty); with replace_hung the thread then abandons that
    session and goes on with a new client on the same gateway."""

    def __init__(self, addresses, prefix="/load", max_per_client=2000, seconds=60.0,
                 payload=b"x" * 32, pause=0.0, replace_hung=False):
        self.addresses = list(addresses)
        self.prefix = prefix
        self.max_per_client = max_per_client
        self.seconds = seconds
        self.payload = payload
        self.pause = pause
        self.replace_hung = replace_hung
        self.hung = []  # (path, seconds after start)
        self.started_at = time.monotonic()
        self.acked = set()
        self.unknown = set()
        self.errors = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.threads = []
        self.clients = []
        self.ack_times = []  # (invoked, acknowledged), time.monotonic()

    def start(self):
        for i, address in enumerate(self.addresses):
            zk = client(address)
            self.clients.append(zk)
            t = threading.Thread(target=self._run, args=(i, zk), daemon=True)
            self.threads.append(t)
        for t in self.threads:
            t.start()
        return self

    def _run(self, i, zk):
        deadline = time.time() + self.seconds
        n = 0
        while n < self.max_per_client and time.time() < deadline and not self.stop_event.is_set():
            path = f"{self.prefix}/c{i}-{n:06d}"
            n += 1
            invoked = time.monotonic()
            try:
                zk.create_async(path, self.payload).get(timeout=OP_TIMEOUT_S)
                with self.lock:
                    self.acked.add(path)
                    self.ack_times.append((invoked, time.monotonic()))
            except NodeExistsError:
                # A retried create of ours: it was written (we never retry, so
                # this cannot happen; recorded as an error).
                with self.lock:
                    self.errors.append((path, "NodeExists"))
            except KazooTimeoutError as e:
                with self.lock:
                    self.unknown.add(path)
                    self.errors.append((path, type(e).__name__))
                    if zk.connected:
                        self.hung.append((path, round(time.monotonic() - self.started_at, 2)))
                if self.replace_hung and zk.connected and not self.stop_event.is_set():
                    abandon(zk)
                    try:
                        zk = client(self.addresses[i])
                    except Exception as e2:
                        with self.lock:
                            self.errors.append((path, "reconnect " + type(e2).__name__))
                        return
                    with self.lock:
                        self.clients.append(zk)
            except Exception as e:
                with self.lock:
                    self.unknown.add(path)
                    self.errors.append((path, type(e).__name__))
                time.sleep(0.05)
            if self.pause:
                time.sleep(self.pause)

    def first_ack_invoked_after(self, t):
        """Seconds from t to the first acknowledgement of a write invoked after t."""
        with self.lock:
            acks = [a for i, a in self.ack_times if i >= t]
        return min(acks) - t if acks else None

    def acked_count(self):
        with self.lock:
            return len(self.acked)

    def wait_acked(self, count, timeout=30.0):
        wait_until(lambda: self.acked_count() >= count, timeout=timeout,
                   what=f"{count} acknowledged writes")

    def stop(self, timeout=30.0):
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout)
        with self.lock:
            clients, self.clients = self.clients, []
        close_bounded(clients)
        return self

    def running(self):
        return any(t.is_alive() for t in self.threads)


def ensure_path(address, path):
    zk = client(address)
    try:
        retry(lambda: zk.ensure_path(path), 30.0, f"ensure_path {path}")
    finally:
        close(zk)


def assert_all_acked_present(testcase, ens, load, among=None):
    """Every acknowledged write of `load` is served by every peer's gateway,
    and all peers list the same children."""
    seen = {}
    for sid in (sids(ens) if among is None else among):
        zk = client(gateway_of(ens, sid))
        try:
            children = synced_children(zk, load.prefix, timeout=60.0)
        finally:
            close(zk)
        full = {f"{load.prefix}/{c}" for c in children}
        lost = load.acked - full
        testcase.assertFalse(lost, f"peer {sid} lost {len(lost)} acknowledged writes, "
                                   f"e.g. {sorted(lost)[:5]}")
        phantom = full - load.acked - load.unknown
        testcase.assertFalse(phantom, f"peer {sid} has writes nobody made: {sorted(phantom)[:5]}")
        seen[sid] = full
    first = next(iter(seen.values()))
    for sid, full in seen.items():
        testcase.assertEqual(full, first, f"peer {sid} lists other children of {load.prefix}")
    return first
