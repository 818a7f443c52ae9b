#!/usr/bin/env bash
# Builds the independent auditors `kube-seclab dev audit` runs, from the Go module proxy:
#   kube-score  (github.com/zegl/kube-score, KUBE_SCORE_VERSION)  → <cache>/bin/kube-score-<v>/kube-score
#   kube-bench  (github.com/aquasecurity/kube-bench, KUBE_BENCH_VERSION) → <cache>/bin/kube-bench-<v>/kube-bench
#               plus its cfg/ (the CIS benchmarks as YAML, cis-1.12 among them) next to the binary.
# <cache> = ${KUBE_SECLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-seclab}. Each tool is skipped when
# it is already there. Prints the two binaries' paths on its last two lines.
# kube-bench: the proxy refuses `@latest` and `go install …@v0.16.0` (the module has replace
# directives), so: `go mod download` the module, then `go build` in a writable copy of it.
# Measured cold on 2 cores (empty Go build cache, module cache partly warm): see README "dev audit".
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=versions.env
source "$here/versions.env"
cache=${KUBE_SECLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-seclab}
score_dir="$cache/bin/kube-score-$KUBE_SCORE_VERSION"
bench_dir="$cache/bin/kube-bench-$KUBE_BENCH_VERSION"
mkdir -p "$cache/bin"
export CGO_ENABLED=0 GOFLAGS=-buildvcs=false

need_go() {
  command -v go >/dev/null || { echo "kube-seclab: Go is needed to build the auditors (https://go.dev/dl)" >&2; exit 2; }
}

if [ -x "$score_dir/kube-score" ]; then
  echo "kube-seclab: kube-score present in $score_dir (skipping build)" >&2
else
  need_go
  start=$(date +%s)
  stage=$(mktemp -d "$cache/bin/.stage-score.XXXXXX")
  GOBIN="$stage" go install -trimpath \
    -ldflags "-s -w -X main.version=${KUBE_SCORE_VERSION#v} -X main.commit=module-proxy -X main.date=1970-01-01T00:00:00Z" \
    "github.com/zegl/kube-score/cmd/kube-score@$KUBE_SCORE_VERSION"
  rm -rf "$score_dir"; mv "$stage" "$score_dir"
  echo "kube-seclab: built kube-score $KUBE_SCORE_VERSION in $(( $(date +%s) - start ))s" >&2
fi

if [ -x "$bench_dir/kube-bench" ] && [ -f "$bench_dir/cfg/cis-1.12/master.yaml" ]; then
  echo "kube-seclab: kube-bench present in $bench_dir (skipping build)" >&2
else
  need_go
  start=$(date +%s)
  src=$(go mod download -json "github.com/aquasecurity/kube-bench@$KUBE_BENCH_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$src" ] || { echo "kube-seclab: go mod download github.com/aquasecurity/kube-bench@$KUBE_BENCH_VERSION gave no module directory" >&2; exit 1; }
  work="$cache/build/kube-bench-$KUBE_BENCH_VERSION"
  rm -rf "$work"; mkdir -p "$work"; cp -R "$src/." "$work/"; chmod -R u+w "$work"
  stage=$(mktemp -d "$cache/bin/.stage-bench.XXXXXX")
  (
    cd "$work"
    go build -trimpath -ldflags "-s -w -X github.com/aquasecurity/kube-bench/cmd.KubeBenchVersion=$KUBE_BENCH_VERSION" -o "$stage/kube-bench" .
  )
  cp -R "$work/cfg" "$stage/cfg"
  rm -rf "$bench_dir"; mv "$stage" "$bench_dir"
  rm -rf "$work"
  echo "kube-seclab: built kube-bench $KUBE_BENCH_VERSION in $(( $(date +%s) - start ))s" >&2
fi
echo "$score_dir/kube-score"
echo "$bench_dir/kube-bench"
