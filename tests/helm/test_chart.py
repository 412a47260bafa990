"""The Helm chart: lint, render and check its wiring, with the default values, with
every optional feature on (values-all.yaml), and with several ensemble sizes.

Fails (exit 1) listing every check that did not hold.
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helm_common import (CHART, NAMESPACE, RELEASE, ROOT, VALUES_ALL, Checks, find, helm,  # noqa: E402
                         one, render, render_text, tools, value_args)

C = Checks()
FULL = f"{RELEASE}-ensemble"
HEADLESS = f"{FULL}-headless"
GATEWAY = f"{FULL}-gateway"
OBSERVER = f"{FULL}-observer"
DOMAIN = f"{HEADLESS}.{NAMESPACE}.svc.cluster.local"
APP_VERSION = yaml.safe_load(open(os.path.join(CHART, "Chart.yaml")))["appVersion"]
DNS1123_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
DNS1123_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")
PORT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def parse_cfg(text):
    """zoo.cfg as the chart writes it: key=value lines, # comments."""
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line[0] in "#!":
            continue
        k, _, v = line.partition("=")
        C.expect(k.strip() not in out, f"zoo.cfg: {k.strip()} set twice")
        out[k.strip()] = v.strip()
    return out


def port_of(address):
    return int(address.rsplit(":", 1)[1])


def pod_spec(workload):
    return workload["spec"]["template"]["spec"]


def pod_labels(workload):
    return workload["spec"]["template"]["metadata"]["labels"]


def selects(selector, labels):
    return all(labels.get(k) == v for k, v in selector.items())


def all_containers(spec):
    return spec.get("initContainers", []) + spec["containers"]


def container(spec, name):
    found = [c for c in all_containers(spec) if c["name"] == name]
    assert len(found) == 1, f"container {name}: {len(found)}"
    return found[0]


def env_of(c):
    return {e["name"]: e.get("value", e.get("valueFrom")) for e in c.get("env", [])}


def configmap_data(docs):
    return one(docs, "ConfigMap", FULL)["data"]


# ---------------------------------------------------------------------------
# Checks that hold for every rendering.
# ---------------------------------------------------------------------------


def check_common(docs, label, values):
    names = set()
    for d in docs:
        md = d["metadata"]
        name = f"{label}: {d['kind']}/{md['name']}"
        C.expect((d["kind"], md["name"]) not in names, f"{name}: defined twice")
        names.add((d["kind"], md["name"]))
        C.expect(len(md["name"]) <= 63 and DNS1123_SUBDOMAIN.match(md["name"]) is not None,
                 f"{name}: not a valid name")
        C.equal(md.get("namespace"), NAMESPACE, f"{name}: namespace")
        for k, v in md.get("labels", {}).items():
            C.expect(len(str(v)) <= 63, f"{name}: label {k} longer than 63")
        C.equal(md.get("labels", {}).get("app.kubernetes.io/instance"), RELEASE,
                f"{name}: instance label")
    for w in find(docs, "StatefulSet") + find(docs, "Deployment"):
        check_pod(w, docs, f"{label}: {w['kind']}/{w['metadata']['name']}", values)


def check_pod(w, docs, label, values):
    spec = pod_spec(w)
    sc = spec["securityContext"]
    C.expect(sc.get("runAsNonRoot") is True, f"{label}: pod runAsNonRoot")
    C.expect(sc.get("runAsUser", 0) != 0, f"{label}: pod runAsUser is root")
    C.expect("fsGroup" in sc, f"{label}: pod fsGroup (volumes writable by the user)")
    C.equal(spec.get("automountServiceAccountToken"), False, f"{label}: service account token")
    C.equal(spec.get("enableServiceLinks"), False, f"{label}: enableServiceLinks")
    C.expect(selects(w["spec"]["selector"]["matchLabels"], pod_labels(w)),
             f"{label}: selector does not select its own pods")
    C.expect("checksum/config" in w["spec"]["template"]["metadata"].get("annotations", {}),
             f"{label}: checksum/config annotation")
    volumes = {v["name"] for v in spec.get("volumes", [])}
    volumes |= {t["metadata"]["name"] for t in w["spec"].get("volumeClaimTemplates", [])}
    port_names = []
    for c in all_containers(spec):
        cl = f"{label}: container {c['name']}"
        csc = c.get("securityContext", {})
        C.expect(csc.get("readOnlyRootFilesystem") is True, f"{cl}: readOnlyRootFilesystem")
        C.expect(csc.get("allowPrivilegeEscalation") is False, f"{cl}: allowPrivilegeEscalation")
        C.expect(csc.get("runAsNonRoot") is True, f"{cl}: runAsNonRoot")
        C.equal(csc.get("capabilities", {}).get("drop"), ["ALL"], f"{cl}: capabilities drop")
        C.expect("resources" in c and c["resources"].get("requests"), f"{cl}: resource requests")
        for m in c.get("volumeMounts", []):
            C.expect(m["name"] in volumes, f"{cl}: mounts undefined volume {m['name']}")
        for p in c.get("ports", []):
            port_names.append(p["name"])
            C.expect(len(p["name"]) <= 15 and PORT_NAME.match(p["name"]) and
                     re.search("[a-z]", p["name"]), f"{cl}: bad port name {p['name']}")
        for e in c.get("env", []):
            C.expect(re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", e["name"]), f"{cl}: env name {e['name']}")
        if c in spec["containers"]:
            for probe in ("livenessProbe", "readinessProbe"):
                C.expect(probe in c and "grpc" in c[probe], f"{cl}: native grpc {probe}")
        # Every image is <registry>/<prefix>-<process>:<tag> of an image the Dockerfile builds.
        C.expect(re.search(r"ensemble-(storage|replication|election|gateway)[:@]", c["image"]),
                 f"{cl}: image {c['image']} is not one of the four Ensemble images")
    C.equal(len(port_names), len(set(port_names)), f"{label}: port names unique in the pod")
    names = [c["name"] for c in all_containers(spec)]
    C.equal(len(names), len(set(names)), f"{label}: container names unique")


def check_services(docs, label):
    """Every Service's selector picks pods, and its targetPorts exist in them."""
    pods = [(w, pod_labels(w), pod_spec(w)) for w in find(docs, "StatefulSet") + find(docs, "Deployment")]
    for s in find(docs, "Service"):
        sl = f"{label}: Service/{s['metadata']['name']}"
        chosen = [p for p in pods if selects(s["spec"]["selector"], p[1])]
        C.expect(chosen, f"{sl}: selects no pods")
        for port in s["spec"]["ports"]:
            tp = port.get("targetPort", port["port"])
            for w, _, spec in chosen:
                cports = {p["name"]: p["containerPort"] for c in spec["containers"] for p in c.get("ports", [])}
                ok = tp in cports if isinstance(tp, str) else tp in cports.values()
                C.expect(ok, f"{sl}: targetPort {tp} not a port of {w['metadata']['name']}")


def check_peer_statefulset(sts, cfg, docs, label, values, role="participant"):
    spec = pod_spec(sts)
    C.equal(sts["spec"]["serviceName"], HEADLESS, f"{label}: serviceName")
    C.equal(sts["spec"]["podManagementPolicy"], "Parallel", f"{label}: podManagementPolicy")
    C.equal([c["name"] for c in spec["containers"]], ["storage", "replication", "election"],
            f"{label}: containers")
    C.equal(pod_labels(sts).get("ensemble.io/peer-type"), role, f"{label}: peer-type label")
    own = {"storage": ("ensemble.storage.grpc", "storage"),
           "replication": ("ensemble.replication.grpc", "quorum"),
           "election": ("ensemble.election.grpc", "election")}
    servers = {k: v for k, v in cfg.items() if k.startswith("server.")}
    any_server = next(iter(servers.values())).split(":")
    server_ports = {"replication": int(any_server[1]), "election": int(any_server[2])}
    for c in spec["containers"]:
        name = c["name"]
        cl = f"{label}: {name}"
        C.equal(c["command"], [f"/usr/local/bin/ensemble-{name}"], f"{cl}: command")
        C.equal(c["args"], ["--config", "/run/ensemble/zoo.cfg"], f"{cl}: args")
        key, port_name = own[name]
        port = port_of(cfg[key])
        C.expect(cfg[key].startswith(values.get("listenAddress", "0.0.0.0") + ":"),
                 f"{cl}: {key}={cfg[key]} does not listen on the pod's addresses")
        cports = {p["name"]: p["containerPort"] for p in c["ports"]}
        C.equal(cports.get(port_name), port, f"{cl}: container port {port_name} vs {key}")
        if name in server_ports:
            C.equal(port, server_ports[name], f"{cl}: {key} vs the server.N lines")
        metrics = port_of(cfg[f"ensemble.metrics.{name}"])
        C.expect(metrics in cports.values(), f"{cl}: metrics port {metrics} not a container port")
        for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
            C.equal(c.get(probe, {}).get("grpc", {}).get("port"), port, f"{cl}: {probe} port")
        mounts = {m["mountPath"]: m for m in c["volumeMounts"]}
        C.expect("/run/ensemble" in mounts, f"{cl}: /run/ensemble (its zoo.cfg) not mounted")
        C.expect(cfg["dataDir"] in mounts and not mounts[cfg["dataDir"]].get("readOnly"),
                 f"{cl}: dataDir {cfg['dataDir']} not a writable mount (storage.sock, data)")
        if name == "storage" and "dataLogDir" in cfg:
            C.expect(cfg["dataLogDir"] in mounts and not mounts[cfg["dataLogDir"]].get("readOnly"),
                     f"{cl}: dataLogDir not a writable mount")
    init = container(spec, "init")
    env = env_of(init)
    C.equal(env.get("POD_NAME"), {"fieldRef": {"fieldPath": "metadata.name"}}, f"{label}: POD_NAME")
    C.equal(env.get("ENSEMBLE_CONFIG"), "/run/ensemble/zoo.cfg", f"{label}: init writes the config")
    C.equal(env.get("ENSEMBLE_DATA_DIR"), cfg["dataDir"], f"{label}: init's data dir")
    imounts = {m["mountPath"]: m for m in init["volumeMounts"]}
    C.expect(not imounts.get("/run/ensemble", {"readOnly": True}).get("readOnly"),
             f"{label}: init cannot write /run/ensemble")
    return env


def run_peer_init(docs, pod_name, sid_base, myid=None, secrets=None):
    """Runs the rendered peer-init.sh as the init container would; returns
    (exit code, written config or None, myid file, stderr)."""
    data = configmap_data(docs)
    tmp = tempfile.mkdtemp(prefix="ens-init-")
    try:
        for d in ("scripts", "run", "data", "secrets", "tls"):
            os.makedirs(os.path.join(tmp, d))
        for k in ("lib.sh", "peer-init.sh"):
            with open(os.path.join(tmp, "scripts", k), "w") as f:
                f.write(data[k])
        with open(os.path.join(tmp, "zoo.cfg"), "w") as f:
            f.write(data["zoo.cfg"])
        for k, v in (secrets or {}).items():
            with open(os.path.join(tmp, "secrets", k), "w") as f:
                f.write(v)
        if myid is not None:
            with open(os.path.join(tmp, "data", "myid"), "w") as f:
                f.write(f"{myid}\n")
        env = {"PATH": "/usr/bin:/bin", "POD_NAME": pod_name, "ENSEMBLE_SID_BASE": str(sid_base),
               "ENSEMBLE_CONFIG_TEMPLATE": os.path.join(tmp, "zoo.cfg"),
               "ENSEMBLE_CONFIG": os.path.join(tmp, "run", "zoo.cfg"),
               "ENSEMBLE_DATA_DIR": os.path.join(tmp, "data"),
               "ENSEMBLE_SECRETS_DIR": os.path.join(tmp, "secrets"),
               "ENSEMBLE_TLS_DIR": os.path.join(tmp, "tls")}
        r = subprocess.run(["/bin/sh", os.path.join(tmp, "scripts", "peer-init.sh")], env=env,
                           capture_output=True, text=True)
        out = os.path.join(tmp, "run", "zoo.cfg")
        cfg = open(out).read() if os.path.exists(out) else None
        mode = oct(os.stat(out).st_mode & 0o777) if cfg is not None else None
        myid_file = open(os.path.join(tmp, "data", "myid")).read().strip() \
            if os.path.exists(os.path.join(tmp, "data", "myid")) else None
        return r.returncode, cfg, myid_file, r.stderr, mode
    finally:
        shutil.rmtree(tmp)


def check_sids(docs, voters, observers, sid_base, label, secrets=None):
    """The server id of every pod, from its ordinal, matches its server.N line."""
    cfg = parse_cfg(configmap_data(docs)["zoo.cfg"])
    pods = [(f"{FULL}-{i}", 0, i + 1, "") for i in range(voters)]
    pods += [(f"{OBSERVER}-{i}", sid_base, sid_base + i + 1, ":observer") for i in range(observers)]
    for pod, base, want, suffix in pods:
        rc, out, myid, err, mode = run_peer_init(docs, pod, base, secrets=secrets)
        C.equal(rc, 0, f"{label}: peer-init of {pod} ({err.strip()})")
        if rc != 0:
            continue
        written = parse_cfg(out)
        C.equal(written.get("ensemble.myid"), str(want), f"{label}: {pod}'s ensemble.myid")
        C.equal(myid, str(want), f"{label}: {pod}'s dataDir/myid")
        C.equal(mode, "0o600", f"{label}: {pod}'s config file mode (it holds secrets)")
        C.equal(cfg.get(f"server.{want}"), f"{pod}.{DOMAIN}:2888:3888{suffix}",
                f"{label}: server.{want} is {pod}")
        if secrets:
            C.equal(written.get("ensemble.sessionSecret"), secrets["sessionSecret"],
                    f"{label}: sessionSecret written")
            C.equal(written.get("DigestAuthenticationProvider.superDigest"), secrets["superDigest"],
                    f"{label}: superDigest written")
    # A volume that belongs to another server id stops the pod.
    rc, _, _, err, _ = run_peer_init(docs, f"{FULL}-0", 0, myid=7)
    C.expect(rc != 0 and "belongs to another peer" in err,
             f"{label}: peer-init accepted a volume of server 7 for server 1")
    rc, _, _, _, _ = run_peer_init(docs, f"{FULL}-0", 0, myid=1)
    C.equal(rc, 0, f"{label}: peer-init accepts its own volume again (restart)")


def run_gateway_start(docs, peers, tries):
    """Runs the rendered gateway-start.sh with a stand-in for ensemble-gateway that
    prints its arguments; returns the argument lists of each run."""
    data = configmap_data(docs)
    tmp = tempfile.mkdtemp(prefix="ens-gw-")
    try:
        fake = os.path.join(tmp, "ensemble-gateway")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n")
        os.chmod(fake, 0o755)
        os.makedirs(os.path.join(tmp, "scripts"))
        os.makedirs(os.path.join(tmp, "run"))
        with open(os.path.join(tmp, "scripts", "lib.sh"), "w") as f:
            f.write(data["lib.sh"])
        with open(os.path.join(tmp, "scripts", "gateway-start.sh"), "w") as f:
            f.write(data["gateway-start.sh"].replace("/usr/local/bin/ensemble-gateway", fake))
        with open(os.path.join(tmp, "gateway.cfg"), "w") as f:
            f.write(data["gateway.cfg"])
        env = {"PATH": "/usr/bin:/bin", "ENSEMBLE_PEERS": peers, "ENSEMBLE_STORAGE_PORT": "2890",
               "ENSEMBLE_QUORUM_PORT": "2888",
               "ENSEMBLE_CONFIG_TEMPLATE": os.path.join(tmp, "gateway.cfg"),
               "ENSEMBLE_CONFIG": os.path.join(tmp, "run", "gateway.cfg"),
               "ENSEMBLE_SECRETS_DIR": os.path.join(tmp, "nosecrets"),
               "ENSEMBLE_TLS_DIR": os.path.join(tmp, "notls")}
        runs = []
        for _ in range(tries):
            r = subprocess.run(["/bin/sh", os.path.join(tmp, "scripts", "gateway-start.sh")],
                               env=env, capture_output=True, text=True)
            C.equal(r.returncode, 0, f"gateway-start.sh ({r.stderr.strip()})")
            runs.append(r.stdout.splitlines()[1:])  # first line: "home peer ..."
        return runs
    finally:
        shutil.rmtree(tmp)


# ---------------------------------------------------------------------------
# Scenarios.
# ---------------------------------------------------------------------------


def lint(values=(), sets=(), label=""):
    r = helm("lint", "--strict", CHART, "--namespace", NAMESPACE, *value_args(values, sets),
             check=False)
    C.expect(r.returncode == 0, f"helm lint --strict {label}:\n{r.stdout}{r.stderr}")


def test_default():
    lint(label="(default values)")
    docs = render()
    values = yaml.safe_load(open(os.path.join(CHART, "values.yaml")))
    check_common(docs, "default", values)
    check_services(docs, "default")
    kinds = sorted(d["kind"] for d in docs)
    C.equal(kinds, sorted(["ConfigMap", "Deployment", "PodDisruptionBudget", "PodDisruptionBudget",
                           "Secret", "Service", "Service", "Service", "ServiceAccount",
                           "StatefulSet"]), "default: the objects")
    data = configmap_data(docs)
    cfg = parse_cfg(data["zoo.cfg"])
    gcfg = parse_cfg(data["gateway.cfg"])
    sts = one(docs, "StatefulSet", FULL)
    C.equal(sts["spec"]["replicas"], 3, "default: three peers")
    # sid = ordinal + 1, each peer named through the headless Service, quorum:election ports.
    C.equal({k: v for k, v in cfg.items() if k.startswith("server.")},
            {f"server.{i + 1}": f"{FULL}-{i}.{DOMAIN}:2888:3888" for i in range(3)},
            "default: server lines")
    C.equal({k: v for k, v in gcfg.items() if k.startswith("server.")},
            {f"server.{i + 1}": f"{FULL}-{i}.{DOMAIN}:2888:3888" for i in range(3)},
            "default: gateway's server lines")
    C.expect("standaloneEnabled" not in cfg, "default: standaloneEnabled set")
    check_peer_statefulset(sts, cfg, docs, "default", values)
    spec = pod_spec(sts)
    for c in spec["containers"]:
        C.equal(c["image"], f"ensemble/ensemble-{c['name']}:{APP_VERSION}", f"default: {c['name']} image")
    aff = spec["affinity"]["podAntiAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    C.equal(aff["podAffinityTerm"]["topologyKey"], "kubernetes.io/hostname", "default: anti-affinity key")
    C.expect(selects(aff["podAffinityTerm"]["labelSelector"]["matchLabels"], pod_labels(sts)),
             "default: peer anti-affinity does not match the peers")
    claims = sts["spec"]["volumeClaimTemplates"]
    C.equal([t["metadata"]["name"] for t in claims], ["data"], "default: PVCs")
    C.equal(claims[0]["spec"]["resources"]["requests"]["storage"], "8Gi", "default: PVC size")
    C.expect("storageClassName" not in claims[0]["spec"], "default: storageClassName set")

    hl = one(docs, "Service", HEADLESS)
    C.equal(hl["spec"].get("clusterIP"), "None", "headless Service")
    C.equal(hl["spec"].get("publishNotReadyAddresses"), True, "headless publishes not-ready peers")
    hports = {p["name"]: p["port"] for p in hl["spec"]["ports"]}
    C.equal(hports.get("quorum"), 2888, "headless quorum port")
    C.equal(hports.get("election"), 3888, "headless election port")
    C.equal(hports.get("storage"), port_of(cfg["ensemble.storage.grpc"]), "headless storage port")
    client = one(docs, "Service", FULL)
    C.equal([(p["name"], p["port"], p["targetPort"]) for p in client["spec"]["ports"]],
            [("client", 2181, "client")], "client Service ports")
    C.expect(not selects(client["spec"]["selector"], pod_labels(sts)), "client Service selects peers")

    dep = one(docs, "Deployment", GATEWAY)
    C.equal(dep["spec"].get("replicas"), 2, "default: gateway replicas")
    C.expect(selects(client["spec"]["selector"], pod_labels(dep)), "client Service misses gateways")
    C.expect(not selects(hl["spec"]["selector"], pod_labels(dep)), "headless Service selects gateways")
    gw = container(pod_spec(dep), "gateway")
    C.equal(gw["command"], ["/bin/sh", "/opt/ensemble/scripts/gateway-start.sh"], "gateway command")
    genv = env_of(gw)
    C.equal(genv.get("ENSEMBLE_PEERS"), " ".join(f"{FULL}-{i}.{DOMAIN}" for i in range(3)),
            "gateway's home peers")
    C.equal(genv.get("ENSEMBLE_STORAGE_PORT"), str(port_of(cfg["ensemble.storage.grpc"])),
            "gateway's storage port")
    C.equal(genv.get("ENSEMBLE_QUORUM_PORT"), str(port_of(cfg["ensemble.replication.grpc"])),
            "gateway's replication port")
    gports = {p["name"]: p["containerPort"] for p in gw["ports"]}
    C.equal(gports.get("client"), int(gcfg["clientPort"]), "gateway client port vs clientPort")
    C.equal(gports.get("grpc"), port_of(gcfg["ensemble.gateway.grpc"]), "gateway grpc port")
    C.equal(gports.get("metrics"), port_of(gcfg["ensemble.metrics.gateway"]), "gateway metrics port")
    for probe in ("livenessProbe", "readinessProbe"):
        C.equal(gw[probe]["grpc"]["port"], port_of(gcfg["ensemble.gateway.grpc"]), f"gateway {probe}")
    C.expect("ensemble.storage.grpc" not in gcfg, "gateway.cfg names an upstream (the script picks it)")
    C.expect(not any(k.startswith("ensemble.metrics.") and k != "ensemble.metrics.gateway"
                     for k in gcfg), "gateway.cfg has peer metrics addresses")
    gmounts = {m["mountPath"]: m for m in gw["volumeMounts"]}
    C.expect(gcfg["dataDir"] in gmounts and not gmounts[gcfg["dataDir"]].get("readOnly"),
             "gateway dataDir is not a writable volume")
    C.expect("/run/ensemble" in gmounts and not gmounts["/run/ensemble"].get("readOnly"),
             "gateway /run/ensemble is not writable")

    pdb = one(docs, "PodDisruptionBudget", FULL)
    C.equal(pdb["spec"]["maxUnavailable"], 1, "default: PDB of three peers (a quorum of 2 stays)")
    C.expect(selects(pdb["spec"]["selector"]["matchLabels"], pod_labels(sts)), "PDB misses the peers")
    gpdb = one(docs, "PodDisruptionBudget", GATEWAY)
    C.expect(selects(gpdb["spec"]["selector"]["matchLabels"], pod_labels(dep)), "gateway PDB")

    secret = one(docs, "Secret", f"{FULL}-auth")
    session = base64.b64decode(secret["data"]["sessionSecret"]).decode()
    C.expect(len(session) >= 32, "generated sessionSecret too short")
    C.expect("superDigest" not in secret["data"], "default: superDigest set")
    check_sids(docs, 3, 0, 100, "default")

    # Gateways spread over the peers at random; each run passes its home to the binary.
    hosts = [f"{FULL}-{i}.{DOMAIN}" for i in range(3)]
    runs = run_gateway_start(docs, " ".join(hosts), 40)
    homes = set()
    for args in runs:
        C.equal(args[:2], ["--config", args[1]], "gateway-start args")
        sets = [args[i + 1] for i, a in enumerate(args) if a == "--set"]
        home = sets[0].split("=", 1)[1].rsplit(":", 1)[0] if sets else None
        homes.add(home)
        C.equal(sets, [f"ensemble.storage.grpc={home}:2890", f"ensemble.replication.grpc={home}:2888"],
                "gateway-start --set lines")
    C.equal(homes, set(hosts), "gateway-start picks every peer as a home over 40 starts")

    # A configuration change rolls the pods (checksum), and only then.
    again = render()
    C.equal(pod_spec(one(again, "StatefulSet", FULL)) and
            one(again, "StatefulSet", FULL)["spec"]["template"]["metadata"]["annotations"],
            sts["spec"]["template"]["metadata"]["annotations"], "checksum stable across renders")
    changed = render(sets=["tickTime=3000"])
    C.expect(one(changed, "StatefulSet", FULL)["spec"]["template"]["metadata"]["annotations"]
             ["checksum/config"] != sts["spec"]["template"]["metadata"]["annotations"]["checksum/config"],
             "tickTime change does not change checksum/config")
    check_notes(values, [])


def test_all_features():
    lint([VALUES_ALL], label="(values-all.yaml)")
    docs = render([VALUES_ALL])
    values = yaml.safe_load(open(VALUES_ALL))
    check_common(docs, "all", values)
    check_services(docs, "all")
    kinds = sorted({d["kind"] for d in docs})
    C.equal(kinds, sorted(["ConfigMap", "Deployment", "HorizontalPodAutoscaler", "PodDisruptionBudget",
                           "Secret", "Service", "ServiceAccount", "ServiceMonitor", "StatefulSet"]),
            "all: kinds")
    data = configmap_data(docs)
    cfg = parse_cfg(data["zoo.cfg"])
    gcfg = parse_cfg(data["gateway.cfg"])
    sts = one(docs, "StatefulSet", FULL)
    obs = one(docs, "StatefulSet", OBSERVER)
    C.equal(sts["spec"]["replicas"], 3, "all: voters")
    C.equal(obs["spec"]["replicas"], 2, "all: observers")
    servers = {k: v for k, v in cfg.items() if k.startswith("server.")}
    want = {f"server.{i + 1}": f"{FULL}-{i}.{DOMAIN}:2888:3888" for i in range(3)}
    want.update({f"server.{101 + i}": f"{OBSERVER}-{i}.{DOMAIN}:2888:3888:observer" for i in range(2)})
    C.equal(servers, want, "all: server lines")
    C.equal({k: v for k, v in gcfg.items() if k.startswith("server.")}, want, "all: gateway's server lines")
    env = check_peer_statefulset(sts, cfg, docs, "all voters", values)
    C.equal(env.get("ENSEMBLE_SID_BASE"), "0", "all: voters' sid base")
    oenv = check_peer_statefulset(obs, cfg, docs, "all observers", values, role="observer")
    C.equal(oenv.get("ENSEMBLE_SID_BASE"), "100", "all: observers' sid base")
    C.expect(not selects(sts["spec"]["selector"]["matchLabels"], pod_labels(obs)) and
             not selects(obs["spec"]["selector"]["matchLabels"], pod_labels(sts)),
             "all: the two StatefulSets' selectors overlap")
    hl = one(docs, "Service", HEADLESS)
    C.expect(selects(hl["spec"]["selector"], pod_labels(obs)), "headless Service misses observers")
    check_sids(docs, 3, 2, 100, "all", secrets={"sessionSecret": "test-session-secret",
                                                 "superDigest": values["auth"]["superDigest"]})
    dep = one(docs, "Deployment", GATEWAY)
    genv = env_of(container(pod_spec(dep), "gateway"))
    C.equal(genv.get("ENSEMBLE_PEERS", "").split(),
            [f"{FULL}-{i}.{DOMAIN}" for i in range(3)] + [f"{OBSERVER}-{i}.{DOMAIN}" for i in range(2)],
            "all: gateway homes are every peer")
    C.equal(genv.get("TZ"), "UTC", "all: extraEnv on the gateway")
    for c in all_containers(pod_spec(sts)):
        C.equal(env_of(c).get("TZ"), "UTC", f"all: extraEnv on {c['name']}")

    # Images: registry, tag, digest.
    for c in pod_spec(sts)["containers"]:
        C.equal(c["image"], f"registry.example.com/team/ensemble/ensemble-{c['name']}:1.2.3",
                f"all: {c['name']} image")
    C.equal(container(pod_spec(dep), "gateway")["image"],
            "registry.example.com/team/ensemble/ensemble-gateway@" + values["image"]["digests"]["gateway"],
            "all: gateway image by digest")
    C.equal(pod_spec(sts).get("imagePullSecrets"), [{"name": "regcred"}], "all: pull secrets")

    # Hard anti-affinity, scheduling options.
    req = pod_spec(sts)["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"][0]
    C.expect(selects(req["labelSelector"]["matchLabels"], pod_labels(sts)), "all: hard anti-affinity")
    C.equal(pod_spec(sts).get("nodeSelector"), {"disktype": "ssd"}, "all: nodeSelector")
    C.equal(pod_spec(sts).get("priorityClassName"), "ensemble-critical", "all: priorityClassName")
    C.equal(len(pod_spec(sts).get("tolerations", [])), 1, "all: tolerations")
    C.equal(len(pod_spec(sts).get("topologySpreadConstraints", [])), 1, "all: topologySpreadConstraints")

    # Separate transaction log volume.
    C.equal(cfg.get("dataLogDir"), "/datalog", "all: dataLogDir")
    claims = {t["metadata"]["name"]: t for t in sts["spec"]["volumeClaimTemplates"]}
    C.equal(sorted(claims), ["data", "datalog"], "all: PVCs")
    C.equal(claims["datalog"]["spec"].get("storageClassName"), "faster", "all: datalog class")
    C.equal(claims["data"]["spec"].get("storageClassName"), "fast", "all: data class")
    C.equal(claims["datalog"]["spec"]["resources"]["requests"]["storage"], "10Gi", "all: datalog size")

    # Settings.
    for k, v in {"minSessionTimeout": "4000", "maxSessionTimeout": "40000",
                 "fsync.warningthresholdms": "500", "globalOutstandingLimit": "2000"}.items():
        C.equal(cfg.get(k), v, f"all: zoo.cfg {k}")
        C.equal(gcfg.get(k), v, f"all: gateway.cfg {k}")
    C.expect("standaloneEnabled" not in cfg, "all: standaloneEnabled with 3 voters")

    # TLS.
    C.equal(gcfg.get("secureClientPort"), "2281", "all: secureClientPort")
    C.equal(cfg.get("sslQuorum"), "true", "all: sslQuorum")
    C.expect("secureClientPort" not in cfg, "all: peers get secureClientPort")
    gw = container(pod_spec(dep), "gateway")
    C.expect({"name": "client-tls", "containerPort": 2281, "protocol": "TCP"} in gw["ports"],
             "all: gateway TLS port")
    vols = {v["name"]: v for v in pod_spec(dep)["volumes"]}
    C.equal(vols.get("client-tls", {}).get("secret", {}).get("secretName"), "ensemble-client-tls",
            "all: client TLS secret volume")
    C.expect(any(m["mountPath"] == "/etc/ensemble/tls/client" for m in gw["volumeMounts"]),
             "all: client TLS mount")
    C.expect(gcfg.get("ssl.trustStore.location", "").startswith("/etc/ensemble/tls/client/"),
             "all: trust store in the mounted secret")
    pvols = {v["name"]: v for v in pod_spec(sts)["volumes"]}
    C.equal(pvols.get("quorum-tls", {}).get("secret", {}).get("secretName"), "ensemble-quorum-tls",
            "all: quorum TLS secret volume")
    client = one(docs, "Service", FULL)
    C.equal([p["port"] for p in client["spec"]["ports"]], [2181, 2281], "all: client Service ports")
    C.equal(client["spec"]["type"], "LoadBalancer", "all: service type")
    C.equal(client["spec"].get("externalTrafficPolicy"), "Local", "all: externalTrafficPolicy")
    C.equal(client["metadata"]["annotations"].get("service.beta.kubernetes.io/aws-load-balancer-type"),
            "nlb", "all: service annotations")
    C.equal(client["metadata"]["annotations"].get("owner"), "storage-team", "all: common annotations")

    # Auth.
    secret = one(docs, "Secret", f"{FULL}-auth")
    C.equal(base64.b64decode(secret["data"]["superDigest"]).decode(), values["auth"]["superDigest"],
            "all: superDigest in the Secret")
    C.equal(base64.b64decode(secret["data"]["sessionSecret"]).decode(), "test-session-secret",
            "all: sessionSecret in the Secret")

    # HPA: the Deployment leaves replicas to it.
    hpa = one(docs, "HorizontalPodAutoscaler", GATEWAY)
    C.equal(hpa["apiVersion"], "autoscaling/v2", "HPA apiVersion")
    C.equal(hpa["spec"]["scaleTargetRef"], {"apiVersion": "apps/v1", "kind": "Deployment", "name": GATEWAY},
            "HPA target")
    C.equal((hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]), (3, 12), "HPA bounds")
    C.equal(sorted(m["resource"]["name"] for m in hpa["spec"]["metrics"]), ["cpu", "memory"], "HPA metrics")
    C.expect("replicas" not in dep["spec"], "with HPA the Deployment must not set replicas")

    # PDB with 3 voters, voters only.
    pdb = one(docs, "PodDisruptionBudget", FULL)
    C.equal(pdb["spec"]["maxUnavailable"], 1, "all: PDB of 3 voters")
    C.expect(not selects(pdb["spec"]["selector"]["matchLabels"], pod_labels(obs)), "PDB counts observers")

    # ServiceMonitor: every endpoint port exists in a selected Service; gateways and peers covered.
    sm = one(docs, "ServiceMonitor", FULL)
    C.equal(sm["metadata"]["labels"].get("release"), "prometheus", "ServiceMonitor labels")
    chosen = [s for s in find(docs, "Service") if selects(sm["spec"]["selector"]["matchLabels"],
                                                          s["metadata"]["labels"])]
    C.equal(sorted(s["metadata"]["name"] for s in chosen), sorted([HEADLESS, f"{GATEWAY}-headless"]),
            "ServiceMonitor selects the headless Services")
    svc_ports = {p["name"]: p["port"] for s in chosen for p in s["spec"]["ports"]}
    metric_ports = {port_of(cfg[f"ensemble.metrics.{p}"]) for p in ("storage", "replication", "election")}
    metric_ports.add(port_of(gcfg["ensemble.metrics.gateway"]))
    C.equal({svc_ports.get(e["port"]) for e in sm["spec"]["endpoints"]}, metric_ports,
            "ServiceMonitor scrapes exactly the four metrics ports")
    for e in sm["spec"]["endpoints"]:
        C.equal((e["path"], e.get("interval"), e.get("scrapeTimeout")), ("/metrics", "15s", "10s"),
                f"ServiceMonitor endpoint {e['port']}")
        C.equal(len(e.get("relabelings", [])), 1, "ServiceMonitor relabelings")

    # Grafana dashboard.
    dash_cm = one(docs, "ConfigMap", f"{FULL}-dashboard")
    C.equal(dash_cm["metadata"]["labels"].get("grafana_dashboard"), "1", "dashboard sidecar label")
    shipped = json.load(open(os.path.join(CHART, "dashboards", "ensemble.json")))
    C.equal(json.loads(dash_cm["data"]["ensemble.json"]), shipped, "dashboard ConfigMap content")
    check_notes(values, [VALUES_ALL])


def check_dashboard():
    """The dashboard is a Grafana dashboard whose queries use metrics that exist."""
    dash = json.load(open(os.path.join(CHART, "dashboards", "ensemble.json")))
    for key in ("title", "uid", "panels", "schemaVersion", "templating"):
        C.expect(key in dash, f"dashboard: no {key}")
    ids = [p["id"] for p in dash["panels"]]
    C.equal(len(ids), len(set(ids)), "dashboard: panel ids unique")
    sources = []
    for folder in ("services", "common"):
        for dirpath, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in files:
                if f.endswith((".cc", ".h")) and not f.endswith("_test.cc"):
                    sources.append(open(os.path.join(dirpath, f), errors="replace").read())
    code = "\n".join(sources)
    metrics = set()
    for p in dash["panels"]:
        C.expect(p.get("targets"), f"dashboard: panel {p.get('title')} has no query")
        C.expect(p.get("gridPos"), f"dashboard: panel {p.get('title')} has no position")
        for t in p.get("targets", []):
            metrics |= set(re.findall(r"\b((?:ensemble|process)_[a-z0-9_]+)", t["expr"]))
    C.expect(len(metrics) >= 5, f"dashboard: only {len(metrics)} metrics")
    for m in sorted(metrics):
        base = re.sub(r"_(bucket|sum|count)$", "", m)
        C.expect(f'"{base}"' in code, f"dashboard: metric {m} is not exported by any process")


def check_notes(values, files):
    """NOTES.txt renders (through tpl, as `helm install` would) and tells how to connect."""
    tmp = tempfile.mkdtemp(prefix="ens-notes-")
    try:
        chart = os.path.join(tmp, "ensemble")
        shutil.copytree(CHART, chart)
        shutil.copy(os.path.join(chart, "templates", "NOTES.txt"), os.path.join(chart, "notes.src"))
        with open(os.path.join(chart, "templates", "zz-notes.yaml"), "w") as f:
            f.write('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: |\n'
                    '{{ tpl (.Files.Get "notes.src") . | indent 4 }}\n')
        r = helm("template", RELEASE, chart, "--namespace", NAMESPACE, "--show-only",
                 "templates/zz-notes.yaml", *value_args(files))
        notes = yaml.safe_load(r.stdout)["data"]["notes"]
        port = values.get("gateway", {}).get("service", {}).get("port", 2181)
        C.expect(f"zkCli.sh -server {FULL}.{NAMESPACE}.svc.cluster.local:{port}" in notes,
                 f"NOTES.txt does not give the zkCli.sh command:\n{notes}")
        voters = int(values.get("replicaCount", 3))
        C.expect(f"$(seq 0 {voters - 1})" in notes and f"exec {FULL}-$i -c replication" in notes,
                 f"NOTES.txt does not tell how to see each peer's role and leader:\n{notes}")
        C.expect("still being built" not in notes, "NOTES.txt still says replication is being built")
    finally:
        shutil.rmtree(tmp)


def test_sizes():
    for n in (1, 3, 5, 7):
        docs = render(sets=[f"replicaCount={n}"])
        C.equal(one(docs, "PodDisruptionBudget", FULL)["spec"]["maxUnavailable"], (n - 1) // 2,
                f"{n} voters: PDB maxUnavailable")
        cfg = parse_cfg(configmap_data(docs)["zoo.cfg"])
        C.equal(sorted(k for k in cfg if k.startswith("server.")),
                sorted(f"server.{i + 1}" for i in range(n)), f"{n} voters: server lines")
        C.equal(one(docs, "StatefulSet", FULL)["spec"]["replicas"], n, f"{n} voters: replicas")
    docs = render(sets=["replicaCount=1", "observers.enabled=true"])
    cfg = parse_cfg(configmap_data(docs)["zoo.cfg"])
    C.equal(cfg.get("standaloneEnabled"), "false", "1 voter + observers: standaloneEnabled=false")
    docs = render(sets=["replicaCount=3", "podDisruptionBudget.maxUnavailable=0"])
    C.equal(one(docs, "PodDisruptionBudget", FULL)["spec"]["maxUnavailable"], 0, "PDB override")


def test_options():
    docs = render(sets=["persistence.enabled=false"])
    sts = one(docs, "StatefulSet", FULL)
    C.expect("volumeClaimTemplates" not in sts["spec"], "persistence off: PVCs remain")
    vols = {v["name"]: v for v in pod_spec(sts)["volumes"]}
    C.expect("emptyDir" in vols.get("data", {}), "persistence off: data is not an emptyDir")
    check_common(docs, "no persistence", {})
    docs = render(sets=["persistence.storageClass=-"])
    claim = one(docs, "StatefulSet", FULL)["spec"]["volumeClaimTemplates"][0]
    C.equal(claim["spec"].get("storageClassName"), "", 'storageClass "-"')
    docs = render(sets=["peer.podAntiAffinityPreset=", "gateway.podAntiAffinityPreset="])
    C.expect("affinity" not in pod_spec(one(docs, "StatefulSet", FULL)), "no anti-affinity preset")
    docs = render(sets=["gateway.podDisruptionBudget.enabled=false", "podDisruptionBudget.enabled=false",
                        "serviceAccount.create=false"])
    C.equal(find(docs, "PodDisruptionBudget") + find(docs, "ServiceAccount"), [], "PDBs and SA off")
    C.equal(pod_spec(one(docs, "StatefulSet", FULL))["serviceAccountName"], "default", "SA name")
    docs = render(sets=["auth.existingSecret=mine"])
    C.equal(find(docs, "Secret"), [], "existingSecret: no Secret rendered")
    C.equal({v["name"]: v for v in pod_spec(one(docs, "StatefulSet", FULL))["volumes"]}["secrets"]
            ["secret"]["secretName"], "mine", "existingSecret used")
    docs = render(sets=["listenAddress=[::]"])
    gcfg = parse_cfg(configmap_data(docs)["gateway.cfg"])
    C.equal(gcfg.get("clientPortAddress"), "::", "IPv6 clientPortAddress")
    C.equal(gcfg.get("ensemble.gateway.grpc"), "[::]:2891", "IPv6 gRPC address")
    # The longest release name Helm allows still gives valid names.
    long = "r" * 53
    text = render_text(release=long)
    for d in yaml.safe_load_all(text):
        if d:
            C.expect(len(d["metadata"]["name"]) <= 63, f"long release: {d['metadata']['name']}")
            if d["kind"] == "StatefulSet":
                # Pod names <sts>-<ordinal> carry a controller-revision-hash label: 52 is the limit.
                C.expect(len(d["metadata"]["name"]) <= 52, "long release: StatefulSet name too long")
    # Required and inconsistent values fail with a message naming them.
    for s, msg in (("tls.client.enabled=true", "tls.client.existingSecret"),
                   ("tls.quorum.enabled=true", "tls.quorum.existingSecret"),
                   ("replicaCount=0", "replicaCount must be at least 1"),
                   ("replicaCount=300", "below 256"),
                   ("observers.enabled=true,replicaCount=5,observers.sidBase=3", "observers.sidBase (3)"),
                   ("observers.enabled=true,observers.sidBase=250,observers.replicaCount=10", "below 256"),
                   ("peer.podAntiAffinityPreset=strict", "peer.podAntiAffinityPreset"),
                   ("gateway.autoscaling.enabled=true,gateway.autoscaling.minReplicas=9,"
                    "gateway.autoscaling.maxReplicas=3", "minReplicas")):
        r = helm("template", RELEASE, CHART, "--set", s, check=False)
        C.expect(r.returncode != 0 and msg in r.stderr, f"{s} accepted or unclear: {r.stderr.strip()}")


# Values documented as one entry (their sub-keys are described in that entry).
DOC_GROUPS = ("image.digests", "ports.metrics", "peer.updateStrategy", "peer.resources",
              "peer.persistentVolumeClaimRetentionPolicy", "peer.startupProbe", "peer.livenessProbe",
              "peer.readinessProbe", "gateway.updateStrategy", "gateway.resources",
              "gateway.livenessProbe", "gateway.readinessProbe", "gateway.podDisruptionBudget",
              "persistence.dataLog", "tls.client", "tls.quorum", "podSecurityContext.seccompProfile",
              "containerSecurityContext.capabilities", "metrics.dashboard.labels")


def check_docs():
    """docs/kubernetes.md describes every value of values.yaml."""
    doc = open(os.path.join(ROOT, "docs", "kubernetes.md")).read()
    values = yaml.safe_load(open(os.path.join(CHART, "values.yaml")))
    keys = []

    def walk(d, prefix):
        for k, v in d.items():
            key = f"{prefix}{k}"
            if key in DOC_GROUPS or not isinstance(v, dict) or not v:
                keys.append(key)
            else:
                walk(v, key + ".")
    walk(values, "")
    for key in keys:
        C.expect(f"| `{key}` |" in doc, f"docs/kubernetes.md: value {key} is not in the table")
    table = doc.split("\n## Values\n", 1)[-1].split("\n## ", 1)[0]
    for key in re.findall(r"^\| `([A-Za-z0-9_.]+)` \|", table, re.M):
        C.expect(any(key == k or k.startswith(key + ".") for k in keys),
                 f"docs/kubernetes.md documents {key}, which values.yaml does not have")


def main():
    tools()
    check_docs()
    test_default()
    test_all_features()
    check_dashboard()
    test_sizes()
    test_options()
    C.finish("test_chart")


if __name__ == "__main__":
    main()
