"""Install simulation: proves the chart's wiring without a cluster.

Renders the chart, then does what the kubelet would with every pod of every
StatefulSet and Deployment, with local processes from the build:

- each pod gets its own network namespace with an address on a bridge (in a
  namespace of its own too: the host's network is never touched), and an
  /etc/hosts (ip netns exec mounts /etc/netns/<ns>/hosts) mapping the pods' DNS
  names (<pod>.<headless service>.<namespace>.svc.cluster.local ...) and the
  Services' names; a ClusterIP Service is DNAT rules (round robin over its ready
  pods) in every namespace, as kube-proxy would;
- volumes are folders: ConfigMaps and Secrets written as files with their modes,
  emptyDirs and PersistentVolumeClaims as empty folders owned by the fsGroup;
  every mount path in the container's command, args, env and in the mounted
  ConfigMap files is rewritten to its folder, and /usr/local/bin/<binary> (the
  image's) to the build's bin folder;
- init containers run to completion, then the containers start with their
  rendered command, args ($(VAR) expanded) and env (fieldRef, secretKeyRef,
  configMapKeyRef), as the pod's runAsUser/runAsGroup/fsGroup; a container that
  exits is restarted (restartPolicy Always);
- the probes run from the bridge's namespace (where the kubelet would be):
  native grpc probes with `ensemblectl health` against the pod's address.

Then it checks every probe reports SERVING, every metrics port serves /metrics,
each peer's server id is its ordinal + 1, and a ZooKeeper client (kazoo, in a
namespace of its own) writes through the gateway Service's name and port and reads
back, through every gateway.

Knobs (environment): ENSEMBLE_BIN (build folder, default <repo>/build),
ENSEMBLE_SIM_REPLICAS (voters, default 1), ENSEMBLE_SIM_OBSERVERS (default 0),
ENSEMBLE_SIM_GATEWAYS (default 2), ENSEMBLE_SIM_WAIT_BINARIES (seconds to wait for
binaries not built yet, default 0), ENSEMBLE_SIM_KEEP=1 (keep the folder on failure).
Exits 77 (ctest: skipped) when a binary is missing or the machine cannot create
network namespaces; 1 on any failed check. Cleans up processes (by pid), network
namespaces, /etc/netns entries and folders, also on failure and on SIGTERM/SIGINT.
"""

import base64
import grp
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helm_common import ROOT, Checks, render, tools  # noqa: E402

C = Checks()
RELEASE = "sim"
NAMESPACE = "ensemble-sim"
CLUSTER_DOMAIN = "cluster.local"
IMAGE_BIN = "/usr/local/bin"
SUBNET = "198.18"  # RFC 2544 benchmarking range; exists only inside our namespaces
NET_PREFIX = 16
READY_TIMEOUT = float(os.environ.get("ENSEMBLE_SIM_READY_TIMEOUT", "90"))
BINARIES = ["ensemble-storage", "ensemble-replication", "ensemble-election", "ensemble-gateway",
            "ensemblectl"]


def log(msg):
    print(f"[sim {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(*cmd, check=True, **kw):
    r = subprocess.run(list(cmd), capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def skip(reason):
    print(f"test_install_sim: SKIPPED: {reason}", flush=True)
    sys.exit(77)


def bin_dir():
    base = os.environ.get("ENSEMBLE_BIN") or os.path.join(ROOT, "build")
    return os.path.join(os.path.abspath(base), "bin")


def wait_for_binaries():
    wait = float(os.environ.get("ENSEMBLE_SIM_WAIT_BINARIES", "0"))
    deadline = time.time() + wait
    while True:
        missing = [b for b in BINARIES if not os.access(os.path.join(bin_dir(), b), os.X_OK)]
        if not missing:
            return
        if time.time() >= deadline:
            skip(f"not built yet in {bin_dir()}: {' '.join(missing)} (build them, or set "
                 f"ENSEMBLE_SIM_WAIT_BINARIES=SECONDS to wait)")
        log(f"waiting for {' '.join(missing)} in {bin_dir()}")
        time.sleep(10)


# ---------------------------------------------------------------------------
# The simulated cluster.
# ---------------------------------------------------------------------------


class Pod:
    def __init__(self, name, owner, spec, labels, hostname, subdomain, index):
        self.name = name
        self.owner = owner  # the workload manifest
        self.spec = spec
        self.labels = labels
        self.hostname = hostname
        self.subdomain = subdomain
        self.index = index
        self.netns = None
        self.ip = None
        self.dir = None
        self.volumes = {}  # volume name -> host path (a folder, or a file for subPath use)
        self.procs = {}  # container name -> Popen
        self.restarts = {}
        self.next_restart = {}

    def fqdn(self):
        if self.subdomain:
            return f"{self.hostname}.{self.subdomain}.{NAMESPACE}.svc.{CLUSTER_DOMAIN}"
        return None


class Cluster:
    def __init__(self, docs, root):
        self.docs = docs
        self.root = root
        self.tag = f"ensim{os.getpid() % 100000}"
        self.net = f"{self.tag}-net"
        self.namespaces = []
        self.etc_netns_created = False
        self.pods = []
        self.services = {}  # name -> (ip or None, manifest)
        self.client_ns = f"{self.tag}-client"
        self.configmaps = {d["metadata"]["name"]: d for d in docs if d["kind"] == "ConfigMap"}
        self.secrets = {d["metadata"]["name"]: d for d in docs if d["kind"] == "Secret"}

    # -- network ------------------------------------------------------------

    def add_netns(self, name):
        run("ip", "netns", "add", name)
        self.namespaces.append(name)
        run("ip", "-n", name, "link", "set", "lo", "up")

    def setup_network(self):
        self.add_netns(self.net)
        run("ip", "-n", self.net, "link", "add", "br0", "type", "bridge")
        run("ip", "-n", self.net, "addr", "add", f"{SUBNET}.0.1/{NET_PREFIX}", "dev", "br0")
        run("ip", "-n", self.net, "link", "set", "br0", "up")
        endpoints = [(p.name, p) for p in self.pods] + [("client", None)]
        for k, (name, pod) in enumerate(endpoints):
            ns = self.client_ns if pod is None else f"{self.tag}-p{k}"
            ip = f"{SUBNET}.1.{k + 10}"
            self.add_netns(ns)
            # Both ends are created directly inside our namespaces.
            run("ip", "-n", self.net, "link", "add", f"vp{k}", "type", "veth", "peer", "name", "eth0",
                "netns", ns)
            run("ip", "-n", self.net, "link", "set", f"vp{k}", "master", "br0", "up")
            run("ip", "-n", ns, "addr", "add", f"{ip}/{NET_PREFIX}", "dev", "eth0")
            run("ip", "-n", ns, "link", "set", "eth0", "up")
            if pod is not None:
                pod.netns, pod.ip = ns, ip
            else:
                self.client_ip = ip
        # ClusterIP Services get an address; headless ones none.
        n = 0
        for d in self.docs:
            if d["kind"] != "Service":
                continue
            ip = None
            if d["spec"].get("clusterIP") != "None":
                n += 1
                ip = f"{SUBNET}.200.{n}"
            self.services[d["metadata"]["name"]] = (ip, d)
        self.write_hosts()

    def all_netns(self):
        return [p.netns for p in self.pods] + [self.client_ns]

    def write_hosts(self):
        lines = ["127.0.0.1\tlocalhost", "::1\tlocalhost ip6-localhost ip6-loopback"]
        for p in self.pods:
            names = [p.hostname]
            if p.fqdn():
                f = p.fqdn()
                names = [f, f"{p.hostname}.{p.subdomain}.{NAMESPACE}.svc",
                         f"{p.hostname}.{p.subdomain}.{NAMESPACE}", f"{p.hostname}.{p.subdomain}"] + names
            lines.append(f"{p.ip}\t{' '.join(names)}")
        for name, (ip, _) in self.services.items():
            if ip:
                lines.append(f"{ip}\t{name}.{NAMESPACE}.svc.{CLUSTER_DOMAIN} {name}.{NAMESPACE}.svc "
                             f"{name}.{NAMESPACE} {name}")
        if not os.path.isdir("/etc/netns"):
            os.makedirs("/etc/netns")
            self.etc_netns_created = True
        for ns in self.all_netns() + [self.net]:
            d = f"/etc/netns/{ns}"
            os.makedirs(d, exist_ok=True)
            with open(f"{d}/hosts", "w") as f:
                f.write("\n".join(lines) + "\n")
            # No DNS server: names outside /etc/hosts fail at once, as unknown names would.
            with open(f"{d}/resolv.conf", "w") as f:
                f.write(f"search {NAMESPACE}.svc.{CLUSTER_DOMAIN} svc.{CLUSTER_DOMAIN} {CLUSTER_DOMAIN}\n"
                        "options ndots:5 timeout:1 attempts:1\n")

    def program_services(self):
        """kube-proxy: DNAT from each ClusterIP:port to the ready endpoints, round robin."""
        for name, (ip, svc) in self.services.items():
            if not ip:
                continue
            chosen = [p for p in self.pods if selects(svc["spec"]["selector"], p.labels)]
            C.expect(chosen, f"Service {name} selects no pod")
            for port in svc["spec"]["ports"]:
                targets = []
                for p in chosen:
                    tp = resolve_target_port(p, port.get("targetPort", port["port"]))
                    C.expect(tp is not None, f"Service {name}: targetPort {port.get('targetPort')} "
                                             f"is no port of pod {p.name}")
                    if tp is not None:
                        targets.append(f"{p.ip}:{tp}")
                for ns in self.all_netns():
                    for i, t in enumerate(targets):
                        rule = ["ip", "netns", "exec", ns, "iptables", "-w", "-t", "nat", "-A", "OUTPUT",
                                "-d", f"{ip}/32", "-p", "tcp", "--dport", str(port["port"])]
                        if i < len(targets) - 1:
                            rule += ["-m", "statistic", "--mode", "nth", "--every",
                                     str(len(targets) - i), "--packet", "0"]
                        run(*rule, "-j", "DNAT", "--to-destination", t)
                log(f"Service {name} {ip}:{port['port']} -> {', '.join(targets)}")

    # -- pods ---------------------------------------------------------------

    def make_pods(self, replicas_override):
        for w in self.docs:
            if w["kind"] not in ("StatefulSet", "Deployment"):
                continue
            name = w["metadata"]["name"]
            replicas = replicas_override.get(name, w["spec"].get("replicas", 1))
            tmpl = w["spec"]["template"]
            for i in range(replicas):
                if w["kind"] == "StatefulSet":
                    pod_name = f"{name}-{i}"
                    self.pods.append(Pod(pod_name, w, tmpl["spec"], tmpl["metadata"]["labels"], pod_name,
                                         w["spec"]["serviceName"], i))
                else:
                    pod_name = f"{name}-5d9c7b6f4-sim{i:02d}"
                    self.pods.append(Pod(pod_name, w, tmpl["spec"], tmpl["metadata"]["labels"], pod_name,
                                         None, i))

    def fs_group(self, pod):
        return pod.spec.get("securityContext", {}).get("fsGroup")

    def setup_volumes(self, pod):
        pod.dir = os.path.join(self.root, pod.name)
        os.makedirs(pod.dir)
        os.chmod(pod.dir, 0o755)
        fsg = self.fs_group(pod)
        claims = {t["metadata"]["name"] for t in pod.owner["spec"].get("volumeClaimTemplates", [])}
        specs = {v["name"]: v for v in pod.spec.get("volumes", [])}
        for name in claims:
            specs.setdefault(name, {"name": name, "persistentVolumeClaim": {}})
        for name, v in specs.items():
            path = os.path.join(pod.dir, f"vol-{name}")
            os.makedirs(path)
            if "emptyDir" in v:
                os.chmod(path, 0o777)
            elif "persistentVolumeClaim" in v:
                os.chown(path, 0, fsg if fsg is not None else 0)
                os.chmod(path, 0o2770 if fsg is not None else 0o777)
            elif "configMap" in v or "secret" in v:
                self.project(pod, v, path, fsg)
            else:
                raise RuntimeError(f"pod {pod.name}: volume {name}: type not simulated: {sorted(v)}")
            pod.volumes[name] = path

    def project(self, pod, v, path, fsg):
        if "configMap" in v:
            src, ref = v["configMap"], self.configmaps.get(v["configMap"]["name"])
            data = dict(ref.get("data", {})) if ref else None
        else:
            src, ref = v["secret"], self.secrets.get(v["secret"]["secretName"])
            data = None
            if ref:
                data = {k: base64.b64decode(x).decode() for k, x in ref.get("data", {}).items()}
                data.update(ref.get("stringData", {}))
        if data is None:
            C.expect(src.get("optional"), f"pod {pod.name}: volume {v['name']} refers to a missing object")
            return
        mode = src.get("defaultMode", 0o644)
        items = src.get("items") or [{"key": k, "path": k} for k in data]
        self.pending_files = getattr(self, "pending_files", [])
        for item in items:
            C.expect(item["key"] in data, f"pod {pod.name}: volume {v['name']}: no key {item['key']}")
            if item["key"] not in data:
                continue
            target = os.path.join(path, item["path"])
            os.makedirs(os.path.dirname(target), exist_ok=True)
            # Contents are written after all mount paths are known (rewrite_text).
            self.pending_files.append((pod, target, data[item["key"]], item.get("mode", mode), fsg))
        os.chmod(path, 0o755)

    def mount_table(self, pod, c):
        table = []
        for m in c.get("volumeMounts", []):
            C.expect(m["name"] in pod.volumes, f"{pod.name}/{c['name']}: mounts unknown volume {m['name']}")
            host = pod.volumes[m["name"]]
            if m.get("subPath"):
                host = os.path.join(host, m["subPath"])
            table.append((m["mountPath"].rstrip("/") or "/", host))
        return table

    def pod_mount_table(self, pod):
        table = {}
        for c in pod.spec.get("initContainers", []) + pod.spec["containers"]:
            for mp, host in self.mount_table(pod, c):
                C.expect(table.get(mp, host) == host,
                         f"{pod.name}: {mp} mounts different volumes in different containers")
                table[mp] = host
        table[IMAGE_BIN] = bin_dir()
        return sorted(table.items(), key=lambda kv: -len(kv[0]))

    def rewrite(self, text, table):
        def sub(m):
            path = m.group(0)
            for mp, host in table:
                if path == mp or path.startswith(mp + "/"):
                    return host + path[len(mp):]
            return path
        return re.sub(r"(?<![\w.:/-])/[A-Za-z0-9_.@+-][A-Za-z0-9_./@+-]*", sub, text)

    def write_projected_files(self):
        for pod, target, content, mode, fsg in getattr(self, "pending_files", []):
            with open(target, "w") as f:
                f.write(self.rewrite(content, self.pod_mount_table(pod)))
            os.chown(target, 0, fsg if fsg is not None else 0)
            os.chmod(target, mode)

    def container_env(self, pod, c):
        env = {"PATH": f"{bin_dir()}:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin",
               "HOSTNAME": pod.hostname, "HOME": "/"}
        for e in c.get("env", []):
            if "value" in e:
                env[e["name"]] = expand(str(e["value"]), env)
            elif "valueFrom" in e:
                env[e["name"]] = self.value_from(pod, e["valueFrom"])
            else:
                env[e["name"]] = ""
        return env

    def value_from(self, pod, vf):
        if "fieldRef" in vf:
            field = vf["fieldRef"]["fieldPath"]
            known = {"metadata.name": pod.name, "metadata.namespace": NAMESPACE, "status.podIP": pod.ip,
                     "spec.nodeName": "sim-node", "status.hostIP": f"{SUBNET}.0.1"}
            m = re.match(r"metadata\.labels\['(.+)'\]$", field)
            if m:
                return pod.labels.get(m.group(1), "")
            if field not in known:
                raise RuntimeError(f"fieldRef {field} not simulated")
            return known[field]
        if "secretKeyRef" in vf:
            ref = vf["secretKeyRef"]
            return base64.b64decode(self.secrets[ref["name"]]["data"][ref["key"]]).decode()
        if "configMapKeyRef" in vf:
            ref = vf["configMapKeyRef"]
            return self.configmaps[ref["name"]]["data"][ref["key"]]
        raise RuntimeError(f"env valueFrom {sorted(vf)} not simulated")

    def command(self, pod, c):
        C.expect(c.get("command"), f"{pod.name}/{c['name']}: no command (the sim needs it explicit)")
        env = self.container_env(pod, c)
        table = self.pod_mount_table(pod)
        argv = [expand(a, env) for a in c.get("command", []) + c.get("args", [])]
        argv = [self.rewrite(a, table) for a in argv]
        env = {k: self.rewrite(v, table) for k, v in env.items()}
        env["PATH"] = f"{bin_dir()}:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin"
        ctx = {**pod.spec.get("securityContext", {}), **c.get("securityContext", {})}
        uid, gid = ctx.get("runAsUser", 0), ctx.get("runAsGroup", 0)
        groups = [str(g) for g in [gid, pod.spec.get("securityContext", {}).get("fsGroup")] if g is not None]
        if ctx.get("runAsNonRoot"):
            C.expect(uid != 0, f"{pod.name}/{c['name']}: runAsNonRoot with uid 0")
        prefix = ["ip", "netns", "exec", pod.netns, "setpriv", f"--reuid={uid}", f"--regid={gid}",
                  f"--groups={','.join(groups) or str(gid)}", "--"]
        return prefix + argv, env

    def start(self, pod, c, init=False):
        argv, env = self.command(pod, c)
        logf = open(os.path.join(pod.dir, f"{c['name']}.log"), "ab")
        p = subprocess.Popen(argv, env=env, stdout=logf, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True, cwd=pod.dir)
        logf.close()
        pod.procs[c["name"]] = p
        return p

    def run_init(self, pod):
        for c in pod.spec.get("initContainers", []):
            p = self.start(pod, c, init=True)
            try:
                rc = p.wait(timeout=60)
            except subprocess.TimeoutExpired:
                stop(p)
                rc = "timeout"
            del pod.procs[c["name"]]
            if not C.equal(rc, 0, f"{pod.name}: init container {c['name']} ({tail(pod, c['name'])})"):
                return False
        return True

    def start_containers(self, pod):
        for c in pod.spec["containers"]:
            self.start(pod, c)
            pod.restarts[c["name"]] = 0

    def supervise(self):
        """restartPolicy Always, with a short back-off."""
        now = time.time()
        for pod in self.pods:
            for c in pod.spec["containers"]:
                p = pod.procs.get(c["name"])
                if p is None or p.poll() is None:
                    continue
                due = pod.next_restart.get(c["name"])
                if due is None:
                    pod.restarts[c["name"]] += 1
                    pod.next_restart[c["name"]] = now + min(10, 2 ** pod.restarts[c["name"]])
                    log(f"{pod.name}/{c['name']} exited ({p.returncode}); restart "
                        f"#{pod.restarts[c['name']]} soon: {tail(pod, c['name'])}")
                elif now >= due:
                    del pod.next_restart[c["name"]]
                    self.start(pod, c)

    # -- probes -------------------------------------------------------------

    def probe(self, pod, probe):
        if "grpc" in probe:
            C.expect("service" not in probe["grpc"], "grpc probe with a service name: not simulated")
            r = run("ip", "netns", "exec", self.net, os.path.join(bin_dir(), "ensemblectl"), "health",
                    "--endpoints", f"{pod.ip}:{probe['grpc']['port']}", "--timeout-ms",
                    str(int(probe.get("timeoutSeconds", 1)) * 1000), check=False)
            return r.returncode == 0
        if "tcpSocket" in probe:
            port = resolve_target_port(pod, probe["tcpSocket"]["port"])
            r = run("ip", "netns", "exec", self.net, "/usr/bin/python3", "-c",
                    f"import socket; socket.create_connection(('{pod.ip}', {port}), 2)", check=False)
            return r.returncode == 0
        raise RuntimeError(f"probe {sorted(probe)} not simulated")

    def wait_ready(self, pods, deadline):
        """Readiness (after startup) of every container, as the kubelet polls it."""
        pending = {(p.name, c["name"]): (p, c) for p in pods for c in p.spec["containers"]}
        while pending and time.time() < deadline:
            self.supervise()
            for key, (p, c) in list(pending.items()):
                proc = p.procs.get(c["name"])
                if proc is None or proc.poll() is not None:
                    continue
                probes = [c[k] for k in ("startupProbe", "readinessProbe") if k in c]
                if all(self.probe(p, pr) for pr in probes):
                    del pending[key]
                    log(f"{p.name}/{c['name']} ready")
            time.sleep(0.5)
        for (pn, cn), (p, c) in pending.items():
            C.expect(False, f"{pn}/{cn} not ready after {READY_TIMEOUT:.0f}s: {tail(p, cn)}")
        return not pending

    # -- cleanup ------------------------------------------------------------

    def cleanup(self):
        procs = [p for pod in self.pods for p in pod.procs.values() if p.poll() is None]
        for p in procs:  # SIGTERM to all first, then wait for each
            try:
                os.kill(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for p in procs:
            stop(p)
        for ns in reversed(self.namespaces):
            run("ip", "netns", "del", ns, check=False)
            shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
        if self.etc_netns_created:
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass


def expand(s, env):
    """Kubernetes' $(VAR) expansion ($$ escapes; unknown references stay)."""
    def sub(m):
        if m.group(0) == "$$":
            return "$"
        return env.get(m.group(1), m.group(0))
    return re.sub(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)", sub, s)


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def resolve_target_port(pod, tp):
    for c in pod.spec["containers"]:
        for p in c.get("ports", []):
            if (isinstance(tp, str) and p.get("name") == tp) or (isinstance(tp, int) and p["containerPort"] == tp):
                return p["containerPort"]
    return None


def stop(p, wait=5.0):
    if p.poll() is not None:
        return
    try:
        os.kill(p.pid, signal.SIGTERM)
        p.wait(timeout=wait)
    except subprocess.TimeoutExpired:
        os.kill(p.pid, signal.SIGKILL)
        p.wait(timeout=5)
    except ProcessLookupError:
        pass


def tail(pod, container, lines=6):
    try:
        with open(os.path.join(pod.dir, f"{container}.log"), errors="replace") as f:
            return " | ".join(f.read().strip().splitlines()[-lines:])
    except OSError:
        return "(no log)"


# ---------------------------------------------------------------------------
# Checks once everything runs.
# ---------------------------------------------------------------------------


def check_configs(cluster):
    """The files the processes read: paths inside the pod's volumes, ids from ordinals."""
    for pod in cluster.pods:
        cfgs = [os.path.join(pod.volumes.get("run", ""), n) for n in ("zoo.cfg", "gateway.cfg")]
        cfgs = [c for c in cfgs if os.path.exists(c)]
        C.expect(cfgs, f"{pod.name}: no configuration written in its run volume")
        for path in cfgs:
            for line in open(path).read().splitlines():
                k, _, v = line.partition("=")
                if v.startswith("/"):
                    C.expect(v.startswith(pod.dir + "/"),
                             f"{pod.name}: {k.strip()}={v} is not on a volume of the pod")


def check_status(cluster):
    peers = [p for p in cluster.pods if p.owner["kind"] == "StatefulSet"]
    leaders = []
    for pod in peers:
        repl = next(c for c in pod.spec["containers"] if c["name"] == "replication")
        r = run("ip", "netns", "exec", cluster.net, os.path.join(bin_dir(), "ensemblectl"), "status",
                "--endpoints", f"{pod.ip}:{repl['readinessProbe']['grpc']['port']}", "-o", "json", check=False)
        if C.equal(r.returncode, 0, f"{pod.name}: replication status ({r.stderr.strip()})"):
            status = json.loads(r.stdout)
            if (status[0] if isinstance(status, list) else status).get("role") in ("leading", "standalone"):
                leaders.append(pod.name)
    C.equal(len(leaders), 1, f"exactly one peer leads (leading: {leaders})")
    for pod in peers:
        base = 0
        for c in pod.spec.get("initContainers", []):
            for e in c.get("env", []):
                if e["name"] == "ENSEMBLE_SID_BASE":
                    base = int(e["value"])
        storage = next(c for c in pod.spec["containers"] if c["name"] == "storage")
        port = storage["readinessProbe"]["grpc"]["port"]
        r = run("ip", "netns", "exec", cluster.net, os.path.join(bin_dir(), "ensemblectl"), "status",
                "--endpoints", f"{pod.ip}:{port}", "-o", "json", check=False)
        if not C.equal(r.returncode, 0, f"{pod.name}: ensemblectl status ({r.stderr.strip()})"):
            continue
        status = json.loads(r.stdout)
        if isinstance(status, list):
            status = status[0]
        sid = str(status.get("header", {}).get("serverId"))
        C.equal(sid, str(base + pod.index + 1), f"{pod.name}: server id from its ordinal")


def check_metrics(cluster):
    for pod in cluster.pods:
        for c in pod.spec["containers"]:
            for p in c.get("ports", []):
                if "metrics" not in p["name"]:
                    continue
                url = f"http://{pod.ip}:{p['containerPort']}/metrics"
                r = run("ip", "netns", "exec", cluster.net, "/usr/bin/python3", "-c",
                        f"import urllib.request; print(urllib.request.urlopen('{url}', timeout=5).read().decode())",
                        check=False)
                C.expect(r.returncode == 0 and "process_resident_memory_bytes" in r.stdout,
                         f"{pod.name}/{c['name']}: {url} does not serve metrics ({r.stderr.strip()[-200:]})")


CLIENT = r"""
import json, socket, sys, time
from kazoo.client import KazooClient
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = {"servers": [], "reads": []}
clients = []
# One connection per gateway and more: the Service spreads them round robin.
for i in range(n):
    zk = KazooClient(hosts=f"{host}:{port}", timeout=10)
    zk.start(timeout=30)
    clients.append(zk)
    out["servers"].append(zk.client_id[0])
path = "/helm-sim"
clients[0].ensure_path(path)
for i, zk in enumerate(clients):
    zk.create(f"{path}/n{i}", f"written through connection {i}".encode())
def eventually(read, want):
    # Another session's write becomes visible to a session on another gateway (whose
    # home peer may lag, with several peers) within a bound; no sync needed.
    deadline = time.time() + 15
    while True:
        got = read()
        if got == want or time.time() > deadline:
            return got
        time.sleep(0.1)
for i, zk in enumerate(clients):
    # Each connection reads what another one wrote.
    j = (i + 1) % len(clients)
    want = f"written through connection {j}"
    got = eventually(lambda: zk.get(f"{path}/n{j}")[0].decode() if zk.exists(f"{path}/n{j}") else None, want)
    out["reads"].append([i, j, got])
clients[-1].set(f"{path}/n0", b"updated")
out["own_read"] = clients[-1].get(f"{path}/n0")[0].decode()
out["updated"] = eventually(lambda: clients[0].get(f"{path}/n0")[0].decode(), "updated")
out["children"] = sorted(clients[0].get_children(path))
for zk in clients:
    zk.stop()
    zk.close()
s = socket.create_connection((host, port), 10)
s.sendall(b"ruok")
out["ruok"] = s.recv(16).decode()
s.close()
print(json.dumps(out))
"""


def check_client(cluster, gateways):
    svc = next((d for _, (ip, d) in cluster.services.items() if ip and
                any(p["name"] == "client" for p in d["spec"]["ports"])), None)
    if not C.expect(svc is not None, "no ClusterIP Service with a client port"):
        return
    name = svc["metadata"]["name"]
    port = next(p["port"] for p in svc["spec"]["ports"] if p["name"] == "client")
    host = f"{name}.{NAMESPACE}.svc.{CLUSTER_DOMAIN}"
    n = max(2, 2 * gateways)
    log(f"kazoo: {n} connections to {host}:{port} from {cluster.client_ns}")
    try:
        r = run("ip", "netns", "exec", cluster.client_ns, "/usr/bin/python3", "-c", CLIENT, host, str(port),
                str(n), check=False, timeout=120)
    except subprocess.TimeoutExpired as e:
        C.expect(False, f"ZooKeeper client through {host}:{port}: no answer in 120 s "
                        f"({(e.stderr or b'').decode(errors='replace')[-1000:]})")
        return
    if not C.equal(r.returncode, 0, f"ZooKeeper client through {host}:{port}: {r.stderr.strip()[-2000:]}"):
        return
    out = json.loads(r.stdout.strip().splitlines()[-1])
    for i, j, data in out["reads"]:
        C.equal(data, f"written through connection {j}", f"connection {i} reads what {j} wrote")
    C.equal(out["own_read"], "updated", "a session reads its own write")
    C.equal(out["updated"], "updated", "another gateway's session sees the update")
    C.equal(out["children"], [f"n{i}" for i in range(n)], "children")
    C.equal(out["ruok"], "imok", "ruok through the Service")
    log(f"client: {len(out['reads'])} cross-connection reads, sessions {[hex(s) for s in out['servers']]}")


def check_every_gateway_served(cluster):
    """The Service spread the connections: every gateway counted requests."""
    for pod in cluster.pods:
        if pod.owner["kind"] != "Deployment":
            continue
        port = next(p["containerPort"] for c in pod.spec["containers"] for p in c.get("ports", [])
                    if p["name"] == "metrics")
        r = run("ip", "netns", "exec", cluster.net, "/usr/bin/python3", "-c",
                "import urllib.request; print(urllib.request.urlopen("
                f"'http://{pod.ip}:{port}/metrics', timeout=5).read().decode())", check=False)
        total = sum(float(line.rsplit(" ", 1)[1]) for line in r.stdout.splitlines()
                    if line.startswith("ensemble_gateway_requests_total"))
        C.expect(total > 0, f"{pod.name}: served no request (ensemble_gateway_requests_total={total})")


def remove_stale_namespaces():
    """Namespaces left by an earlier run of this test that was killed (its pid is in the
    name). Only empty ones are removed; processes are never touched here."""
    r = run("ip", "netns", "list", check=False)
    for line in r.stdout.splitlines():
        m = re.match(r"(ensim(\d+)-\S+)", line)
        if not m or os.path.exists(f"/proc/{m.group(2)}"):
            continue
        ns = m.group(1)
        if run("ip", "netns", "pids", ns, check=False).stdout.strip():
            log(f"stale namespace {ns} still has processes; left alone")
            continue
        run("ip", "netns", "del", ns, check=False)
        shutil.rmtree(f"/etc/netns/{ns}", ignore_errors=True)
        log(f"removed stale namespace {ns}")


def main():
    if os.geteuid() != 0:
        skip("needs root (network namespaces)")
    tools()
    wait_for_binaries()
    replicas = int(os.environ.get("ENSEMBLE_SIM_REPLICAS", "1"))
    observers = int(os.environ.get("ENSEMBLE_SIM_OBSERVERS", "0"))
    gateways = int(os.environ.get("ENSEMBLE_SIM_GATEWAYS", "2"))
    sets = [f"replicaCount={replicas}", f"gateway.replicaCount={gateways}"]
    if observers:
        sets += ["observers.enabled=true", f"observers.replicaCount={observers}"]
    docs = render(sets=sets, release=RELEASE, namespace=NAMESPACE)
    try:
        run("ip", "netns", "list")
    except Exception as e:  # noqa: BLE001
        skip(f"cannot use network namespaces here: {e}")
    remove_stale_namespaces()
    root = tempfile.mkdtemp(prefix="ens-sim-")
    os.chmod(root, 0o755)
    cluster = Cluster(docs, root)
    ok = False

    def on_signal(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, on_signal)
    try:
        cluster.make_pods({})
        log(f"pods: {' '.join(p.name for p in cluster.pods)} (folder {root})")
        cluster.setup_network()
        for pod in cluster.pods:
            cluster.setup_volumes(pod)
        cluster.write_projected_files()
        cluster.program_services()
        # The kubelet starts every pod at once (Parallel StatefulSet, a Deployment).
        for pod in cluster.pods:
            if cluster.run_init(pod):
                cluster.start_containers(pod)
        check_configs(cluster)
        if cluster.wait_ready(cluster.pods, time.time() + READY_TIMEOUT):
            for pod in cluster.pods:
                for c in pod.spec["containers"]:
                    if "livenessProbe" in c:
                        C.expect(cluster.probe(pod, c["livenessProbe"]),
                                 f"{pod.name}/{c['name']}: liveness probe fails")
            check_status(cluster)
            check_metrics(cluster)
            check_client(cluster, gateways)
            check_every_gateway_served(cluster)
            cluster.supervise()
        restarts = {f"{p.name}/{c}": n for p in cluster.pods for c, n in p.restarts.items() if n}
        if restarts:
            log(f"container restarts (the kubelet would restart them too): {restarts}")
        ok = not C.failures
    except KeyboardInterrupt as e:
        C.expect(False, f"interrupted: {e}")
    except Exception as e:  # noqa: BLE001
        C.expect(False, f"simulation error: {type(e).__name__}: {e}")
    finally:
        if not ok:
            for pod in cluster.pods:
                for c in pod.spec.get("initContainers", []) + pod.spec["containers"]:
                    log(f"--- {pod.name}/{c['name']}: {tail(pod, c['name'], 15)}")
        cluster.cleanup()
        if ok or not os.environ.get("ENSEMBLE_SIM_KEEP"):
            shutil.rmtree(root, ignore_errors=True)
        else:
            log(f"kept {root}")
    C.finish(f"test_install_sim ({replicas} voter(s), {observers} observer(s), {gateways} gateway(s))")


if __name__ == "__main__":
    main()
