"""Starts Apache ZooKeeper 3.8 (Debian's zookeeper package) standalone on a
free loopback port, as the reference implementation for side-by-side tests."""

import atexit
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

CLASSPATH = "/etc/zookeeper/conf:/usr/share/java/zookeeper.jar"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ReferenceZooKeeper:
    def __init__(self, tick_ms=500, extra=(), jvm_flags=()):
        """extra: zoo.cfg lines; jvm_flags: Java system properties such as
        -Djute.maxbuffer=N (ZooKeeper reads that one from the JVM only)."""
        self.dir = tempfile.mkdtemp(prefix="zk-reference-")
        self.port = free_port()
        cfg = os.path.join(self.dir, "zoo.cfg")
        with open(cfg, "w") as f:
            f.write("\n".join([
                f"tickTime={tick_ms}", f"dataDir={self.dir}/data", f"clientPort={self.port}",
                "clientPortAddress=127.0.0.1", "admin.enableServer=false",
                "4lw.commands.whitelist=*", "maxClientCnxns=0", *extra]) + "\n")
        self.log = open(os.path.join(self.dir, "zookeeper.log"), "wb")
        env = dict(os.environ, JVMFLAGS="-Xmx256m")
        self.proc = subprocess.Popen(
            ["java", "-Xmx256m", *jvm_flags, "-Dzookeeper.log.dir=" + self.dir,
             "-Dzookeeper.root.logger=WARN,CONSOLE", "-cp", CLASSPATH,
             "org.apache.zookeeper.server.quorum.QuorumPeerMain", cfg],
            stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
            start_new_session=True)
        atexit.register(self.stop)
        deadline = time.time() + 60
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ZooKeeper exited; see {self.dir}/zookeeper.log")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    s.sendall(b"ruok")
                    if s.recv(4) == b"imok":
                        return
            except OSError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("ZooKeeper did not start within 60 s")

    @property
    def address(self):
        return f"127.0.0.1:{self.port}"

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
