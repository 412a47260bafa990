"""Ensemble's metrics on a real Prometheus: the Grafana dashboard, ZooKeeper's
dashboard 10465 and ZooKeeper's documented alert rules.

Starts a local ensemble (3 peers, 1 gateway: an election happens, so the
election metrics exist) and a real Prometheus server (Debian's `prometheus`, on
127.0.0.1 and a free port, in its own temporary folder) scraping every process's
/metrics every second, runs a short kazoo workload, then:

  1. `promtool check metrics` on every process's /metrics passes with no problem
     at all (ZooKeeper's names that promtool would reject, gauges named *_count
     and counters without _total, are exported untyped).
  2. The ZooKeeper-named families have ZooKeeper's types (Prometheus metadata),
     or "unknown" (untyped) for those exported untyped for promtool.
  3. Every panel query of helm/ensemble/dashboards/ensemble.json parses and returns
     data (through /api/v1/query), and its template variable has values.
  4. Every expression of dashboard 10465 (tests/metrics/zookeeper_queries.json)
     parses; those marked "data" return series, the others (metrics Ensemble does
     not export yet, with the process that should) return none.
  5. ZooKeeper's alert rules load into Prometheus as a rule file and evaluate
     without error; none fires (rules marked "event" may be pending); the metric
     each watches exists where marked "data".

Everything it starts is stopped by pid in `finally` blocks.
"""

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

import ensemble_harness as H  # noqa: E402
from kazoo.client import KazooClient  # noqa: E402

DASHBOARD = os.path.join(ROOT, "helm", "ensemble", "dashboards", "ensemble.json")
ZK_QUERIES = os.path.join(HERE, "zookeeper_queries.json")
PROMETHEUS = shutil.which("prometheus") or "/usr/bin/prometheus"
PROMTOOL = shutil.which("promtool") or "/usr/bin/promtool"
NAMESPACE = "ensemble-test"  # the label Kubernetes' ServiceMonitor adds, set here by hand
RATE_INTERVAL = "30s"        # what Grafana's $__rate_interval stands for in this test

# ZooKeeper 3.8's types for the names Ensemble exports (ZooKeeperServer.registerMetrics,
# QuorumZooKeeperServer, ServerMetrics).
ZOOKEEPER_TYPES = {
    "gauge": ["avg_latency", "min_latency", "max_latency", "packets_received", "packets_sent",
              "num_alive_connections", "outstanding_requests", "uptime", "znode_count",
              "watch_count", "ephemerals_count", "approximate_data_size", "global_sessions",
              "local_sessions", "open_file_descriptor_count", "max_file_descriptor_count",
              "connection_drop_probability", "last_client_response_size",
              "max_client_response_size", "min_client_response_size",
              "outstanding_tls_handshake", "auth_failed_count", "non_mtls_remote_conn_count",
              "non_mtls_local_conn_count", "quorum_size", "learners", "synced_followers",
              "synced_observers", "synced_non_voting_followers", "pending_syncs",
              "leader_uptime"],
    "counter": ["connection_request_count", "connection_rejected", "bytes_received_count",
                "looking_count", "digest_mismatches_count", "proposal_count", "commit_count",
                "snap_count", "diff_count"],
    "summary": ["readlatency", "updatelatency", "election_time", "proposal_latency",
                "fsynctime", "snapshottime",
                "dbinittime", "startup_snap_load_time", "startup_txns_loaded",
                "startup_txns_load_time", "sync_processor_batch_size",
                "node_created_watch_count", "node_deleted_watch_count",
                "node_changed_watch_count", "node_children_watch_count"],
}


def exported_untyped(name, kind):
    """The names common/runtime/metrics.cc exports untyped: those promtool's lint would
    reject (a counter without _total, a gauge ending in _count/_sum/_bucket)."""
    if kind == "counter":
        return not name.endswith("_total")
    if kind == "gauge":
        return name.endswith(("_count", "_sum", "_bucket"))
    return False


WORKLOAD_ZNODES = 120
DEADLINE_S = 90  # the whole test; it normally takes about 20 s


class Failures:
    def __init__(self):
        self.items = []

    def check(self, ok, what):
        if not ok:
            self.items.append(what)
            print(f"FAIL {what}")
        return ok


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Prometheus:
    """A Prometheus server in its own temporary folder, stopped by pid."""

    def __init__(self, jobs, rules):
        self.dir = tempfile.mkdtemp(prefix="ensemble-prometheus-")
        self.port = free_port()
        self.proc = None
        rules_path = os.path.join(self.dir, "zookeeper_alerts.yml")
        with open(rules_path, "w") as f:  # JSON is YAML: Prometheus reads it as a rule file
            json.dump({"groups": [{"name": "zk-alert-example", "rules": rules}]}, f, indent=1)
        self.rules_path = rules_path
        config = {
            "global": {"scrape_interval": "1s", "scrape_timeout": "1s",
                       "evaluation_interval": "1s"},
            "rule_files": [rules_path],
            "scrape_configs": [
                {"job_name": job, "static_configs": [
                    {"targets": targets, "labels": {"namespace": NAMESPACE}}]}
                for job, targets in sorted(jobs.items())
            ],
        }
        self.config_path = os.path.join(self.dir, "prometheus.yml")
        with open(self.config_path, "w") as f:
            json.dump(config, f, indent=1)

    def start(self):
        self.log = open(os.path.join(self.dir, "prometheus.log"), "w")
        self.proc = subprocess.Popen(
            [PROMETHEUS, f"--config.file={self.config_path}",
             f"--storage.tsdb.path={os.path.join(self.dir, 'data')}",
             f"--web.listen-address=127.0.0.1:{self.port}",
             "--storage.tsdb.retention.time=1h", "--log.level=warn"],
            stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"prometheus exited: {self.tail()}")
            try:
                with urllib.request.urlopen(f"{self.url}/-/ready", timeout=1) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, OSError):
                pass
            time.sleep(0.2)
        raise RuntimeError(f"prometheus not ready: {self.tail()}")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def tail(self):
        try:
            with open(os.path.join(self.dir, "prometheus.log"), errors="replace") as f:
                return "".join(f.readlines()[-20:])
        except OSError:
            return ""

    def api(self, path, **params):
        url = f"{self.url}/api/v1/{path}"
        if params:
            url += "?" + urllib.parse.urlencode(params, doseq=True)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return json.load(r)
        except urllib.error.HTTPError as e:  # a query that does not parse: 400 with a body
            return json.load(e)

    def query(self, expr):
        return self.api("query", query=expr)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        if os.environ.get("ENSEMBLE_KEEP_DATA"):
            print(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)


def run_workload(hosts):
    """A short bounded workload touching reads, writes, watches, ephemerals and errors."""
    zk = KazooClient(hosts=hosts, timeout=10)
    zk.start(timeout=15)
    try:
        zk.ensure_path("/metrics-test")
        for i in range(WORKLOAD_ZNODES):
            zk.create(f"/metrics-test/n{i:04d}", b"x" * (i % 50))
        for i in range(10):
            zk.create(f"/metrics-test/e{i}", b"", ephemeral=True)
        for i in range(0, WORKLOAD_ZNODES, 3):
            zk.get(f"/metrics-test/n{i:04d}", watch=lambda event: None)
            zk.set(f"/metrics-test/n{i:04d}", b"changed")
        zk.get_children("/metrics-test", watch=lambda event: None)
        zk.exists("/metrics-test/absent", watch=lambda event: None)
        for i in range(5):  # NodeExists: error replies
            try:
                zk.create(f"/metrics-test/n{i:04d}", b"")
            except Exception:  # noqa: BLE001 - kazoo raises NodeExistsError
                pass
        tx = zk.transaction()
        tx.create("/metrics-test/tx", b"1")
        tx.set_data("/metrics-test/tx", b"2")
        tx.commit()
        zk.sync("/metrics-test")
        for i in range(0, 10):
            zk.delete(f"/metrics-test/n{i:04d}")
        return zk
    except Exception:
        zk.stop()
        zk.close()
        raise


def promtool_findings(text):
    r = subprocess.run([PROMTOOL, "check", "metrics"], input=text.encode(), capture_output=True)
    out = (r.stdout + r.stderr).decode()
    findings = set()
    for line in out.splitlines():
        m = re.match(r"^(\S+) (.*)$", line.strip())
        if not m:
            continue
        name, message = m.groups()
        suffix = "_total" if '"_total"' in message else ("_count" if '"_count"' in message
                                                          else message)
        findings.add((name, suffix))
    return r.returncode, findings, out


def has_data(result):
    data = result.get("data", {})
    if data.get("resultType") == "scalar":
        return True
    return len(data.get("result", [])) > 0


def substitute(expr, values):
    for name, value in values.items():
        expr = expr.replace(f"${{{name}}}", value).replace(f"${name}", value)
    return expr


def check_promtool(ensemble, fail):
    print("-- promtool check metrics, every process")
    for name in sorted(ensemble.state["procs"]):
        with urllib.request.urlopen(f"http://{ensemble.metrics(name)}/metrics", timeout=5) as r:
            text = r.read().decode()
        rc, findings, out = promtool_findings(text)
        fail.check(rc == 0 and not findings,
                   f"promtool on {name} (rc {rc}): {sorted(findings)} {out.strip()}")
        print(f"   {name}: ok" if rc == 0 and not findings else f"   {name}: rc {rc}")


def check_types(prom, fail):
    print("-- ZooKeeper names have ZooKeeper's types (Prometheus metadata)")
    meta = prom.api("metadata").get("data", {})
    untyped = 0
    for kind, names in ZOOKEEPER_TYPES.items():
        for name in names:
            want = "unknown" if exported_untyped(name, kind) else kind  # untyped: "unknown"
            untyped += want == "unknown"
            got = [m.get("type") for m in meta.get(name, [])]
            fail.check(got and all(t == want for t in got),
                       f"type of {name}: {got}, want {want} (ZooKeeper's: {kind})")
    print(f"   {sum(map(len, ZOOKEEPER_TYPES.values()))} names, {untyped} exported untyped")


def check_dashboard(prom, fail):
    print("-- helm/ensemble/dashboards/ensemble.json: every panel query")
    with open(DASHBOARD) as f:
        dash = json.load(f)
    values = {"namespace": NAMESPACE, "__rate_interval": RATE_INTERVAL}
    for var in dash["templating"]["list"]:
        if var.get("type") != "query":
            continue
        m = re.match(r"label_values\((.+),\s*(\w+)\)$", var["definition"])
        fail.check(m is not None, f"variable {var['name']}: {var['definition']}")
        if m:
            series = prom.api("series", **{"match[]": m.group(1)}).get("data", [])
            labels = {s.get(m.group(2)) for s in series} - {None}
            fail.check(NAMESPACE in labels, f"variable {var['name']}: values {sorted(labels)}")
    count = 0
    for panel in dash["panels"]:
        fail.check(panel.get("targets"), f"panel {panel['title']}: no query")
        for target in panel.get("targets", []):
            expr = substitute(target["expr"], values)
            fail.check("$" not in expr, f"panel {panel['title']}: unknown variable in {expr}")
            r = prom.query(expr)
            count += 1
            if not fail.check(r.get("status") == "success",
                              f"panel {panel['title']}: {expr}: {r.get('error')}"):
                continue
            fail.check(has_data(r), f"panel {panel['title']}: no data for {expr}")
    print(f"   {len(dash['panels'])} panels, {count} queries")


def check_zookeeper_dashboard(prom, spec, fail):
    print("-- ZooKeeper dashboard 10465: every expression")
    values = {"instance": ".+", "job": ".+"}
    for variable in spec["variables"]:
        m = re.match(r"label_values\((?:(.+),\s*)?(\w+)\)$", variable)
        match = substitute(m.group(1), values) if m.group(1) else '{job=~".+"}'
        series = prom.api("series", **{"match[]": match}).get("data", [])
        fail.check(any(m.group(2) in s for s in series), f"10465 variable {variable}: no values")
    with_data = without = 0
    for q in spec["queries"]:
        expr = substitute(q["expr"], values)
        r = prom.query(expr)
        if not fail.check(r.get("status") == "success",
                          f"10465 {q['panel']}: {expr}: {r.get('error')}"):
            continue
        if q["data"]:
            with_data += 1
            fail.check(has_data(r), f"10465 {q['panel']}: no data for {expr}")
        else:
            without += 1
            # Marked missing: when a process starts exporting it, move it to "data".
            fail.check(not has_data(r), f"10465 {q['panel']}: {expr} has data now; mark it so")
    print(f"   {with_data} expressions with data, {without} on metrics Ensemble lacks")


def check_alert_rules(prom, rules, fail):
    print("-- ZooKeeper's alert rules")
    r = subprocess.run([PROMTOOL, "check", "rules", prom.rules_path], capture_output=True)
    fail.check(r.returncode == 0, f"promtool check rules: {(r.stdout + r.stderr).decode()}")
    deadline = time.time() + 10
    loaded = []
    while time.time() < deadline:
        groups = prom.api("rules").get("data", {}).get("groups", [])
        loaded = [rule for g in groups for rule in g.get("rules", [])]
        if len(loaded) == len(rules) and all(x.get("lastEvaluation", "").startswith("2")
                                             and not x["lastEvaluation"].startswith("0001")
                                             for x in loaded):
            break
        time.sleep(0.5)
    fail.check(len(loaded) == len(rules), f"rules loaded: {len(loaded)} of {len(rules)}")
    events = {r["alert"] for r in rules if r.get("event")}
    for rule in loaded:
        fail.check(rule.get("health") == "ok",
                   f"rule {rule.get('name')}: health {rule.get('health')} {rule.get('lastError')}")
        if rule.get("name") in events:
            if rule.get("state") != "inactive":
                print(f"   note: rule {rule.get('name')} is {rule.get('state')}")
        else:
            fail.check(rule.get("state") == "inactive",
                       f"rule {rule.get('name')} is {rule.get('state')}")
    for rule in rules:
        r = prom.query(rule["expr"])
        fail.check(r.get("status") == "success", f"rule {rule['alert']}: {r.get('error')}")
        watched = prom.query(rule["watches"])
        if rule["data"]:
            fail.check(has_data(watched), f"rule {rule['alert']}: no {rule['watches']}")
        else:
            fail.check(not has_data(watched), f"rule {rule['alert']}: {rule['watches']} exists now")


def wait_for(prom, expr, what, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        r = prom.query(expr)
        if r.get("status") == "success" and has_data(r):
            return
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what} ({expr})")


def main():
    started = time.time()
    fail = Failures()
    with open(ZK_QUERIES) as f:
        spec = json.load(f)
    rules = [{"alert": r["alert"], "expr": r["expr"], "for": r["for"]}
             for r in spec["alert_rules"]]
    ensemble = prom = zk = None
    try:
        ensemble = H.Ensemble(peers=3, gateways=1, tick_ms=500)
        jobs = {}
        for name in ensemble.state["procs"]:
            job = "gateway" if name.startswith("gateway") else "peer"  # the chart's components
            jobs.setdefault(job, []).append(ensemble.metrics(name))
        prom = Prometheus(jobs, rules)
        prom.start()
        wait_for(prom, 'count(up == 1) == %d' % len(ensemble.state["procs"]), "every target up")
        zk = run_workload(ensemble.hosts())
        H.four_letter_word(ensemble.gateways()[0], "mntr")
        # The workload's last figures reach Prometheus: storage counts the znodes, the
        # gateway's polled copy follows within 2 s.
        expected = WORKLOAD_ZNODES - 10 + 10 + 1 + 1  # + ephemerals, /metrics-test, tx
        wait_for(prom, f"min(znode_count) >= {expected}", "the gateway's znode_count")
        wait_for(prom, f"min(ensemble_storage_znodes) >= {expected}", "every peer's znodes")
        wait_for(prom, "sum(updatelatency_count) > 0", "write latency in ZooKeeper's summary")
        check_promtool(ensemble, fail)
        check_types(prom, fail)
        check_dashboard(prom, fail)
        check_zookeeper_dashboard(prom, spec["dashboard_10465"], fail)
        check_alert_rules(prom, spec["alert_rules"], fail)
        fail.check(time.time() - started < DEADLINE_S,
                   f"took {time.time() - started:.0f} s (bound {DEADLINE_S} s)")
    finally:
        if zk is not None:
            zk.stop()
            zk.close()
        if prom is not None:
            if fail.items:
                print(prom.tail())
            prom.stop()
        if ensemble is not None:
            if fail.items:
                print(ensemble.logs()[-4000:])
            ensemble.stop()
    print(f"{len(fail.items)} failures in {time.time() - started:.1f} s")
    return 1 if fail.items else 0


if __name__ == "__main__":
    sys.exit(main())
