#!/usr/bin/env bash
# Builds the Kubernetes binaries kube-seclab's local engine runs, from the Go module proxy:
# kube-apiserver, kube-controller-manager, kube-scheduler, kubectl (k8s.io/kubernetes), etcd
# (go.etcd.io/etcd/server/v3) and kwok. CGO_ENABLED=0, version ldflags so --version is right.
# Output: ${KUBE_SECLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-seclab}/bin/<k8s version>/
# Skipped when every binary is already there. Prints the output directory on its last line.
# `build-k8s.sh node` builds the node binaries of the kind node image instead: kubelet, kubeadm,
# kube-proxy (same module, same output directory).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${KUBE_SECLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-seclab}
out="$cache/bin/$K8S_VERSION"
mode=${1:-control-plane}
case "$mode" in
  control-plane) bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kubectl kwok)
    stampfile="$out/.versions"; stamp="$K8S_VERSION $ETCD_VERSION $KWOK_VERSION" ;;
  node) bins=(kubelet kubeadm kube-proxy); stampfile="$out/.versions-node"; stamp="$K8S_VERSION" ;;
  *) echo "usage: build-k8s.sh [node]" >&2; exit 2 ;;
esac

have_all() {
  local b
  for b in "${bins[@]}"; do [ -x "$out/$b" ] || return 1; done
  [ "$(cat "$stampfile" 2>/dev/null)" = "$stamp" ]
}
if have_all; then
  echo "kube-seclab: binaries present in $out (skipping build)" >&2
  echo "$out"; exit 0
fi
command -v go >/dev/null || { echo "kube-seclab: Go is needed to build the Kubernetes binaries (https://go.dev/dl)" >&2; exit 2; }

start=$(date +%s)
work="$cache/build"
mkdir -p "$work" "$out"
stage=$(mktemp -d "$cache/bin/.stage.XXXXXX")
trap 'rm -rf "$stage"' EXIT
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

# Progress for whoever runs this (the lab's task list reads these lines): "kube-seclab: step 2/8: kube-apiserver".
# The seconds each step took are kept in $cache/build-times-<mode>.json, so the next first run here can say how long to expect.
kube_bins=(); for b in "${bins[@]}"; do case "$b" in etcd|kwok) ;; *) kube_bins+=("$b") ;; esac; done
total_steps=$(( 1 + ${#kube_bins[@]} + $( [ "$mode" = node ] && echo 0 || echo 3 ) ))
step_no=0; step_name=""; step_t0=0; times=""
step() {
  local now; now=$(date +%s)
  [ -n "$step_name" ] && times+="${times:+,}\"$step_name\":$(( now - step_t0 ))"
  step_no=$(( step_no + 1 )); step_name=$1; step_t0=$now
  echo "kube-seclab: step $step_no/$total_steps: $1" >&2
}
save_times() {
  local now; now=$(date +%s)
  [ -n "$step_name" ] && times+="${times:+,}\"$step_name\":$(( now - step_t0 ))"
  local tmp; tmp=$(mktemp "$cache/.times.XXXXXX")
  echo "{\"version\":\"$K8S_VERSION\",\"total\":$(( now - start )),\"steps\":{$times}}" > "$tmp"
  mv -f "$tmp" "$cache/build-times-$mode.json"
}

# --- k8s.io/kubernetes: generate the wrapper module's go.mod from kubernetes' own go.mod --------
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
staging_version="v0.${K8S_VERSION#v1.}"
kdir="$work/kube-$K8S_VERSION"
rm -rf "$kdir"; mkdir -p "$kdir"; cp "$here/kube/tools.go" "$kdir/"
step "modules of k8s.io/kubernetes@$K8S_VERSION"
(
  cd "$kdir"
  gomod=$(go list -m -f '{{.GoMod}}' "k8s.io/kubernetes@$K8S_VERSION")
  go mod init kube-seclab.local/tools/kube >/dev/null 2>&1
  godebug=$(sed -n 's/^godebug //p' "$gomod")
  gover=$(sed -n 's/^go \([0-9.]*\)$/\1/p' "$gomod")
  go mod edit -go="$gover" -require="k8s.io/kubernetes@$K8S_VERSION"
  [ -n "$godebug" ] && go mod edit -godebug="$godebug"
  # every staging module kubernetes requires at v0.0.0 → the published tag of this release
  awk '$2 == "v0.0.0" && $1 ~ /^k8s\.io\// {print $1}' "$gomod" | sort -u | while read -r m; do
    go mod edit -replace="$m=$m@$staging_version"
  done
  echo "kube-seclab: $(grep -c '=>' go.mod) staging replaces generated from k8s.io/kubernetes@$K8S_VERSION" >&2
  go mod tidy >&2
  ldflags="-s -w"
  for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
    ldflags+=" -X $p.gitVersion=$K8S_VERSION -X $p.gitMajor=1 -X $p.gitMinor=$minor"
    ldflags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
  done
  echo "$ldflags" > "$stage/.ldflags"
)
# One binary at a time (they share Go's build cache, so the later ones are quicker): progress a learner can follow.
for b in "${kube_bins[@]}"; do
  step "$b"
  ( cd "$kdir" && go build -trimpath -ldflags "$(cat "$stage/.ldflags")" -o "$stage/$b" "k8s.io/kubernetes/cmd/$b" )
done
if [ "$mode" = node ]; then
  save_times
  for b in "${bins[@]}"; do mv -f "$stage/$b" "$out/$b"; done
  echo "$stamp" > "$stampfile"
  echo "kube-seclab: built ${bins[*]} in $(( $(date +%s) - start ))s" >&2
  echo "$out"; exit 0
fi

# --- etcd: its own wrapper module ------------------------------------------------------------
step "etcd $ETCD_VERSION (modules and build)"
edir="$work/etcd-$ETCD_VERSION"
rm -rf "$edir"; mkdir -p "$edir"; cp "$here/etcd/tools.go" "$edir/"
(
  cd "$edir"
  go mod init kube-seclab.local/tools/etcd >/dev/null 2>&1
  go mod edit -require="go.etcd.io/etcd/server/v3@$ETCD_VERSION"
  go mod tidy >&2
  go build -trimpath -ldflags "-s -w" -o "$stage/etcd" go.etcd.io/etcd/server/v3
)

# --- kwok: a plain module, no replace directives ------------------------------------------------
step "kwok $KWOK_VERSION"
GOBIN="$stage" go install -trimpath \
  -ldflags "-s -w -X sigs.k8s.io/kwok/pkg/consts.Version=$KWOK_VERSION -X sigs.k8s.io/kwok/pkg/consts.KubeVersion=$K8S_VERSION" \
  "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION"

step "install into $out"
for b in "${bins[@]}"; do mv -f "$stage/$b" "$out/$b"; done
echo "$stamp" > "$stampfile"
save_times
echo "kube-seclab: built ${bins[*]} in $(( $(date +%s) - start ))s" >&2
echo "$out"
