#!/usr/bin/env bash
# CI/test machines only, never the product: these machines reach no container registry, so the
# base image the lab's workload Dockerfiles start FROM (node:20-bookworm-slim, pulled from Docker
# Hub on a learner's machine) is stood in for by a local image of the same name: a Debian bookworm
# minbase rootfs (debootstrap) + this machine's Node.js 20 binary. Skipped when present.
set -euo pipefail
ref=node:20-bookworm-slim
if docker image inspect "$ref" >/dev/null 2>&1; then echo "stand-in $ref: present" >&2; exit 0; fi
cache=${KUBE_SECLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-seclab}
tarball="$cache/standin-node20-bookworm.tar"
if [ ! -f "$tarball" ]; then
  r=$(mktemp -d /tmp/standin-rootfs.XXXXXX)
  debootstrap --variant=minbase --include=libstdc++6,ca-certificates bookworm "$r" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
  node_bin=$(command -v node)
  "$node_bin" --version | grep -q '^v20\.' || { echo "stand-in needs a Node.js 20 binary on this machine" >&2; exit 1; }
  install -m 0755 "$node_bin" "$r/usr/local/bin/node"
  chroot "$r" groupadd --gid 1000 node && chroot "$r" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  mkdir -p "$cache"; tar -C "$r" --numeric-owner -cf "$tarball.tmp" . && mv "$tarball.tmp" "$tarball"
  rm -rf "$r"
fi
docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin NODE_VERSION=20' --change 'CMD ["node"]' "$tarball" "$ref" >/dev/null
echo "stand-in $ref: built" >&2
