#!/usr/bin/env bash
# Builds, from Debian packages and the npm registry only, the base images compose.prod.yaml and the
# Dockerfile name, tagged with those names, so both files run unchanged where no registry is reachable.
#   tests/stack/images.sh WORKDIR     (docker must reach the daemon to build in, e.g. DOCKER_HOST)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
work="$1"
mirror="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# debian:bookworm-slim: a minimal root filesystem, imported as an image.
if ! docker image inspect debian:bookworm-slim >/dev/null 2>&1; then
	rm -rf "$work/rootfs"
	debootstrap --variant=minbase bookworm "$work/rootfs" "$mirror" >"$work/debootstrap.log"
	rm -rf "$work"/rootfs/var/lib/apt/lists/* "$work"/rootfs/var/cache/apt/*.bin
	tar -C "$work/rootfs" -c . | docker import --change 'CMD ["bash"]' - debian:bookworm-slim >/dev/null
	rm -rf "$work/rootfs"
fi

# node:24-bookworm-slim: the same Node 24 that the project's `node` devDependency gives npm scripts.
mkdir -p "$work/node"
cp "$here/images/node/Dockerfile" "$(node -p 'process.execPath')" "$work/node/"
cp "${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}" "$work/node/ca-certificates.crt"

(cd "$work/node" && npm pack --silent npm@11 >/dev/null && mv npm-*.tgz npm.tgz)
docker build -q -t node:24-bookworm-slim "$work/node" >/dev/null

docker build -q -t postgres:17 "$here/images/postgres" >/dev/null
docker build -q -t tutor-stack-caddy:debian "$here/images/caddy" >/dev/null
