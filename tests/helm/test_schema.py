"""The chart's rendered manifests against the Kubernetes API schemas, offline
(validate_manifests.mjs: kubernetes-models' JSON schemas, plus a strict unknown-field
check from @kubernetes/client-node's field lists; both from Kubernetes' OpenAPI spec).

First checks that the validator rejects broken manifests, so a pass means something.
"""

import copy
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from helm_common import VALUES_ALL, Checks, render, tools, validate_schema  # noqa: E402

C = Checks()

SCENARIOS = [
    ("default values", [], []),
    ("every feature on (values-all.yaml)", [VALUES_ALL], []),
    ("5 voters, no persistence, NodePort", [], ["replicaCount=5", "persistence.enabled=false",
                                                "gateway.service.type=NodePort",
                                                "gateway.service.nodePort=30181"]),
    ("1 voter with observers, no PDBs", [], ["observers.enabled=true", "podDisruptionBudget.enabled=false",
                                             "gateway.podDisruptionBudget.enabled=false"]),
]


def self_check(docs):
    """The validator must catch each of these."""
    def statefulset(d):
        return next(x for x in d if x["kind"] == "StatefulSet")

    def service(d):
        return next(x for x in d if x["kind"] == "Service")

    breakages = {
        "unknown container field": lambda d: statefulset(d)["spec"]["template"]["spec"]["containers"][0]
        .__setitem__("readinesProbe", {}),
        "probe port as a string": lambda d: statefulset(d)["spec"]["template"]["spec"]["containers"][0]
        ["readinessProbe"]["grpc"].__setitem__("port", "storage"),
        "missing selector": lambda d: statefulset(d)["spec"].pop("selector"),
        "misspelled Service field": lambda d: service(d)["spec"].__setitem__("clusterIp", "None"),
        "unknown kind": lambda d: d.append({"apiVersion": "v1", "kind": "Nonsense", "metadata": {"name": "x"}}),
        "replicas as text": lambda d: statefulset(d)["spec"].__setitem__("replicas", "three"),
    }
    for what, brk in breakages.items():
        broken = copy.deepcopy(docs)
        brk(broken)
        ok, out = validate_schema(broken)
        C.expect(not ok, f"validator accepted a manifest with {what}")


def main():
    tools()
    self_check(render())
    for label, values, sets in SCENARIOS:
        docs = render(values, sets)
        ok, out = validate_schema(docs)
        print(f"{label}: {out.strip().splitlines()[-1] if out.strip() else ''}")
        C.expect(ok, f"{label}: invalid manifests:\n{out}")
        C.expect(len(docs) >= 8, f"{label}: only {len(docs)} manifests")
    C.finish("test_schema")


if __name__ == "__main__":
    main()
