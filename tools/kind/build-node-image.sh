#!/usr/bin/env bash
# Builds kube-seclab's offline kind node image, for machines that cannot pull kind's own
# (kindest/node). Everything comes from Debian's packages and the Go module proxy:
#   - a Debian rootfs (debootstrap) with systemd, containerd, runc, iptables/nftables/ipset and the
#     CNI plugins, plus the files kind's base image carries (from the kind module's images/base);
#   - kubelet, kubeadm, kubectl, and the control-plane images kubeadm asks for (kube-apiserver,
#     kube-controller-manager, kube-scheduler, kube-proxy, etcd, CoreDNS, pause), built at
#     K8S_VERSION and preloaded into the node's containerd under the names kubeadm expects;
#   - a pod network (CNI bridge) with kube-router enforcing NetworkPolicy (tools/kind/node/);
#   - the kind CLI.
# Output: the docker image kube-seclab/kind-node:<K8S_VERSION> (KUBE_SECLAB_KIND_NODE_IMAGE) and the
# kind CLI at <cache>/bin/kind-<KIND_VERSION>/kind. Skipped when the image carries the same build
# stamp. Needs root (debootstrap, chroot) and a running Docker daemon. Prints the image name last.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
tools=$(cd "$here/.." && pwd)
# shellcheck source=../versions.env
source "$tools/versions.env"
cache=${KUBE_SECLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-seclab}
image=${KUBE_SECLAB_KIND_NODE_IMAGE:-kube-seclab/kind-node:$K8S_VERSION}
kindbin="$cache/bin/kind-$KIND_VERSION"
kubebin="$cache/bin/$K8S_VERSION"
work="$cache/kind-build"
log() { echo "kube-seclab: $*" >&2; }
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false
command -v go >/dev/null || export PATH="$PATH:/usr/local/go/bin"
start=$(date +%s)

# what the image is built from: this script, its files, the versions
stamp=$(cat "$0" "$here"/node/* "$here"/pause/*.go "$here"/etcd/*.go "$tools/versions.env" | sha256sum | cut -c1-16)

# --- the kind CLI --------------------------------------------------------------------------------
if [ ! -x "$kindbin/kind" ]; then
  log "building kind $KIND_VERSION"
  GOBIN="$kindbin" go install -trimpath -ldflags "-s -w" "sigs.k8s.io/kind@$KIND_VERSION"
fi
if [ "$(docker image inspect -f '{{ index .Config.Labels "dev.kube-seclab.build" }}' "$image" 2>/dev/null)" = "$stamp" ]; then
  log "node image $image is up to date (build $stamp)"
  echo "$image"; exit 0
fi

# --- binaries ------------------------------------------------------------------------------------
bash "$tools/build-k8s.sh" >/dev/null
bash "$tools/build-k8s.sh" node >/dev/null
gobin="$cache/bin/kind-node-tools-$(cat "$here"/pause/*.go "$here"/etcd/*.go "$tools/versions.env" | sha256sum | cut -c1-12)"
if [ ! -f "$gobin/.done" ]; then
  rm -rf "$gobin"; mkdir -p "$gobin" "$work"
  log "building crictl $CRICTL_VERSION, CoreDNS $COREDNS_VERSION, kube-router $KUBE_ROUTER_VERSION, pause, etcd $KIND_ETCD_VERSION"
  GOBIN="$gobin" go install -trimpath -ldflags "-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version=$CRICTL_VERSION" "sigs.k8s.io/cri-tools/cmd/crictl@$CRICTL_VERSION"
  GOBIN="$gobin" go install -trimpath -ldflags "-s -w" "github.com/coredns/coredns@$COREDNS_VERSION"
  GOBIN="$gobin" go install -trimpath -ldflags "-s -w -X github.com/cloudnativelabs/kube-router/v2/pkg/version.Version=$KUBE_ROUTER_VERSION" \
    "github.com/cloudnativelabs/kube-router/v2/cmd/kube-router@$KUBE_ROUTER_VERSION"
  pdir="$work/pause"; rm -rf "$pdir"; mkdir -p "$pdir"; cp "$here/pause/main.go" "$pdir/"
  (cd "$pdir" && go mod init kube-seclab.local/tools/pause >/dev/null 2>&1 && go build -trimpath -ldflags "-s -w" -o "$gobin/pause" .)
  edir="$work/etcd-$KIND_ETCD_VERSION"; rm -rf "$edir"; mkdir -p "$edir"; cp "$here/etcd/tools.go" "$edir/"
  (
    cd "$edir"
    go mod init kube-seclab.local/tools/kind-etcd >/dev/null 2>&1
    go mod edit -require="go.etcd.io/etcd/server/v3@$KIND_ETCD_VERSION" -require="go.etcd.io/etcd/etcdctl/v3@$KIND_ETCD_VERSION"
    go mod tidy >&2
    go build -trimpath -ldflags "-s -w" -o "$gobin/etcd" go.etcd.io/etcd/server/v3
    go build -trimpath -ldflags "-s -w" -o "$gobin/etcdctl" go.etcd.io/etcd/etcdctl/v3
  )
  touch "$gobin/.done"
fi

# --- the Debian rootfs (kind's base image, assembled offline) -----------------------------------
kindsrc=$(go mod download -json "sigs.k8s.io/kind@$KIND_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$kindsrc/images/base/files" ] || { log "kind $KIND_VERSION sources have no images/base/files"; exit 1; }
packages=systemd,systemd-sysv,dbus,conntrack,iptables,nftables,ipset,iproute2,ethtool,util-linux,mount,kmod,libseccomp2,pigz,e2fsprogs,bash,ca-certificates,curl,jq,procps,containerd,runc,containernetworking-plugins
rootfs_tar="$cache/kind-rootfs-$DEBIAN_SUITE-$(echo "$packages" | sha256sum | cut -c1-12).tar"
if [ ! -f "$rootfs_tar" ]; then
  command -v debootstrap >/dev/null || { log "debootstrap is needed (apt-get install debootstrap)"; exit 2; }
  log "debootstrap $DEBIAN_SUITE (minbase + node packages)"
  r="$work/rootfs"; rm -rf "$r"
  debootstrap --variant=minbase --include="$packages" "$DEBIAN_SUITE" "$r" "${DEBIAN_MIRROR:-http://deb.debian.org/debian}" >&2
  rm -rf "$r"/var/cache/apt/archives/*.deb "$r"/var/lib/apt/lists/*
  tar -C "$r" --numeric-owner -cf "$rootfs_tar.tmp" .
  mv "$rootfs_tar.tmp" "$rootfs_tar"; rm -rf "$r"
fi

# netbase: the plain rootfs (a shell, iptables, nftables, ipset), the base of kube-proxy and kube-router
netbase="kube-seclab/netbase:$stamp"
if ! docker image inspect "$netbase" >/dev/null 2>&1; then
  docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' "$rootfs_tar" "$netbase" >/dev/null
fi

# the node base: rootfs + kind's base files, systemd prepared as kind's Dockerfile does
base="kube-seclab/kind-base:$stamp"
if ! docker image inspect "$base" >/dev/null 2>&1; then
  log "assembling the node base"
  r="$work/base"; rm -rf "$r"; mkdir -p "$r"; tar -C "$r" -xf "$rootfs_tar"
  f="$kindsrc/images/base/files"
  install -d -m 0755 "$r/kind" "$r/kind/bin" "$r/etc/containerd" "$r/etc/systemd/system/kubelet.service.d" "$r/etc/kubernetes/manifests" "$r/opt/cni/bin" "$r/kind/manifests"
  install -m 0755 "$f"/usr/local/bin/* "$r/usr/local/bin/"
  install -m 0644 "$f"/kind/README.txt "$r/kind/"
  install -m 0755 "$f"/kind/bin/* "$r/kind/bin/"
  install -m 0644 "$f"/etc/crictl.yaml "$r/etc/"
  install -m 0644 "$f"/etc/containerd/* "$r/etc/containerd/"
  install -m 0644 "$f"/etc/default/* "$r/etc/default/"
  install -m 0644 "$f"/etc/sysctl.d/* "$r/etc/sysctl.d/"
  install -m 0644 "$f"/etc/systemd/system/*.service "$f"/etc/systemd/system/*.slice "$r/etc/systemd/system/"
  install -m 0644 "$f"/etc/systemd/system/kubelet.service.d/* "$r/etc/systemd/system/kubelet.service.d/"
  # Debian's containerd and runc stand in for kind's own builds (kind's unit runs /usr/local/bin/containerd)
  ln -sf /usr/bin/containerd "$r/usr/local/bin/containerd"
  ln -sf /usr/bin/ctr "$r/usr/local/bin/ctr"
  for p in host-local loopback ptp portmap bridge; do ln -sf "/usr/lib/cni/$p" "$r/opt/cni/bin/$p"; done
  chroot "$r" ctr oci spec \
    | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
    | jq 'del(.process.rlimits)' > "$r/etc/containerd/cri-base.json"
  find "$r/lib/systemd/system/sysinit.target.wants/" -name "systemd-tmpfiles-setup.service" -delete
  rm -f "$r"/lib/systemd/system/multi-user.target.wants/* "$r"/etc/systemd/system/*.wants/* \
    "$r"/lib/systemd/system/local-fs.target.wants/* "$r"/lib/systemd/system/sockets.target.wants/*udev* \
    "$r"/lib/systemd/system/sockets.target.wants/*initctl* "$r"/lib/systemd/system/basic.target.wants/*
  echo "ReadKMsg=no" >> "$r/etc/systemd/journald.conf"
  ln -sf /usr/lib/systemd/systemd "$r/sbin/init"
  chroot "$r" systemctl enable kubelet.service containerd.service undo-mount-hacks.service >/dev/null 2>&1
  chroot "$r" systemctl mask systemd-binfmt.service >/dev/null 2>&1
  tar -C "$r" --numeric-owner -c . | docker import \
    --change 'ENV container=docker' \
    --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' - "$base" >/dev/null
  rm -rf "$r"
fi

# --- control-plane and add-on images, named as kubeadm asks -------------------------------------
scratch_image() { # name entrypoint files...
  local name=$1 entry=$2 d; shift 2
  d=$(mktemp -d "$work/img.XXXXXX"); mkdir -p "$d/usr/local/bin" "$d/etc/ssl/certs" "$d/tmp"
  for b in "$@"; do install -m 0755 "$b" "$d/usr/local/bin/"; done
  cp /etc/ssl/certs/ca-certificates.crt "$d/etc/ssl/certs/" 2>/dev/null || true
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/:/sbin/nologin\n' > "$d/etc/passwd"
  tar -C "$d" --numeric-owner -c . | docker import --change 'ENV PATH=/usr/local/bin:/usr/bin:/bin' \
    ${entry:+--change "ENTRYPOINT [\"$entry\"]"} - "$name" >/dev/null
  rm -rf "$d"
}
netbase_image() { # name entrypoint binary
  local c; c=$(docker create "$netbase" /bin/true)
  docker cp "$3" "$c:/usr/local/bin/$(basename "$3")"
  docker commit --change "ENTRYPOINT [\"$2\"]" "$c" "$1" >/dev/null
  docker rm -f "$c" >/dev/null
}
log "control-plane images"
reg=registry.k8s.io
images=()
for c in kube-apiserver kube-controller-manager kube-scheduler; do
  scratch_image "$reg/$c:$K8S_VERSION" "" "$kubebin/$c"; images+=("$reg/$c:$K8S_VERSION")
done
netbase_image "$reg/kube-proxy:$K8S_VERSION" /usr/local/bin/kube-proxy "$kubebin/kube-proxy"; images+=("$reg/kube-proxy:$K8S_VERSION")
scratch_image "$reg/etcd:$KIND_ETCD_TAG" "" "$gobin/etcd" "$gobin/etcdctl"; images+=("$reg/etcd:$KIND_ETCD_TAG")
scratch_image "$reg/coredns/coredns:$COREDNS_VERSION" /usr/local/bin/coredns "$gobin/coredns"; images+=("$reg/coredns/coredns:$COREDNS_VERSION")
scratch_image "$reg/pause:$PAUSE_TAG" /usr/local/bin/pause "$gobin/pause"; images+=("$reg/pause:$PAUSE_TAG")
netbase_image "docker.io/kube-seclab/kube-router:$KUBE_ROUTER_VERSION" /usr/local/bin/kube-router "$gobin/kube-router"
images+=("docker.io/kube-seclab/kube-router:$KUBE_ROUTER_VERSION")

# --- the node image: base + kube binaries + preloaded images -------------------------------------
log "node image $image"
c=$(docker run -d --privileged --entrypoint=sleep --tmpfs /run --tmpfs /tmp "$base" infinity)
trap 'docker rm -f -v "$c" >/dev/null 2>&1 || true' EXIT
for b in kubelet kubeadm kubectl; do docker cp "$kubebin/$b" "$c:/usr/bin/$b"; done
docker cp "$gobin/crictl" "$c:/usr/local/bin/crictl"
docker exec "$c" chmod 0755 /usr/bin/kubelet /usr/bin/kubeadm /usr/bin/kubectl /usr/local/bin/crictl
echo -n "$K8S_VERSION" | docker exec -i "$c" sh -c 'cat > /kind/version'
docker cp "$here/node/default-cni.yaml" "$c:/kind/manifests/default-cni.yaml"
docker cp "$here/node/default-storage.yaml" "$c:/kind/manifests/default-storage.yaml"
docker cp "$here/node/containerd-oom.sh" "$c:/kind/bin/kube-seclab-containerd-oom.sh"
docker exec "$c" sh -c 'chmod 0755 /kind/bin/kube-seclab-containerd-oom.sh && mkdir -p /etc/systemd/system/containerd.service.d &&
  printf "[Service]\nExecStartPre=/kind/bin/kube-seclab-containerd-oom.sh\n" > /etc/systemd/system/containerd.service.d/10-kube-seclab.conf'
# the pause image containerd's sandbox_image names must be the one preloaded
docker exec "$c" sed -i "s#sandbox_image = .*#sandbox_image = \"$reg/pause:$PAUSE_TAG\"#" /etc/containerd/config.toml
# what kubeadm will ask for must be exactly what is preloaded
want=$(docker exec "$c" kubeadm config images list --kubernetes-version "$K8S_VERSION" 2>/dev/null | sort)
for w in $want; do
  printf '%s\n' "${images[@]}" | grep -qx "$w" || { log "kubeadm expects $w, which this script does not build (versions.env out of date?)"; exit 1; }
done
docker exec -d "$c" containerd
for _ in $(seq 1 30); do docker exec "$c" ctr version >/dev/null 2>&1 && break; sleep 1; done
docker save "${images[@]}" | docker exec -i "$c" ctr --namespace=k8s.io images import --all-platforms --no-unpack --digests - >&2
docker exec "$c" ctr --namespace=k8s.io images ls -q >&2
docker exec "$c" pkill containerd || true
sleep 2
docker commit --change 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]' "$c" "$image.tmp" >/dev/null
docker rm -f -v "$c" >/dev/null; trap - EXIT
# systemd stops on SIGRTMIN+3 (docker import/commit cannot set a stop signal; a one-line build can)
printf 'FROM %s\nSTOPSIGNAL SIGRTMIN+3\nLABEL dev.kube-seclab.build=%s\n' "$image.tmp" "$stamp" | DOCKER_BUILDKIT=0 docker build -q -t "$image" - >/dev/null
docker rmi "$image.tmp" >/dev/null
# drop the intermediate images of older builds
docker image ls --format '{{.Repository}}:{{.Tag}}' | grep -E '^kube-seclab/(kind-base|netbase):' | grep -v ":$stamp$" | xargs -r docker rmi >/dev/null 2>&1 || true
log "built $image in $(( $(date +%s) - start ))s"
echo "$image"
