"""The container images (docker/Dockerfile), checked without a Docker engine:

- the stages: a Debian 12 build stage with the packages tools/deps.sh builds with,
  a debian:12-slim runtime, one target per process with its binary where the chart
  runs it, a numeric non-root user equal to the chart's runAsUser;
- the runtime libraries: every shared library the built binaries load (ldd) comes
  from a package the target installs (dpkg -S), and every package it installs is
  needed (libc6 is in every Debian image);
- the chart's scripts run with only the commands of Debian's Essential packages
  (which every Debian image has);
- docker/build-images.sh tags the images with the names the chart uses.

Binaries come from $ENSEMBLE_BIN/bin (a build folder; by default the one ctest was
configured with, see helm_common.bin_dir). A binary not built yet is
reported and the test exits 77 (ctest: skipped) if nothing else failed.
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helm_common import CHART, ROOT, Checks, bin_dir, find, render, tools  # noqa: E402

C = Checks()
DOCKERFILE = os.path.join(ROOT, "docker", "Dockerfile")
TARGETS = ["storage", "replication", "election", "gateway"]
IMPLICIT = {"libc6"}  # in every Debian image (Essential)
# Build packages of tools/deps.sh that the image build does not need: the fuzzers'
# clang and the formatter.
NOT_FOR_IMAGES = {"clang", "libclang-rt-14-dev", "clang-format"}


def parse_dockerfile(path):
    """Returns {stage: {"from": image, "packages": set, "copies": [(src, dst, from)],
    "user": str|None, "entrypoint": str|None}} and the stage order."""
    text = open(path).read()
    # Join continuation lines; drop comments.
    lines, cur = [], ""
    for raw in text.splitlines():
        s = raw.strip()
        if not cur and (not s or s.startswith("#")):
            continue
        if s.startswith("#"):
            continue
        if s.endswith("\\"):
            cur += s[:-1] + " "
            continue
        lines.append(cur + s)
        cur = ""
    stages, order, stage = {}, [], None
    for line in lines:
        instr, _, rest = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", rest.strip(), re.I)
            stage = m.group(2) or f"stage{len(order)}"
            base = m.group(1)
            stages[stage] = {"from": base, "packages": set(), "copies": [], "user": None,
                             "entrypoint": None}
            if base in stages:  # inherits
                stages[stage]["user"] = stages[base]["user"]
            order.append(stage)
        elif instr == "RUN":
            for cmd in re.split(r"&&|;", rest):
                words = shlex.split(cmd)
                words = [w for w in words if "=" not in w or w.startswith("-")]
                if len(words) >= 2 and words[0] == "apt-get" and "install" in words:
                    after = words[words.index("install") + 1:]
                    stages[stage]["packages"] |= {w for w in after if not w.startswith("-")}
        elif instr == "COPY":
            words = shlex.split(rest)
            frm = next((w.split("=", 1)[1] for w in words if w.startswith("--from=")), None)
            args = [w for w in words if not w.startswith("--")]
            stages[stage]["copies"].append((args[:-1], args[-1], frm))
        elif instr == "USER":
            stages[stage]["user"] = rest.strip()
        elif instr == "ENTRYPOINT":
            stages[stage]["entrypoint"] = rest.strip()
    return stages, order


def chain(stages, name):
    """The stage and the stages it builds on, nearest first."""
    out = []
    while name in stages:
        out.append(name)
        name = stages[name]["from"]
    return out, name  # name: the external base image


def deps_build_packages():
    """The '# build' section of tools/deps.sh."""
    text = open(os.path.join(ROOT, "tools", "deps.sh")).read()
    block = text.split("PACKAGES=(", 1)[1].split(")", 1)[0]
    pkgs, section = set(), None
    for line in block.splitlines():
        s = line.strip()
        if s.startswith("#"):
            section = s.lstrip("# ").split(":")[0].strip()
            continue
        if section == "build":
            pkgs |= set(s.split())
    return pkgs


_owners = {}


def candidates(path):
    out = [path, os.path.realpath(path)]
    for p in list(out):
        out.append(p[len("/usr"):] if p.startswith("/usr/") else "/usr" + p)
    return out


def prefetch(paths):
    """Looks up many paths in one dpkg -S call (each call reads the whole database)."""
    todo = sorted({c for p in paths for c in candidates(p)} - set(_owners))
    if not todo:
        return
    r = subprocess.run(["dpkg", "-S", *todo], capture_output=True, text=True)
    for line in r.stdout.splitlines():
        if line.startswith("diversion "):
            continue
        pkgs, _, owned = line.partition(": ")
        _owners[owned.strip()] = pkgs.split(",")[0].strip().split(":")[0]
    for c in todo:
        _owners.setdefault(c, None)


def package_of(path):
    """The Debian package that ships a path (merged /usr aware)."""
    prefetch([path])
    for c in candidates(path):
        if _owners.get(c):
            return _owners[c]
    return None


def libraries(binary):
    """Resolved shared library paths of a binary; fails on 'not found'."""
    r = subprocess.run(["ldd", binary], capture_output=True, text=True)
    C.equal(r.returncode, 0, f"ldd {binary}: {r.stderr.strip()}")
    out = []
    for line in r.stdout.splitlines():
        line = line.strip()
        if "not found" in line:
            C.expect(False, f"{binary}: {line}")
        m = re.search(r"=>\s+(/\S+)", line) or re.match(r"(/\S+)\s+\(", line)
        if m:
            out.append(m.group(1))
    return out


def check_stages(stages, order):
    C.expect("build" in stages, "Dockerfile: no build stage")
    C.expect(stages["build"]["from"].startswith("debian:12"), "build stage is not Debian 12")
    want = deps_build_packages() - NOT_FOR_IMAGES
    C.expect(want, "tools/deps.sh: no build packages found")
    missing = want - stages["build"]["packages"]
    C.expect(not missing, f"build stage lacks tools/deps.sh build packages {sorted(missing)}")
    C.expect("libssl-dev" in stages["build"]["packages"], "build stage lacks libssl-dev (gateway)")
    values = yaml.safe_load(open(os.path.join(CHART, "values.yaml")))
    uid = values["podSecurityContext"]["runAsUser"]
    for t in TARGETS:
        C.expect(t in stages, f"Dockerfile: no target {t}")
        if t not in stages:
            continue
        names, base = chain(stages, t)
        C.equal(base, "debian:12-slim", f"{t}: runtime base image")
        C.expect("build" not in names, f"{t}: the runtime image builds on the build stage")
        C.equal(stages[t]["user"], f"{uid}:{uid}", f"{t}: USER (the chart's runAsUser {uid})")
        dests = {}
        for n in names:
            for srcs, dst, frm in stages[n]["copies"]:
                C.equal(frm, "build", f"{t}: copies from {frm}")
                dests[dst] = srcs
        C.equal(dests.get(f"/usr/local/bin/ensemble-{t}"), [f"/out/ensemble-{t}"], f"{t}: its binary")
        C.equal(dests.get("/usr/local/bin/ensemblectl"), ["/out/ensemblectl"], f"{t}: ensemblectl")
        C.equal(stages[t]["entrypoint"], f'["/usr/local/bin/ensemble-{t}"]', f"{t}: ENTRYPOINT")


def check_libraries(stages):
    missing_binaries = []
    for t in TARGETS:
        names, _ = chain(stages, t)
        listed = set().union(*(stages[n]["packages"] for n in names))
        needed = set()
        binaries = [f"ensemble-{t}", "ensemblectl"]
        for b in binaries:
            path = os.path.join(bin_dir(), b)
            if not os.path.exists(path):
                missing_binaries.append(path)
                continue
            libs = libraries(path)
            prefetch(libs)
            for lib in libs:
                pkg = package_of(lib)
                C.expect(pkg is not None, f"{t}: no Debian package ships {lib} ({b})")
                if pkg:
                    needed.add(pkg)
                    C.expect(pkg in listed or pkg in IMPLICIT,
                             f"{t}: {b} loads {lib} from {pkg}, which the image does not install")
        if all(os.path.exists(os.path.join(bin_dir(), b)) for b in binaries):
            extra = listed - needed
            C.expect(not extra, f"{t}: installs packages no binary of it loads: {sorted(extra)}")
            print(f"{t}: {len(needed)} runtime packages, all installed by the image")
    return missing_binaries


def check_scripts_use_essential_commands():
    """Runs the chart's scripts with PATH holding only Essential packages' commands."""
    data = next(d for d in render() if d["kind"] == "ConfigMap")["data"]
    allowed = ["cat", "mv", "mkdir", "head", "sed", "od", "tr"]
    tmp = tempfile.mkdtemp(prefix="ens-essential-")
    try:
        pathdir = os.path.join(tmp, "path")
        os.makedirs(pathdir)
        for cmd in allowed:
            exe = shutil.which(cmd, path="/usr/bin:/bin")
            pkg = package_of(exe)
            r = subprocess.run(["dpkg-query", "-W", "-f=${Essential}", pkg], capture_output=True, text=True)
            C.equal(r.stdout.strip(), "yes", f"{cmd} ({pkg}) is not in an Essential package")
            os.symlink(exe, os.path.join(pathdir, cmd))
        r = subprocess.run(["dpkg-query", "-W", "-f=${Essential}", package_of("/bin/sh") or "dash"],
                           capture_output=True, text=True)
        C.equal(r.stdout.strip(), "yes", "/bin/sh is not Essential")
        for d in ("scripts", "run", "data", "secrets", "tls"):
            os.makedirs(os.path.join(tmp, d))
        fake = os.path.join(tmp, "fake-gateway")
        with open(fake, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(fake, 0o755)
        for k in ("lib.sh", "peer-init.sh", "gateway-start.sh"):
            with open(os.path.join(tmp, "scripts", k), "w") as f:
                f.write(data[k].replace("/usr/local/bin/ensemble-gateway", fake))
        with open(os.path.join(tmp, "secrets", "sessionSecret"), "w") as f:
            f.write("s3cret\\x")
        for key, script in (("zoo.cfg", "peer-init.sh"), ("gateway.cfg", "gateway-start.sh")):
            with open(os.path.join(tmp, key), "w") as f:
                f.write(data[key])
            env = {"PATH": pathdir, "POD_NAME": "ens-ensemble-0", "ENSEMBLE_SID_BASE": "0",
                   "ENSEMBLE_PEERS": "a b", "ENSEMBLE_STORAGE_PORT": "2890", "ENSEMBLE_QUORUM_PORT": "2888",
                   "ENSEMBLE_CONFIG_TEMPLATE": os.path.join(tmp, key),
                   "ENSEMBLE_CONFIG": os.path.join(tmp, "run", key),
                   "ENSEMBLE_DATA_DIR": os.path.join(tmp, "data"),
                   "ENSEMBLE_SECRETS_DIR": os.path.join(tmp, "secrets"),
                   "ENSEMBLE_TLS_DIR": os.path.join(tmp, "tls")}
            r = subprocess.run(["/bin/sh", os.path.join(tmp, "scripts", script)], env=env,
                               capture_output=True, text=True)
            C.equal(r.returncode, 0, f"{script} with Essential commands only: {r.stderr.strip()}")
            written = open(os.path.join(tmp, "run", key)).read()
            C.expect("ensemble.sessionSecret=s3cret\\\\x\n" in written,
                     f"{script}: secret not written with its backslash escaped")
    finally:
        shutil.rmtree(tmp)


def check_image_names():
    """docker/build-images.sh tags what the chart runs (a stand-in docker logs the calls)."""
    tmp = tempfile.mkdtemp(prefix="ens-docker-")
    try:
        log = os.path.join(tmp, "log")
        fake = os.path.join(tmp, "docker")
        with open(fake, "w") as f:
            f.write(f'#!/bin/sh\nprintf "%s\\n" "$*" >> {shlex.quote(log)}\n')
        os.chmod(fake, 0o755)
        env = dict(os.environ, PATH=f"{tmp}:{os.environ.get('PATH', '/usr/bin:/bin')}",
                   REGISTRY="registry.example.com/team", TAG="1.2.3")
        r = subprocess.run([os.path.join(ROOT, "docker", "build-images.sh")], env=env,
                           capture_output=True, text=True)
        C.equal(r.returncode, 0, f"build-images.sh: {r.stderr.strip()}")
        built = {}
        for line in open(log).read().splitlines():
            words = line.split()
            built[words[words.index("--target") + 1]] = words[words.index("-t") + 1]
        docs = render(sets=["image.registry=registry.example.com/team", "image.tag=1.2.3"])
        used = set()
        for w in find(docs, "StatefulSet") + find(docs, "Deployment"):
            spec = w["spec"]["template"]["spec"]
            for c in spec.get("initContainers", []) + spec["containers"]:
                used.add(c["image"])
        C.equal(sorted(built), sorted(TARGETS), "build-images.sh targets")
        C.equal(used, set(built.values()), "the chart's images are the ones build-images.sh tags")
    finally:
        shutil.rmtree(tmp)


def main():
    tools()
    stages, order = parse_dockerfile(DOCKERFILE)
    check_stages(stages, order)
    missing = check_libraries(stages)
    check_scripts_use_essential_commands()
    check_image_names()
    if missing and not C.failures:
        print(f"test_images: {C.count} checks passed, but these binaries are not built yet, so "
              f"their libraries were not checked: {' '.join(sorted(set(missing)))}")
        sys.exit(77)
    C.finish("test_images")


if __name__ == "__main__":
    main()
