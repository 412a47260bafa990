"""Apache ZooKeeper's own command-line client, zkCli.sh (Java, Debian
zookeeper 3.8), and the C client's cli_mt, scripted against a real Ensemble."""

import os
import re
import subprocess
import unittest

from ensemble_harness import CLI_MT, ZKCLI, Ensemble


def zkcli(server, *command):
    env = dict(os.environ, ZOO_LOG4J_PROP="ERROR,CONSOLE", CLIENT_JVMFLAGS="-Xmx64m")
    r = subprocess.run([ZKCLI, "-server", server, *command], capture_output=True, text=True,
                       timeout=120, env=env)
    return r.returncode, r.stdout + r.stderr


class ZkCliTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.ensemble = Ensemble(peers=1, gateways=1)
        cls.server = cls.ensemble.gateways()[0]

    @classmethod
    def tearDownClass(cls):
        cls.ensemble.stop()

    def test_create_get_set_ls_stat_delete(self):
        s = self.server
        rc, out = zkcli(s, "create", "/cli", "hello")
        self.assertIn("Created /cli", out)
        rc, out = zkcli(s, "get", "/cli")
        self.assertIn("hello", out)
        rc, out = zkcli(s, "set", "/cli", "world")
        rc, out = zkcli(s, "stat", "/cli")
        self.assertRegex(out, r"dataVersion = 1")
        self.assertRegex(out, r"dataLength = 5")
        rc, out = zkcli(s, "create", "-s", "/cli/seq-", "x")
        self.assertRegex(out, r"Created /cli/seq-0000000000")
        rc, out = zkcli(s, "ls", "/cli")
        self.assertIn("[seq-0000000000]", out)
        rc, out = zkcli(s, "create", "/cli", "again")
        self.assertIn("Node already exists", out)
        rc, out = zkcli(s, "delete", "/cli")
        self.assertIn("Node not empty", out)
        rc, out = zkcli(s, "deleteall", "/cli")
        rc, out = zkcli(s, "get", "/cli")
        self.assertIn("Node does not exist", out)

    def test_container_and_ttl_nodes(self):
        s = self.server
        rc, out = zkcli(s, "create", "-c", "/cont", "")
        self.assertIn("Created /cont", out)
        zkcli(s, "create", "/cont/child", "")
        rc, out = zkcli(s, "stat", "/cont")
        self.assertIn("numChildren = 1", out)
        # TTL nodes are off unless extendedTypesEnabled, as in ZooKeeper.
        rc, out = zkcli(s, "create", "-t", "60000", "/ttl", "")
        self.assertNotIn("Created /ttl", out)
        self.assertIn("Unimplemented", out)

    def interactive(self, lines):
        env = dict(os.environ, ZOO_LOG4J_PROP="ERROR,CONSOLE", CLIENT_JVMFLAGS="-Xmx64m")
        script = "".join(line + "\n" for line in lines)
        # zkCli reads commands from stdin; the pause lets the last events arrive.
        proc = subprocess.run(["bash", "-c", f"(cat; sleep 3; echo quit) | {ZKCLI} -server "
                               f"{self.server}"], input=script, capture_output=True, text=True,
                              timeout=120, env=env)
        return re.findall(r"WatchedEvent state:SyncConnected type:(\w+) path:(\S+)",
                          proc.stdout + proc.stderr)

    def test_persistent_watches(self):
        events = self.interactive([
            "create /pr x", "addWatch -m PERSISTENT_RECURSIVE /pr", "create /pr/a x",
            "set /pr/a y", "delete /pr/a", "set /pr z",
            "create /pp x", "addWatch -m PERSISTENT /pp", "create /pp/c x", "set /pp 1",
            "set /pp 2"])
        events = [e for e in events if e[1] != "null"]
        self.assertEqual(events, [
            ("NodeCreated", "/pr/a"), ("NodeDataChanged", "/pr/a"), ("NodeDeleted", "/pr/a"),
            ("NodeDataChanged", "/pr"),
            ("NodeChildrenChanged", "/pp"), ("NodeDataChanged", "/pp"),
            ("NodeDataChanged", "/pp")])

    def test_acl_commands(self):
        s = self.server
        zkcli(s, "create", "/cliacl", "x")
        rc, out = zkcli(s, "setAcl", "/cliacl", "world:anyone:r")
        rc, out = zkcli(s, "getAcl", "/cliacl")
        self.assertIn("'world,'anyone", out)
        self.assertIn(": r", out)
        rc, out = zkcli(s, "set", "/cliacl", "y")
        self.assertIn("Insufficient permission", out)

    def test_c_client_cli_mt(self):
        # cli_mt -c runs one command and exits (its create takes no data).
        def cli(command):
            r = subprocess.run([CLI_MT, "-h", self.server, "-c", command], capture_output=True,
                               text=True, timeout=60)
            return r.stdout + r.stderr

        self.assertIn("rc = 0", cli("create /cmt"))
        self.assertIn("rc = 0", cli("set /cmt hello"))
        out = cli("get /cmt")
        self.assertIn("rc = 0", out)
        self.assertIn("version=1", out)
        self.assertIn("rc = -101", cli("get /cmt-missing"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
