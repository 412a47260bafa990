#!/usr/bin/env bash
# Builds Ensemble's four images from docker/Dockerfile (needs Docker with BuildKit).
#   docker/build-images.sh                     tags ensemble/ensemble-<process>:<version>
#   REGISTRY=ghcr.io/acme TAG=dev docker/build-images.sh
#   PUSH=1 ...                                 also pushes them
# The names match the Helm chart's defaults (image.registry, image.repositoryPrefix,
# image.tag).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
version=$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\}$/\1/p' "$root/helm/ensemble/Chart.yaml")
tag=${TAG:-$version}
prefix=${REGISTRY:+$REGISTRY/}${REPOSITORY_PREFIX:-ensemble/ensemble}
for target in storage replication election gateway; do
  image="$prefix-$target:$tag"
  echo "build-images: $image"
  DOCKER_BUILDKIT=1 docker build -f "$root/docker/Dockerfile" --target "$target" -t "$image" "$root"
  if [[ -n ${PUSH:-} ]]; then docker push "$image"; fi
done
