"""Limits that protect the service (docs/reliability.md, "Limits"), each against
a real local Ensemble (real processes, kazoo and raw sockets), with bounded
loops:

  - jute.maxbuffer: an oversized request frame or znode data closes that
    connection with a log line; a reply over it is sent whole (as ZooKeeper
    3.8, checked side by side with Debian's ZooKeeper started with the same
    -Djute.maxbuffer);
  - globalOutstandingLimit: many async creates from several sessions all
    succeed while the gateway throttles (a metric and a log line say so);
  - ensemble.maxOutstandingPerConnection: one pipelining connection is paused,
    never refused;
  - ensemble.maxWatchesPerSession: one watch too many is refused with
    ZOPERATIONTIMEOUT and sets nothing;
  - ensemble.maxSendQueueBytes: a client that never reads its replies does not
    grow the gateway's memory, and is dropped after its session timeout, while
    other clients keep being served.

(maxClientCnxns per client address is tested in test_bad_input.py.)"""

import os
import re
import socket
import struct
import time
import unittest
import urllib.request

from kazoo.client import KazooClient
from kazoo.exceptions import ConnectionLoss, OperationTimeoutError
from kazoo.retry import KazooRetry

from ensemble_harness import Ensemble, wait_until
from zk_reference import ReferenceZooKeeper

SMALL_MAXBUFFER = 10000


def metric(ensemble, proc, name, labels=""):
    """The value of one sample on the process's /metrics (0 if absent)."""
    url = f"http://{ensemble.metrics(proc)}/metrics"
    with urllib.request.urlopen(url, timeout=5) as r:
        text = r.read().decode()
    pattern = re.compile(r"^" + re.escape(name) + (re.escape("{" + labels + "}") if labels else "")
                         + r" ([0-9.e+]+)$", re.M)
    m = pattern.search(text)
    return float(m.group(1)) if m else 0.0


def gateway_log(ensemble, gid=1):
    with open(os.path.join(ensemble.data, f"gateway{gid}", "gateway.log"), errors="replace") as f:
        return f.read()


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def client(hosts, timeout=10.0):
    # kazoo's calls do not retry by themselves: a dropped connection surfaces
    # as ConnectionLoss; RETRY retries on a reconnected session.
    zk = KazooClient(hosts=hosts, timeout=timeout)
    zk.start(timeout=30)
    return zk


RETRY = KazooRetry(max_tries=100, delay=0.1, max_delay=1.0)


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def connect_request(timeout_ms):
    return frame(struct.pack(">iqiqi", 0, 0, timeout_ms, 0, 16) + b"\0" * 16 + b"\0")


def get_data_request(xid, path):
    p = path.encode()
    return frame(struct.pack(">ii", xid, 4) + struct.pack(">i", len(p)) + p + b"\0")


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def closed_by_peer(sock, timeout=10.0):
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(1 << 20):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def maxbuffer_behaviour(hosts):
    """What a server does with data just under / over jute.maxbuffer=10000 and
    with a reply far over it. Returns a dict of outcomes."""
    zk = client(hosts)
    retry = RETRY.copy()
    out = {}
    try:
        zk.create("/small", b"x" * 9000)
        out["create 9000"] = "ok"
        try:
            zk.create("/big", b"x" * 12000)
            out["create 12000"] = "ok"
        except ConnectionLoss:
            out["create 12000"] = "connection closed"
        retry(zk.exists, "/small")  # reconnected, the session lives on
        out["big exists"] = retry(zk.exists, "/big") is not None
        try:
            zk.set("/small", b"y" * 12000)
            out["set 12000"] = "ok"
        except ConnectionLoss:
            out["set 12000"] = "connection closed"
        out["small data"] = len(retry(zk.get, "/small")[0])
        # A reply over the limit: 1000 children of 20-byte names (~24 KB).
        retry(zk.create, "/wide")
        for i in range(1000):
            retry(zk.create, "/wide/child-%014d" % i)
        out["children"] = len(retry(zk.get_children, "/wide"))
        out["connected after"] = zk.connected
    finally:
        zk.stop()
        zk.close()
    return out


class JuteMaxBufferTest(unittest.TestCase):
    """jute.maxbuffer=10000, maxWatchesPerSession=3, maxOutstandingPerConnection=5."""

    @classmethod
    def setUpClass(cls):
        cls.ensemble = Ensemble(peers=1, gateways=1, settings=[
            f"jute.maxbuffer={SMALL_MAXBUFFER}", "ensemble.maxWatchesPerSession=3",
            "ensemble.maxOutstandingPerConnection=5"])
        cls.hosts = cls.ensemble.hosts()

    @classmethod
    def tearDownClass(cls):
        cls.ensemble.stop()

    def test_maxbuffer_as_zookeeper(self):
        ours = maxbuffer_behaviour(self.hosts)
        expected = {"create 9000": "ok", "create 12000": "connection closed",
                    "big exists": False, "set 12000": "connection closed", "small data": 9000,
                    "children": 1000, "connected after": True}
        self.assertEqual(ours, expected)
        self.assertIn("bad frame from client", gateway_log(self.ensemble))
        with ReferenceZooKeeper(jvm_flags=[f"-Djute.maxbuffer={SMALL_MAXBUFFER}"]) as zk:
            self.assertEqual(maxbuffer_behaviour(zk.address), expected)

    def test_oversized_frame_on_a_raw_socket(self):
        host, port = self.hosts.split(",")[0].rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as s:
            s.sendall(connect_request(10000))
            self.assertIsNotNone(recv_exactly(s, 4))
            s.sendall(struct.pack(">i", SMALL_MAXBUFFER + 1) + b"\0" * 64)
            self.assertTrue(closed_by_peer(s))

    def test_max_watches_per_session(self):
        zk = client(self.hosts)
        try:
            for p in ("/w1", "/w2", "/w3", "/w4"):
                zk.ensure_path(p)
            fired = []  # kazoo calls a path's watch function once per event
            zk.get("/w1", watch=fired.append)
            zk.exists("/w2", watch=fired.append)
            zk.get_children("/w3", watch=fired.append)
            # The same watch again costs nothing; reads without a watch are free.
            zk.exists("/w1", watch=fired.append)
            zk.get("/w4")
            before = metric(self.ensemble, "gateway.1", "ensemble_gateway_watches_refused_total")
            with self.assertRaises(OperationTimeoutError):
                zk.get("/w4", watch=fired.append)
            with self.assertRaises(OperationTimeoutError):
                zk.exists("/missing", watch=fired.append)
            self.assertEqual(
                metric(self.ensemble, "gateway.1", "ensemble_gateway_watches_refused_total"),
                before + 2)
            # The refused watch was not set: a change of /w4 fires nothing.
            other = client(self.hosts)
            try:
                other.set("/w4", b"changed")
                other.set("/w1", b"changed")
            finally:
                other.stop()
                other.close()
            wait_until(lambda: len(fired) >= 1, what="the watch on /w1")
            time.sleep(0.5)
            self.assertEqual({e.path for e in fired}, {"/w1"})
            # /w1's watch fired: there is room for one more.
            zk.get("/w4", watch=fired.append)
            self.assertIn("gateway.watch_refused", gateway_log(self.ensemble))
        finally:
            zk.stop()
            zk.close()

    def test_outstanding_per_connection_pauses_not_refuses(self):
        zk = client(self.hosts)
        try:
            zk.ensure_path("/pipe")
            before = metric(self.ensemble, "gateway.1", "ensemble_gateway_read_pauses_total",
                            'reason="connection_outstanding"')
            results = [zk.create_async(f"/pipe/n{i}", b"v") for i in range(200)]
            results += [zk.get_async("/pipe") for _ in range(200)]
            for r in results:
                r.get(timeout=30)  # raises on any error
            self.assertEqual(len(zk.get_children("/pipe")), 200)
            self.assertGreater(
                metric(self.ensemble, "gateway.1", "ensemble_gateway_read_pauses_total",
                       'reason="connection_outstanding"'), before)
        finally:
            zk.stop()
            zk.close()


class GlobalOutstandingLimitTest(unittest.TestCase):
    def test_throttled_creates_all_succeed(self):
        with Ensemble(peers=1, gateways=1, settings=["globalOutstandingLimit=10"]) as ensemble:
            clients = [client(ensemble.hosts()) for _ in range(4)]
            try:
                clients[0].ensure_path("/throttle")
                results = []
                for round_ in range(3):
                    for c, zk in enumerate(clients):
                        results += [zk.create_async(f"/throttle/r{round_}-c{c}-", b"x" * 100,
                                                    sequence=True) for _ in range(150)]
                for r in results:
                    r.get(timeout=60)  # no error: the clients only waited
                self.assertEqual(len(clients[0].get_children("/throttle")), 1800)
                self.assertGreater(
                    metric(ensemble, "gateway.1", "ensemble_gateway_read_pauses_total",
                           'reason="global_outstanding"'), 0)
                self.assertIn("gateway.throttling", gateway_log(ensemble))
                self.assertEqual(metric(ensemble, "gateway.1", "ensemble_gateway_throttled"), 0)
            finally:
                for zk in clients:
                    zk.stop()
                    zk.close()


class StuckClientTest(unittest.TestCase):
    """A client pipelines getData of a 20 KB znode and never reads a reply."""

    def test_memory_stays_bounded_and_the_client_is_dropped(self):
        with Ensemble(peers=1, gateways=1) as ensemble:
            zk = client(ensemble.hosts())
            try:
                zk.create("/large", os.urandom(20 * 1024))
                zk.create("/alive", b"0")
                pid = ensemble.pid("gateway.1")
                baseline = rss_kb(pid)
                host, port = ensemble.gateways()[0].rsplit(":", 1)
                stuck = socket.socket()
                stuck.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                stuck.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
                stuck.connect((host, int(port)))
                stuck.settimeout(10)
                stuck.sendall(connect_request(4000))
                header = recv_exactly(stuck, 4)
                recv_exactly(stuck, struct.unpack(">i", header)[0])
                # Pipeline requests until the gateway stops reading them (the
                # send makes no progress for 2 s): bounded by count and time.
                # Had the gateway read them all, their replies would be
                # gigabytes.
                stuck.setblocking(False)
                batch = b"".join(get_data_request(i + 1, "/large") for i in range(100))
                sent, started, last_progress = 0, time.time(), time.time()
                pending = b""
                stalled = False
                while sent < 2000000 and time.time() - started < 60:
                    if time.time() - last_progress >= 2.0:
                        stalled = True
                        break
                    if not pending:
                        pending = batch
                    try:
                        n = stuck.send(pending)
                        pending = pending[n:]
                        if not pending:
                            sent += 100
                        last_progress = time.time()
                    except BlockingIOError:
                        time.sleep(0.01)
                self.assertTrue(stalled, f"the gateway read all {sent} getData requests")
                peak = rss_kb(pid)
                # Others are served meanwhile, promptly.
                for i in range(20):
                    t0 = time.time()
                    zk.set("/alive", str(i).encode())
                    self.assertEqual(zk.get("/alive")[0], str(i).encode())
                    self.assertLess(time.time() - t0, 5.0)
                    peak = max(peak, rss_kb(pid))
                self.assertLess(peak - baseline, 200 * 1024,
                                f"gateway RSS grew {(peak - baseline) // 1024} MB "
                                f"(sent {sent} getData)")
                self.assertGreater(
                    metric(ensemble, "gateway.1", "ensemble_gateway_read_pauses_total",
                           'reason="send_queue"'), 0)
                # Blocked for its session timeout (4 s): dropped.
                wait_until(lambda: metric(ensemble, "gateway.1",
                                          "ensemble_gateway_stuck_connections_closed_total") >= 1,
                           timeout=20, what="the stuck client to be dropped")
                self.assertIn("the client read nothing", gateway_log(ensemble))
                stuck.setblocking(True)
                self.assertTrue(closed_by_peer(stuck, timeout=20))
                stuck.close()
                zk.set("/alive", b"after")
                self.assertEqual(zk.get("/alive")[0], b"after")
            finally:
                zk.stop()
                zk.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
