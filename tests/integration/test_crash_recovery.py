"""Crash recovery: SIGKILL the storage process (and, in other rounds, the
whole peer) at random moments during a bounded write load, restart it, and
check that every write a client saw acknowledged is there and nothing else
is half-written. Seeded (ENSEMBLE_CRASH_SEED) and bounded in rounds and time."""

import os
import random
import threading
import time
import unittest

from kazoo.client import KazooClient
from kazoo.exceptions import KazooException
from kazoo.retry import KazooRetry

from ensemble_harness import Ensemble, wait_until

SEED = int(os.environ.get("ENSEMBLE_CRASH_SEED", "7"))
ROUNDS = int(os.environ.get("ENSEMBLE_CRASH_ROUNDS", "6"))


class Writer(threading.Thread):
    """Creates /crash/n-<i> with data str(i) until stopped; records acks."""

    def __init__(self, hosts, start_index):
        super().__init__(daemon=True)
        self.hosts = hosts
        self.index = start_index
        self.acked = []
        self.stop_flag = threading.Event()

    def run(self):
        zk = KazooClient(hosts=self.hosts, timeout=10.0,
                         connection_retry=KazooRetry(max_tries=-1, delay=0.1, max_delay=0.5))
        zk.start(timeout=30)
        try:
            deadline = time.time() + 60
            while not self.stop_flag.is_set() and time.time() < deadline:
                path = f"/crash/n-{self.index}"
                try:
                    zk.create(path, str(self.index).encode())
                    self.acked.append(self.index)
                except KazooException:
                    pass  # not acknowledged: may or may not exist afterwards
                self.index += 1
        finally:
            zk.stop()
            zk.close()


class CrashRecoveryTest(unittest.TestCase):
    def test_acknowledged_writes_survive_sigkill(self):
        rng = random.Random(SEED)
        with Ensemble(peers=1, gateways=1, tick_ms=500) as ensemble:
            hosts = ensemble.hosts()
            setup = KazooClient(hosts=hosts, timeout=10.0)
            setup.start(timeout=30)
            setup.create("/crash")
            setup.stop()
            setup.close()
            acked = []
            next_index = 0
            for round_ in range(ROUNDS):
                writer = Writer(hosts, next_index)
                writer.start()
                wait_until(lambda: len(writer.acked) > 0, timeout=60,
                           what=f"round {round_}: the first acknowledged write")
                time.sleep(rng.uniform(0.1, 1.0))
                victim = "storage.1" if round_ % 2 == 0 else "peer.1"
                ensemble.kill(victim)
                time.sleep(rng.uniform(0.0, 0.3))
                ensemble.restart(victim)
                writer.stop_flag.set()
                writer.join(90)
                self.assertFalse(writer.is_alive(), "writer did not stop")
                acked += writer.acked
                print(f"round {round_}: killed {victim}, {len(writer.acked)} writes acknowledged "
                      f"of {writer.index - next_index} attempted", flush=True)
                next_index = writer.index + 1000
            self.assertGreater(len(acked), ROUNDS, "the load should get writes through")

            check = KazooClient(hosts=hosts, timeout=10.0,
                                connection_retry=KazooRetry(max_tries=-1, delay=0.2))
            check.start(timeout=60)
            try:
                present = set(check.get_children("/crash"))
                missing = [i for i in acked if f"n-{i}" not in present]
                self.assertEqual(missing, [], f"acknowledged writes lost (seed {SEED})")
                for name in present:  # nothing half-written
                    data, _ = check.get(f"/crash/{name}")
                    self.assertEqual(data, name.split("-")[1].encode())
            finally:
                check.stop()
                check.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
