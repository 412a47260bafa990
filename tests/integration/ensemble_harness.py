"""Starts and stops a real local Ensemble for one test module.

Every process is real (storage with LevelDB on disk, replication, election,
gateway), started through tools/ensemble-local in a fresh temporary folder on
loopback ports that are free; teardown stops only the processes it started
(by pid) and removes the folder, also when the test fails.
"""

import atexit
import json
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("ENSEMBLE_BIN", os.path.join(ROOT, "build"))
LAUNCHER = os.path.join(ROOT, "tools", "ensemble-local")
ZKCLI = "/usr/share/zookeeper/bin/zkCli.sh"
CLI_MT = "/usr/lib/zookeeper/bin/cli_mt"


def _ports_free(base, peers, gateways, netns=False):
    ports = [base + g for g in range(gateways)]
    if netns:
        # Peers listen in their own namespaces; the bridge's name and subnet
        # come from the base port and must be free.
        if subprocess.run(["ip", "link", "show", f"ensbr{base}"],
                          capture_output=True).returncode == 0:
            return False
    for sid in range(1, 0 if netns else peers + 1):
        ports += [base + 1000 + 10 * sid + i for i in range(6)]
    for gid in range(1, gateways + 1):
        ports += [base + 2000 + 10 * gid, base + 2001 + 10 * gid]
    for port in ports:
        with socket.socket() as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


class Ensemble:
    """A running local ensemble. Use as a context manager or call stop()."""

    def __init__(self, peers=1, gateways=1, tick_ms=500, settings=(), extra=(), observers=0,
                 netns=False, wait=60):
        """netns=True runs each peer in its own network namespace (root only;
        see `ensemble-local --help`): then partition/heal/netem work."""
        self.data = tempfile.mkdtemp(prefix="ensemble-test-")
        rng = random.Random(os.getpid() ^ int(time.time() * 1000))
        for _ in range(50):
            base = rng.randrange(20000, 45000, 100)
            if _ports_free(base, peers + observers, gateways, netns):
                break
        else:
            raise RuntimeError("no free port range found")
        self.base_port = base
        self.netns = netns
        self._stopped = False
        atexit.register(self.stop)
        cmd = [LAUNCHER, "start", "--data", self.data, "--bin", BIN, "--peers", str(peers),
               "--gateways", str(gateways), "--base-port", str(base), "--tick-ms", str(tick_ms),
               "--wait", str(wait)] + [f"--set={kv}" for kv in settings] + list(extra)
        if observers:
            cmd += ["--observers", str(observers)]
        if netns:
            cmd.append("--netns")
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            logs = self.logs()
            self.stop()
            raise RuntimeError(f"ensemble did not start: {r.stdout}{r.stderr}\n{logs}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()

    @property
    def state(self):
        with open(os.path.join(self.data, "ensemble.json")) as f:
            return json.load(f)

    def gateways(self):
        return [p["client"] for n, p in sorted(self.state["procs"].items()) if "client" in p]

    def hosts(self):
        return ",".join(self.gateways())

    def grpc(self, name):
        return self.state["procs"][name]["grpc"]

    def metrics(self, name):
        return self.state["procs"][name]["metrics"]

    def pid(self, name):
        return self.state["procs"][name]["pid"]

    def launcher(self, *args):
        r = subprocess.run([LAUNCHER, *args, "--data", self.data], capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"ensemble-local {' '.join(args)}: {r.stdout}{r.stderr}")
        return r.stdout

    def kill(self, name):
        self.launcher("kill", name)

    def restart(self, name):
        self.launcher("restart", name)

    def leader(self):
        """The sid of the leading peer, or None."""
        r = subprocess.run([LAUNCHER, "leader", "--data", self.data], capture_output=True,
                           text=True)
        return int(r.stdout.strip()) if r.returncode == 0 else None

    def peer_ip(self, sid):
        """The peer's address: its namespace's with netns, else 127.0.0.1."""
        if not self.netns:
            return "127.0.0.1"
        return self.state["netns"]["peers"][str(sid)]["ip"]

    def partition(self, sid, link=False):
        self.launcher("partition", f"peer.{sid}", *(["--link"] if link else []))

    def isolate_from(self, a, b):
        self.launcher("isolate-from", f"peer.{a}", f"peer.{b}")

    def heal(self, sid="all"):
        self.launcher("heal", "all" if sid == "all" else f"peer.{sid}")

    def netem(self, sid, *spec):
        self.launcher("netem", f"peer.{sid}", *spec)

    def logs(self):
        out = []
        for root, _, files in os.walk(self.data):
            for f in files:
                if f.endswith(".log"):
                    path = os.path.join(root, f)
                    with open(path, errors="replace") as fh:
                        out.append(f"--- {path}\n" + "".join(fh.readlines()[-40:]))
        return "\n".join(out)

    def stop(self):
        if self._stopped:
            return
        self._stopped = True
        if os.path.exists(os.path.join(self.data, "ensemble.json")):
            subprocess.run([LAUNCHER, "stop", "--data", self.data], capture_output=True)
        if os.environ.get("ENSEMBLE_KEEP_DATA"):
            print(f"kept {self.data}")
        else:
            shutil.rmtree(self.data, ignore_errors=True)


def four_letter_word(address, word, timeout=5.0):
    host, port = address.rsplit(":", 1)
    with socket.create_connection((host, int(port)), timeout=timeout) as s:
        s.sendall(word.encode())
        chunks = []
        while True:
            data = s.recv(65536)
            if not data:
                break
            chunks.append(data)
    return b"".join(chunks).decode()


def wait_until(predicate, timeout=10.0, interval=0.05, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
