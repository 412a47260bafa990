"""The admin API through ensemblectl against a real Ensemble (3 peers, 2
gateways) with kazoo clients: sessions (storage: the replicated session table
on every peer), watches (storage: per peer, on the gateways' home peer only),
connections, drop-connection and kill-session (gateway), tables and -o json,
and the errors an operator meets (an endpoint that is down, a call the process
does not serve, an unknown session)."""

import json
import os
import socket
import subprocess
import threading
import unittest

from kazoo.client import KazooClient, KazooState

from ensemble_harness import BIN, Ensemble, wait_until

CTL = os.path.join(BIN, "bin", "ensemblectl")


def ctl(*args, timeout=30):
    return subprocess.run([CTL, *args], capture_output=True, text=True, timeout=timeout)


def ctl_json(*args):
    """One JSON object per endpoint line; fails the caller on a non-zero exit."""
    r = ctl(*args, "-o", "json")
    if r.returncode != 0:
        raise AssertionError(f"ensemblectl {' '.join(args)}: rc {r.returncode}: {r.stderr}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()]


def connect(hosts):
    zk = KazooClient(hosts=hosts, timeout=10.0)
    zk.start(timeout=30)
    return zk


def closed_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class AdminTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ensemble = Ensemble(peers=3, gateways=2, tick_ms=500)
        procs = cls.ensemble.state["procs"]
        cls.gw1, cls.gw2 = cls.ensemble.gateways()
        cls.gw1_admin = cls.ensemble.grpc("gateway.1")
        cls.gw2_admin = cls.ensemble.grpc("gateway.2")
        cls.home1 = procs["gateway.1"]["home"]  # gateway.1's home peer
        cls.storages = [cls.ensemble.grpc(f"storage.{sid}") for sid in (1, 2, 3)]

    @classmethod
    def tearDownClass(cls):
        cls.ensemble.stop()

    def sessions_on(self, endpoint):
        [reply] = ctl_json("sessions", "--endpoints", endpoint)
        return {int(s["sessionId"]): s for s in reply.get("sessions", [])}

    def test_sessions_are_listed_by_every_storage(self):
        zk = connect(self.gw1)
        try:
            sid = zk.client_id[0]
            zk.ensure_path("/adm-sessions")
            zk.create("/adm-sessions/e1", b"", ephemeral=True)
            zk.create("/adm-sessions/e2", b"", ephemeral=True)
            zk.get("/adm-sessions", watch=lambda event: None)
            for endpoint in self.storages:  # followers apply a moment later
                wait_until(lambda: self.sessions_on(endpoint).get(sid, {}).get(
                    "ephemeralCount") == 2, timeout=15, what=f"the session on {endpoint}")
                entry = self.sessions_on(endpoint)[sid]
                self.assertEqual(entry["timeoutMs"], 10000)
            home = self.ensemble.grpc(f"storage.{self.home1}")
            self.assertEqual(int(self.sessions_on(home)[sid]["watchCount"]), 1)
            # The table names the session as ZooKeeper prints it.
            r = ctl("sessions", "--endpoints", home)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("SESSION", r.stdout)
            row = [line for line in r.stdout.splitlines() if f"{sid:#x}" in line]
            self.assertEqual(len(row), 1, r.stdout)
            self.assertEqual(row[0].split()[2:], ["10000", "2", "1"])
        finally:
            zk.stop()
            zk.close()

    def test_watches_summary_by_path_and_by_session(self):
        zk = connect(self.gw1)
        try:
            sid = zk.client_id[0]
            zk.ensure_path("/adm-watches/a")
            zk.get("/adm-watches/a", watch=lambda event: None)         # data
            zk.exists("/adm-watches/missing", watch=lambda event: None)  # data
            zk.get_children("/adm-watches", watch=lambda event: None)  # child
            home = self.ensemble.grpc(f"storage.{self.home1}")
            [reply] = ctl_json("watches", "--endpoints", home, "--prefix", "/adm-watches",
                               "--by-path", "--by-session")
            self.assertEqual(int(reply["total"]), 3)
            self.assertEqual(int(reply["data"]), 2)
            self.assertEqual(int(reply["child"]), 1)
            self.assertEqual(int(reply["persistent"]), 0)
            self.assertEqual(int(reply["paths"]), 3)
            self.assertEqual(int(reply["sessions"]), 1)
            self.assertEqual([p["path"] for p in reply["byPath"]],
                             ["/adm-watches", "/adm-watches/a", "/adm-watches/missing"])
            self.assertEqual([int(s) for s in reply["byPath"][1]["sessionIds"]], [sid])
            self.assertEqual(len(reply["bySession"]), 1)
            self.assertEqual(int(reply["bySession"][0]["sessionId"]), sid)
            self.assertEqual(sorted(reply["bySession"][0]["paths"]),
                             ["/adm-watches", "/adm-watches/a", "/adm-watches/missing"])
            # Watches live on the home peer only.
            others = [e for s, e in enumerate(self.storages, 1) if s != self.home1]
            for reply in ctl_json("watches", "--endpoints", ",".join(others), "--prefix",
                                  "/adm-watches"):
                self.assertEqual(int(reply["total"]), 0, reply)
            # A fired one-shot watch is gone.
            zk.set("/adm-watches/a", b"changed")
            wait_until(lambda: int(ctl_json("watches", "--endpoints", home, "--prefix",
                                             "/adm-watches/a")[0]["total"]) == 0,
                       timeout=10, what="the fired data watch to leave the listing")
            r = ctl("watches", "--endpoints", home, "--prefix", "/adm-watches", "--by-path")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("/adm-watches/missing", r.stdout)
            self.assertIn(f"{sid:#x}", r.stdout)
        finally:
            zk.stop()
            zk.close()

    def connections(self, endpoint):
        [reply] = ctl_json("connections", "--endpoints", endpoint)
        return reply.get("connections", [])

    def test_connections_listed_and_dropped(self):
        zk = connect(self.gw1)
        try:
            sid = zk.client_id[0]
            zk.create("/adm-conn", b"x")
            local = zk._connection._socket.getsockname()
            listed = [c for c in self.connections(self.gw1_admin) if int(c["sessionId"]) == sid]
            self.assertEqual(len(listed), 1)
            conn = listed[0]
            self.assertEqual(conn["remote"], f"/127.0.0.1:{local[1]}")
            self.assertEqual(int(conn["outstanding"]), 0)
            self.assertGreaterEqual(int(conn["lastZxid"]), 1)
            self.assertTrue(0 <= int(conn["idleMs"]) < 10000, conn)
            self.assertEqual(conn["timeoutMs"], 10000)
            self.assertGreaterEqual(int(conn["packetsReceived"]), 2)
            self.assertFalse(any(int(c["sessionId"]) == sid
                                 for c in self.connections(self.gw2_admin)))
            r = ctl("connections", "--endpoints", self.gw1_admin)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"/127.0.0.1:{local[1]}", r.stdout)
            self.assertIn(f"{sid:#x}", r.stdout)

            # By session: the connection goes, the session lives on; kazoo
            # reconnects and resumes it.
            lost = threading.Event()
            zk.add_listener(lambda state: lost.set() if state == KazooState.SUSPENDED else None)
            [dropped] = ctl_json("drop-connection", "--session", hex(sid), "--endpoints",
                                 self.gw1_admin)
            self.assertEqual([int(c["sessionId"]) for c in dropped["dropped"]], [sid])
            self.assertTrue(lost.wait(10), "the client did not notice the drop")
            wait_until(lambda: zk.connected, timeout=30, what="the client to reconnect")
            self.assertEqual(zk.client_id[0], sid)
            self.assertEqual(zk.get("/adm-conn")[0], b"x")

            # By remote address, as `cons` prints it (on whichever gateway kazoo chose).
            def holder():
                for gateway in (self.gw1_admin, self.gw2_admin):
                    for c in self.connections(gateway):
                        if int(c["sessionId"]) == sid:
                            return gateway, c
                return None

            wait_until(lambda: holder() is not None, timeout=15,
                       what="the new connection to be listed")
            gateway, current = holder()
            lost.clear()
            r = ctl("drop-connection", "--remote", current["remote"], "--endpoints", gateway)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(current["remote"], r.stdout)
            self.assertTrue(lost.wait(10), "the client did not notice the second drop")
            wait_until(lambda: zk.connected, timeout=30, what="the client to reconnect again")
            self.assertEqual(zk.client_id[0], sid)

            # Nothing to drop: a clear error, exit code 1.
            r = ctl("drop-connection", "--session", "0x7777777777", "--endpoints", self.gw1_admin)
            self.assertEqual(r.returncode, 1)
            self.assertIn("not found", r.stderr)
        finally:
            zk.stop()
            zk.close()

    def test_kill_session_expires_it_everywhere(self):
        victim = connect(self.gw1)
        observer = connect(self.gw2)
        try:
            sid = victim.client_id[0]
            victim.ensure_path("/adm-kill")
            victim.create("/adm-kill/eph", b"", ephemeral=True)
            expired = threading.Event()
            victim.add_listener(lambda state: expired.set() if state == KazooState.LOST else None)
            # Through the other gateway: the closeSession reaches every gateway
            # like an expiry, and gateway 1 closes the victim's connection.
            r = ctl("kill-session", hex(sid), "--endpoints", self.gw2_admin)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn(f"session {sid:#x} closed at zxid 0x", r.stdout)
            self.assertTrue(expired.wait(20), "the client never learnt its session expired")
            wait_until(lambda: observer.exists("/adm-kill/eph") is None, timeout=10,
                       what="the killed session's ephemeral to go")
            for endpoint in self.storages:
                wait_until(lambda: sid not in self.sessions_on(endpoint), timeout=15,
                           what=f"the session to leave {endpoint}")
            # Again: it is not open any more.
            r = ctl("kill-session", hex(sid), "--endpoints", self.gw1_admin)
            self.assertEqual(r.returncode, 1)
            self.assertIn("not found", r.stderr)
            self.assertIn("is not open", r.stderr)
        finally:
            for zk in (victim, observer):
                zk.stop()
                zk.close()

    def test_errors_are_clear(self):
        down = f"127.0.0.1:{closed_port()}"
        r = ctl("sessions", "--endpoints", f"{self.storages[0]},{down}")
        self.assertEqual(r.returncode, 1)
        self.assertIn(f"ensemblectl: {down}: endpoint is down or unreachable", r.stderr)
        self.assertIn("SESSION", r.stdout)  # the endpoint that answered still printed
        r = ctl("connections", "--endpoints", self.storages[0])
        self.assertEqual(r.returncode, 1)
        self.assertIn("ListConnections is not an action of this process", r.stderr)
        self.assertIn("gateway calls", r.stderr)
        r = ctl("watches", "--endpoints", self.gw1_admin)
        self.assertEqual(r.returncode, 1)
        self.assertIn("storage calls", r.stderr)
        r = ctl("kill-session", "not-a-session", "--endpoints", self.gw1_admin)
        self.assertEqual(r.returncode, 2)
        self.assertIn("session id", r.stderr)
        r = ctl("drop-connection", "--endpoints", self.gw1_admin)
        self.assertEqual(r.returncode, 2)
        r = ctl("connections", "--endpoints", self.gw1_admin, "-o", "yaml")
        self.assertEqual(r.returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
