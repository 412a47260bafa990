"""Install simulation: proves the chart's wiring without a cluster.

Renders the chart (its default values: 3 voting peers, 2 gateways), then does what the
kubelet would with every pod of every StatefulSet and Deployment, with local
processes from the build:

- each pod gets its own network namespace with an address on a bridge (in a
  namespace of its own too: the host's network is never touched), and an
  /etc/hosts (ip netns exec mounts /etc/netns/<ns>/hosts) mapping the pods' DNS
  names (<pod>.<headless service>.<namespace>.svc.cluster.local ...) and the
  Services' names; a ClusterIP Service is DNAT rules to its ready pods (round robin,
  rejected with none) in every namespace, rewritten when readiness changes, as
  kube-proxy would;
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
each process's server id is its pod's ordinal + 1, exactly one peer leads and every
other follows it (`ensemblectl status -o json` of each replication process: role,
leader), and a ZooKeeper client (kazoo, in a namespace of its own) writes through
the gateway Service's name and port and reads back, through every gateway.

With 3 or more voters, the failover: every process of the leader's pod is SIGKILLed
(its node fails); the other voters must elect a new leader (a higher epoch), a
gateway whose home was that pod is restarted by its liveness probe (fast-forwarded,
ENSEMBLE_SIM_LIVENESS_WINDOW seconds instead of the chart's 60) and picks another
home, kazoo writes through the Service and reads back, and what was written before
is still there; then the pod comes back on its volume (the StatefulSet recreating
it), every container is ready again, and it follows the new leader, caught up.

Knobs (environment): ENSEMBLE_BIN (build folder; see helm_common.bin_dir),
ENSEMBLE_SIM_REPLICAS (voters; default: the chart's), ENSEMBLE_SIM_OBSERVERS (default
0), ENSEMBLE_SIM_GATEWAYS (default: the chart's), ENSEMBLE_SIM_FAILOVER=0 (skip the
failover), ENSEMBLE_SIM_BUDGET (seconds for the whole run, default 75),
ENSEMBLE_SIM_WAIT_BINARIES (seconds to wait for binaries not built yet, default 0),
ENSEMBLE_SIM_KEEP=1 (keep the folder on failure).
Exits 77 (ctest: skipped) when a binary is missing or the machine cannot create
network namespaces; 1 on any failed check. Cleans up processes (by pid), network
namespaces, /etc/netns entries and folders, also on failure and on SIGTERM/SIGINT.
"""

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helm_common import Checks, bin_dir, render, tools  # noqa: E402

C = Checks()
RELEASE = "sim"
NAMESPACE = "ensemble-sim"
CLUSTER_DOMAIN = "cluster.local"
IMAGE_BIN = "/usr/local/bin"
SUBNET = "198.18"  # RFC 2544 benchmarking range; exists only inside our namespaces
NET_PREFIX = 16
READY_TIMEOUT = float(os.environ.get("ENSEMBLE_SIM_READY_TIMEOUT", "45"))
# The whole run (render, start, checks, failover) stays within this many seconds, so it
# ends, and cleans up, before ctest's TIMEOUT (90 s) would kill it.
BUDGET = float(os.environ.get("ENSEMBLE_SIM_BUDGET", "75"))
# A gateway failing its liveness probe this long is restarted (fast-forwarded from the
# chart's periodSeconds x failureThreshold; see Cluster.wait_gateways).
LIVENESS_WINDOW = float(os.environ.get("ENSEMBLE_SIM_LIVENESS_WINDOW", "5"))
START = time.time()
BINARIES = ["ensemble-storage", "ensemble-replication", "ensemble-election", "ensemble-gateway",
            "ensemblectl"]


def log(msg):
    print(f"[sim {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def run(*cmd, check=True, **kw):
    r = subprocess.run(list(cmd), capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()}")
    return r


def remaining(cap=None):
    """Seconds left of the run's budget (at most cap)."""
    left = max(0.0, START + BUDGET - time.time())
    return left if cap is None else min(cap, left)


def skip(reason):
    print(f"test_install_sim: SKIPPED: {reason}", flush=True)
    sys.exit(77)


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
        self.ready = set()  # containers whose readiness probe passed last time
        self.down = False  # gone (its node failed): nothing runs, nothing restarts
        self.unhealthy_since = {}  # container -> when its liveness probe started failing

    def is_ready(self):
        """The pod's Ready condition: every container ready."""
        return not self.down and all(c["name"] in self.ready for c in self.spec["containers"])

    def is_peer(self):
        return self.owner["kind"] == "StatefulSet"

    def container(self, name):
        return next(c for c in self.spec["containers"] if c["name"] == name)

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
        self.endpoints = None  # what sync_services programmed: "<svc> <ip>:<port>" -> [pod ip:port]
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

    def check_service_selection(self):
        """Every ClusterIP Service selects pods, and its target ports are theirs."""
        for name, (ip, svc) in self.services.items():
            if not ip:
                continue
            chosen = [p for p in self.pods if selects(svc["spec"]["selector"], p.labels)]
            C.expect(chosen, f"Service {name} selects no pod")
            for port in svc["spec"]["ports"]:
                for p in chosen:
                    C.expect(resolve_target_port(p, port.get("targetPort", port["port"])) is not None,
                             f"Service {name}: targetPort {port.get('targetPort')} is no port of pod {p.name}")

    def sync_services(self):
        """kube-proxy: each ClusterIP:port is DNAT to the Service's endpoints (the pods it
        selects that are ready), round robin, and rejected when it has none. Rewritten
        (iptables-restore, at once) in every namespace whenever the endpoints change."""
        nat, reject, now = [], [], {}
        for name, (ip, svc) in self.services.items():
            if not ip:
                continue
            chosen = [p for p in self.pods if selects(svc["spec"]["selector"], p.labels)]
            if not svc["spec"].get("publishNotReadyAddresses"):
                chosen = [p for p in chosen if p.is_ready()]
            for port in svc["spec"]["ports"]:
                match = f"-d {ip}/32 -p tcp --dport {port['port']}"
                targets = []
                for p in chosen:
                    tp = resolve_target_port(p, port.get("targetPort", port["port"]))
                    if tp is not None:
                        targets.append(f"{p.ip}:{tp}")
                now[f"{name} {ip}:{port['port']}"] = targets
                if not targets:
                    reject.append(f"-A OUTPUT {match} -j REJECT --reject-with tcp-reset")
                for i, t in enumerate(targets):
                    nth = ""
                    if i < len(targets) - 1:
                        nth = f"-m statistic --mode nth --every {len(targets) - i} --packet 0 "
                    nat.append(f"-A OUTPUT {match} {nth}-j DNAT --to-destination {t}")
        if now == self.endpoints:
            return
        rules = "*nat\n" + "".join(r + "\n" for r in nat) + "COMMIT\n"
        rules += "*filter\n" + "".join(r + "\n" for r in reject) + "COMMIT\n"
        for ns in self.all_netns():
            run("ip", "netns", "exec", ns, "iptables-restore", input=rules)
        for svc, targets in now.items():
            if targets != (self.endpoints or {}).get(svc):
                log(f"Service {svc} -> {', '.join(targets) or '(no ready endpoint: rejected)'}")
        self.endpoints = now

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
                rc = p.wait(timeout=max(1.0, remaining(60)))
            except subprocess.TimeoutExpired:
                stop(p)
                rc = "timeout"
            del pod.procs[c["name"]]
            if not C.equal(rc, 0, f"{pod.name}: init container {c['name']} ({tail(pod, c['name'])})"):
                return False
        return True

    def start_containers(self, pod):
        pod.down = False
        pod.ready.clear()
        pod.next_restart.clear()
        pod.unhealthy_since.clear()
        for c in pod.spec["containers"]:
            self.start(pod, c)
            pod.restarts[c["name"]] = 0

    def kill_pod(self, pod):
        """The pod's node fails: SIGKILL to every container's process (by pid); nothing
        restarts them until the pod is started again (the StatefulSet recreating it)."""
        pod.down = True
        pod.ready.clear()
        for name, p in pod.procs.items():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
                p.wait(timeout=10)
        pod.next_restart.clear()
        self.sync_services()

    def supervise(self):
        """restartPolicy Always, with a short back-off."""
        now = time.time()
        for pod in self.pods:
            if pod.down:
                continue
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

    def check_ready(self, pod, c):
        """The kubelet's readiness of one container (after its startup probe passed)."""
        proc = pod.procs.get(c["name"])
        ok = (not pod.down and proc is not None and proc.poll() is None and
              all(self.probe(pod, c[k]) for k in ("startupProbe", "readinessProbe") if k in c))
        if ok:
            pod.ready.add(c["name"])
        else:
            pod.ready.discard(c["name"])
        return ok

    def wait_ready(self, pods, deadline, what="ready"):
        """Readiness (after startup) of every container, as the kubelet polls it; the
        Services follow (sync_services)."""
        deadline = min(deadline, START + BUDGET)
        t0 = time.time()
        pending = {(p.name, c["name"]): (p, c) for p in pods for c in p.spec["containers"]}
        while pending and time.time() < deadline:
            self.supervise()
            for key, (p, c) in list(pending.items()):
                if self.check_ready(p, c):
                    del pending[key]
                    log(f"{p.name}/{c['name']} {what}")
            self.sync_services()
            if pending:
                time.sleep(0.5)
        for (pn, cn), (p, c) in pending.items():
            C.expect(False, f"{pn}/{cn} not {what} after {time.time() - t0:.0f}s: {tail(p, cn)}")
        return not pending

    def restart_container(self, pod, c, reason):
        log(f"{pod.name}/{c['name']}: {reason}; restarting it")
        p = pod.procs.get(c["name"])
        if p is not None:
            stop(p)
        pod.ready.discard(c["name"])
        pod.unhealthy_since.pop(c["name"], None)
        pod.restarts[c["name"]] = pod.restarts.get(c["name"], 0) + 1
        self.start(pod, c)

    def wait_gateways(self, deadline, liveness_window):
        """Some gateway ready (in the Service) while the gateways run on. A gateway whose
        home peer is gone fails its liveness probe, and the kubelet restarts it (it then
        picks a home again) after periodSeconds x failureThreshold (60 s with the
        defaults): here after liveness_window seconds, the same mechanism fast-forwarded.
        Returns once a gateway is ready."""
        gateways = [p for p in self.pods if not p.is_peer()]
        deadline = min(deadline, START + BUDGET)
        while time.time() < deadline:
            self.supervise()
            now = time.time()
            for pod in gateways:
                for c in pod.spec["containers"]:
                    if self.check_ready(pod, c):
                        pod.unhealthy_since.pop(c["name"], None)
                    elif "livenessProbe" in c and pod.procs[c["name"]].poll() is None:
                        since = pod.unhealthy_since.setdefault(c["name"], now)
                        if now - since >= liveness_window and not self.probe(pod, c["livenessProbe"]):
                            self.restart_container(pod, c, f"liveness failing for {now - since:.0f}s "
                                                           f"(home {home_of(pod)})")
            self.sync_services()
            if any(p.is_ready() for p in gateways):
                return True
            time.sleep(0.5)
        C.expect(any(p.is_ready() for p in gateways),
                 f"no gateway ready: {[tail(p, 'gateway', 3) for p in gateways]}")
        return False

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


def home_of(pod):
    """The home peer a gateway picked last (gateway-start.sh logs it)."""
    try:
        with open(os.path.join(pod.dir, "gateway.log"), errors="replace") as f:
            homes = re.findall(r"gateway-start: home peer (\S+)", f.read())
        return homes[-1].split(".")[0] if homes else None
    except OSError:
        return None


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
    # The quorum every peer reads: one server.N per peer pod, N its ordinal + 1 (+ the
    # observers' base), named by the pod's DNS name, with the pod's quorum and election
    # ports, observers marked; and each peer's own id.
    want = {}
    for pod in cluster.pods:
        if pod.is_peer():
            ports = [pod.container(n)["readinessProbe"]["grpc"]["port"] for n in ("replication", "election")]
            role = ":observer" if pod.labels.get("ensemble.io/peer-type") == "observer" else ""
            want[f"server.{sid_of(pod)}"] = f"{pod.fqdn()}:{ports[0]}:{ports[1]}{role}"
    for pod in cluster.pods:
        if not pod.is_peer():
            continue
        path = os.path.join(pod.volumes.get("run", ""), "zoo.cfg")
        cfg = dict(line.split("=", 1) for line in open(path).read().splitlines()
                   if "=" in line and not line.startswith("#")) if os.path.exists(path) else {}
        C.equal({k: v for k, v in cfg.items() if k.startswith("server.")}, want, f"{pod.name}: server.N lines")
        C.equal(cfg.get("ensemble.myid"), str(sid_of(pod)), f"{pod.name}: ensemble.myid")


def admin_status(cluster, pod, container):
    """`ensemblectl status -o json` of one container's process (through its probe port), or
    None when it does not answer."""
    port = pod.container(container)["readinessProbe"]["grpc"]["port"]
    r = run("ip", "netns", "exec", cluster.net, os.path.join(bin_dir(), "ensemblectl"), "status",
            "--endpoints", f"{pod.ip}:{port}", "-o", "json", "--timeout-ms", "2000", check=False)
    if r.returncode != 0:
        return None
    status = json.loads(r.stdout)
    return status[0] if isinstance(status, list) else status


def sid_of(pod):
    """The server id the chart gives a peer pod: its ordinal + 1 (+ the observers' base)."""
    base = 0
    for c in pod.spec.get("initContainers", []):
        for e in c.get("env", []):
            if e["name"] == "ENSEMBLE_SID_BASE":
                base = int(e["value"])
    return base + pod.index + 1


def voters(cluster):
    return [p for p in cluster.pods if p.is_peer() and p.labels.get("ensemble.io/peer-type") != "observer"]


def quorum_view(cluster, peers):
    """Each peer's replication role and leader:
    {pod name: (role, leader sid, epoch, last zxid, serving)}."""
    view = {}
    for pod in peers:
        st = admin_status(cluster, pod, "replication")
        if st is not None:
            view[pod.name] = (st.get("role"), int(st.get("leader", 0)), int(st["header"].get("epoch", 0)),
                              int(st["header"].get("lastZxid", 0)),
                              st.get("details", {}).get("serving") == "true")
    return view


def agreed_leader(cluster, peers, view):
    """The pod that every peer of `peers` agrees leads, once established: one leading,
    the others following it, all serving (ZAB's broadcast phase)."""
    leaders = [p for p in peers if view.get(p.name, (None,))[0] in ("leading", "standalone")]
    if len(leaders) != 1:
        return None
    sid = sid_of(leaders[0])
    if all(p.name in view and view[p.name][0] in ("leading", "standalone", "following", "observing") and
           view[p.name][1] == sid and view[p.name][4] for p in peers):
        return leaders[0]
    return None


def check_status(cluster):
    """Exactly one voter leads and every peer follows it; each process's server id is its
    pod's ordinal + 1. Returns the leader's pod."""
    peers = [p for p in cluster.pods if p.is_peer()]
    view = quorum_view(cluster, peers)
    for pod in peers:
        C.expect(pod.name in view, f"{pod.name}: replication status does not answer")
    leading = [n for n, v in view.items() if v[0] in ("leading", "standalone")]
    C.equal(len(leading), 1, f"exactly one peer leads (leading: {leading})")
    leader = agreed_leader(cluster, peers, view)
    C.expect(leader is not None and leader in voters(cluster),
             f"the peers do not all follow one voter: {view}")
    if leader is not None:
        log(f"{leader.name} (server {sid_of(leader)}) leads: "
            f"{', '.join(f'{n}={v[0]}' for n, v in sorted(view.items()))}")
    for pod in peers:
        for name in ("storage", "replication", "election"):
            st = admin_status(cluster, pod, name)
            if not C.expect(st is not None, f"{pod.name}/{name}: ensemblectl status does not answer"):
                continue
            C.equal(str(st.get("header", {}).get("serverId")), str(sid_of(pod)),
                    f"{pod.name}/{name}: server id from its ordinal")
    return leader


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


def client_service(cluster):
    """(host, port) of the ClusterIP Service with the client port, by its DNS name."""
    svc = next((d for _, (ip, d) in cluster.services.items() if ip and
                any(p["name"] == "client" for p in d["spec"]["ports"])), None)
    if not C.expect(svc is not None, "no ClusterIP Service with a client port"):
        return None, None
    name = svc["metadata"]["name"]
    port = next(p["port"] for p in svc["spec"]["ports"] if p["name"] == "client")
    return f"{name}.{NAMESPACE}.svc.{CLUSTER_DOMAIN}", port


def run_client(cluster, script, what, *args, cap=60):
    """Runs a kazoo script in the client's namespace; returns its last line as JSON, or None."""
    limit = remaining(cap)
    try:
        r = run("ip", "netns", "exec", cluster.client_ns, "/usr/bin/python3", "-c", script, *map(str, args),
                check=False, timeout=max(1.0, limit))
    except subprocess.TimeoutExpired as e:
        C.expect(False, f"{what}: no answer in {limit:.0f} s ({str(e.stderr or '')[-1000:]})")
        return None
    if not C.equal(r.returncode, 0, f"{what}: {r.stderr.strip()[-2000:]}"):
        return None
    return json.loads(r.stdout.strip().splitlines()[-1])


def check_client(cluster, gateways):
    host, port = client_service(cluster)
    if host is None:
        return
    n = max(2, 2 * gateways)
    log(f"kazoo: {n} connections to {host}:{port} from {cluster.client_ns}")
    out = run_client(cluster, CLIENT, f"ZooKeeper client through {host}:{port}", host, port, n)
    if out is None:
        return
    for i, j, data in out["reads"]:
        C.equal(data, f"written through connection {j}", f"connection {i} reads what {j} wrote")
    C.equal(out["own_read"], "updated", "a session reads its own write")
    C.equal(out["updated"], "updated", "another gateway's session sees the update")
    C.equal(out["children"], [f"n{i}" for i in range(n)], "children")
    C.equal(out["ruok"], "imok", "ruok through the Service")
    log(f"client: {len(out['reads'])} cross-connection reads, sessions {[hex(s) for s in out['servers']]}")


AFTER_FAILOVER = r"""
import json, sys
from kazoo.client import KazooClient
from kazoo.retry import KazooRetry
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
out = {"reads": []}
# A connection per gateway (the Service spreads them): each writes, each reads back.
for i in range(n):
    zk = KazooClient(hosts=f"{host}:{port}", timeout=10,
                     connection_retry=KazooRetry(max_tries=20, delay=0.2, max_delay=1))
    zk.start(timeout=20)
    path = f"/helm-sim/after-failover-{i}"
    zk.create(path, f"written after the failover through connection {i}".encode())
    zk.sync(path)
    out["reads"].append(zk.get(path)[0].decode())
    if i == 0:
        # What was committed before the leader died survived it.
        out["before"] = zk.get("/helm-sim/n0")[0].decode()
        out["children_before"] = len(zk.get_children("/helm-sim"))
    zk.stop()
    zk.close()
print(json.dumps(out))
"""


def check_failover(cluster, leader, gateways):
    """The leader's pod dies (SIGKILL to its processes, as when its node fails): the other
    voters elect a new leader, gateways whose home was the dead pod are restarted by their
    liveness probe and pick another home, and writes through the Service succeed. Then
    the StatefulSet brings the pod back on its volume: it rejoins as a follower and catches
    up."""
    peers = [p for p in cluster.pods if p.is_peer()]
    survivors = [p for p in peers if p is not leader]
    before = quorum_view(cluster, peers)
    old_epoch = before.get(leader.name, (None, 0, 0, 0, False))[2]
    homes = {g.name: home_of(g) for g in cluster.pods if not g.is_peer()}
    log(f"failover: SIGKILL to every process of {leader.name} (server {sid_of(leader)}, epoch "
        f"{old_epoch}); gateway homes {homes}")
    t0 = time.time()
    cluster.kill_pod(leader)
    new_leader, view = None, {}
    deadline = time.time() + remaining(30)
    while time.time() < deadline:
        cluster.supervise()
        view = quorum_view(cluster, survivors)
        new_leader = agreed_leader(cluster, survivors, view)
        if new_leader is not None:
            break
        time.sleep(0.3)
    if not C.expect(new_leader is not None, f"failover: no new leader among {[p.name for p in survivors]} "
                                            f"after {time.time() - t0:.0f}s: {view}"):
        return
    C.expect(new_leader in voters(cluster), f"failover: {new_leader.name} leads but does not vote")
    C.expect(view[new_leader.name][2] > old_epoch,
             f"failover: the new leader's epoch {view[new_leader.name][2]} is not above {old_epoch}")
    log(f"failover: {new_leader.name} (server {sid_of(new_leader)}) leads after {time.time() - t0:.1f}s, "
        f"epoch {view[new_leader.name][2]}")
    # Readiness: the survivors' containers are ready again (a follower's replication turns
    # SERVING only once it has synced with the new leader, a moment after the election
    # agrees), the dead pod's are not.
    cluster.wait_ready(survivors, time.time() + remaining(20), what="ready under the new leader")
    C.expect(not leader.is_ready(), f"failover: {leader.name} still ready after its processes died")
    cluster.wait_gateways(time.time() + remaining(30), liveness_window=LIVENESS_WINDOW)
    host, port = client_service(cluster)
    if host is not None:
        out = run_client(cluster, AFTER_FAILOVER, f"failover: ZooKeeper client through {host}:{port}",
                         host, port, max(2, gateways), cap=40)
        if out is not None:
            C.equal(out["reads"], [f"written after the failover through connection {i}"
                                   for i in range(max(2, gateways))], "failover: writes read back")
            C.equal(out["before"], "updated", "failover: a write committed before survives the leader")
            log(f"failover: {len(out['reads'])} writes through {host}:{port} under the new leader")
    # The StatefulSet recreates the pod (same name, same volume): it follows the new leader.
    log(f"failover: {leader.name} comes back on its volume")
    if cluster.run_init(leader):
        cluster.start_containers(leader)
        # Every container of every pod ready again (gateways homed on it reconnect).
        cluster.wait_ready(cluster.pods, time.time() + remaining(30), what="ready again")
    deadline = time.time() + remaining(15)
    while True:
        view = quorum_view(cluster, peers)
        back = view.get(leader.name)
        led = view.get(new_leader.name)
        if (back and led and back[0] == "following" and back[1] == sid_of(new_leader) and
                back[3] == led[3]) or time.time() >= deadline:
            break
        time.sleep(0.3)
    C.expect(back is not None and back[0] == "following" and back[1] == sid_of(new_leader),
             f"failover: {leader.name} does not follow the new leader after coming back: {back}")
    C.expect(back is not None and led is not None and back[3] == led[3],
             f"failover: {leader.name} did not catch up (last zxid {back and hex(back[3])}, "
             f"leader's {led and hex(led[3])})")
    C.equal(agreed_leader(cluster, peers, view), new_leader, "failover: one leader for every peer again")


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
    # The chart's default values unless told otherwise.
    sets = []
    if os.environ.get("ENSEMBLE_SIM_REPLICAS"):
        sets.append(f"replicaCount={int(os.environ['ENSEMBLE_SIM_REPLICAS'])}")
    if os.environ.get("ENSEMBLE_SIM_GATEWAYS"):
        sets.append(f"gateway.replicaCount={int(os.environ['ENSEMBLE_SIM_GATEWAYS'])}")
    observers = int(os.environ.get("ENSEMBLE_SIM_OBSERVERS") or "0")
    if observers:
        sets += ["observers.enabled=true", f"observers.replicaCount={observers}"]
    failover = os.environ.get("ENSEMBLE_SIM_FAILOVER", "1") != "0"
    docs = render(sets=sets, release=RELEASE, namespace=NAMESPACE)
    workloads = [d for d in docs if d["kind"] in ("StatefulSet", "Deployment")]
    replicas = sum(d["spec"]["replicas"] for d in workloads if d["kind"] == "StatefulSet" and
                   d["spec"]["template"]["metadata"]["labels"].get("ensemble.io/peer-type") != "observer")
    gateways = sum(d["spec"].get("replicas", 1) for d in workloads if d["kind"] == "Deployment")
    log(f"rendered with {' '.join('--set ' + x for x in sets) or 'the default values'}: "
        f"{replicas} voter(s), {observers} observer(s), {gateways} gateway(s)")
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
        cluster.check_service_selection()
        cluster.sync_services()
        # The kubelet starts every pod at once (Parallel StatefulSet, a Deployment).
        for pod in cluster.pods:
            if cluster.run_init(pod):
                cluster.start_containers(pod)
        ready = cluster.wait_ready(cluster.pods, time.time() + READY_TIMEOUT)
        # After readiness: the gateway's script writes its configuration as it starts.
        check_configs(cluster)
        if ready:
            for pod in cluster.pods:
                for c in pod.spec["containers"]:
                    if "livenessProbe" in c:
                        C.expect(cluster.probe(pod, c["livenessProbe"]),
                                 f"{pod.name}/{c['name']}: liveness probe fails")
            leader = check_status(cluster)
            check_metrics(cluster)
            check_client(cluster, gateways)
            check_every_gateway_served(cluster)
            cluster.supervise()
            if failover and replicas >= 3 and leader is not None:
                check_failover(cluster, leader, gateways)
        restarts = {f"{p.name}/{c}": n for p in cluster.pods for c, n in p.restarts.items() if n}
        if restarts:
            log(f"container restarts (the kubelet would restart them too): {restarts}")
        ok = not C.failures
    except KeyboardInterrupt as e:
        C.expect(False, f"interrupted: {e}")
    except Exception as e:  # noqa: BLE001
        traceback.print_exc()
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
    C.finish(f"test_install_sim ({replicas} voter(s), {observers} observer(s), {gateways} gateway(s), "
             f"{time.time() - START:.0f}s)")


if __name__ == "__main__":
    main()
