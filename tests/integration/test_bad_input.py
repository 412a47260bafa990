"""Bad input on the client port — garbage, a frame over jute.maxbuffer, a
request before the handshake, an unknown opcode, a half-closed socket, too
many connections from one address — closes that connection (after
ZooKeeper's reply where it gives one) while everyone else keeps being served."""

import os
import socket
import struct
import unittest

from kazoo.client import KazooClient

from ensemble_harness import Ensemble


def frame(payload):
    return struct.pack(">i", len(payload)) + payload


def connect_request(timeout_ms=10000):
    return frame(struct.pack(">iqiqi", 0, 0, timeout_ms, 0, 16) + b"\0" * 16 + b"\0")


def read_frame(sock):
    header = recv_exactly(sock, 4)
    if header is None:
        return None
    (length,) = struct.unpack(">i", header)
    return recv_exactly(sock, length)


def recv_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def closed_by_peer(sock, timeout=10.0):
    """True once the server closes the connection (EOF or reset)."""
    sock.settimeout(timeout)
    try:
        while True:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False


class BadInputTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ensemble = Ensemble(peers=1, gateways=1, settings=["maxClientCnxns=8"])
        host, port = cls.ensemble.gateways()[0].rsplit(":", 1)
        cls.address = (host, int(port))
        cls.zk = KazooClient(hosts=cls.ensemble.hosts(), timeout=10.0)
        cls.zk.start(timeout=30)
        cls.zk.ensure_path("/alive")

    @classmethod
    def tearDownClass(cls):
        cls.zk.stop()
        cls.zk.close()
        cls.ensemble.stop()

    def tearDown(self):
        # The well-behaved client is still served after every bad connection.
        self.zk.set("/alive", os.urandom(8))
        self.assertIsNotNone(self.zk.exists("/alive"))

    def open(self):
        return socket.create_connection(self.address, timeout=10)

    def handshake(self, sock):
        sock.sendall(connect_request())
        reply = read_frame(sock)
        self.assertIsNotNone(reply)
        _, timeout, session = struct.unpack(">iiq", reply[:16])
        self.assertGreater(timeout, 0)
        self.assertNotEqual(session, 0)

    def test_garbage_bytes(self):
        with self.open() as s:
            s.sendall(os.urandom(3) + b"\x00" + os.urandom(200))
            self.assertTrue(closed_by_peer(s))

    def test_frame_over_maxbuffer(self):
        with self.open() as s:
            s.sendall(struct.pack(">i", 0xfffff + 1) + b"\0" * 64)
            self.assertTrue(closed_by_peer(s))

    def test_negative_frame_length(self):
        with self.open() as s:
            s.sendall(struct.pack(">i", -5))
            self.assertTrue(closed_by_peer(s))

    def test_request_before_handshake(self):
        with self.open() as s:
            # A getData request where the ConnectRequest should be.
            path = b"/alive"
            s.sendall(frame(struct.pack(">ii", 1, 4) + struct.pack(">i", len(path)) + path +
                            b"\0"))
            self.assertTrue(closed_by_peer(s))

    def test_unknown_opcode_gets_unimplemented_then_close(self):
        with self.open() as s:
            self.handshake(s)
            s.sendall(frame(struct.pack(">ii", 7, 999)))
            reply = read_frame(s)
            self.assertIsNotNone(reply)
            xid, _, err = struct.unpack(">iqi", reply[:16])
            self.assertEqual(xid, 7)
            self.assertEqual(err, -6)  # ZUNIMPLEMENTED
            self.assertTrue(closed_by_peer(s))

    def test_half_frame_then_half_close(self):
        with self.open() as s:
            s.sendall(connect_request()[:10])
            s.shutdown(socket.SHUT_WR)
            self.assertTrue(closed_by_peer(s))

    def test_max_client_connections_per_address(self):
        socks = []
        try:
            # kazoo holds one connection; 7 more reach the limit of 8.
            for _ in range(7):
                s = self.open()
                self.handshake(s)
                socks.append(s)
            extra = self.open()
            socks.append(extra)
            extra.sendall(connect_request())
            self.assertTrue(closed_by_peer(extra))
        finally:
            for s in socks:
                s.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
