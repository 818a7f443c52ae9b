#!/usr/bin/env bash
# The CI cost per lesson on each engine, from the test logs' `<engine>: verify <lesson> ok in N s`
# lines (test/integration/lessons.test.ts, test/kind/lessons.ts): count, total, mean, the slowest.
# Usage: tools/ci-cost.sh LOG... (prints one line per engine)
set -euo pipefail
cat "$@" | sed 's/\x1b\[[0-9;]*m//g' | grep -oE '(local|kind): verify [a-z0-9-]+ (ok|FAILED) in [0-9.]+ s' | awk '
  { e=$1; sub(":", "", e); n[e]++; t[e]+=$6; if ($6 > mx[e]) { mx[e]=$6; ml[e]=$3 } }
  END { for (e in n) printf "CI cost per lesson on %s: %d lessons, %.0f s in all, %.0f s each on average, slowest %s %.0f s\n", e, n[e], t[e], t[e]/n[e], ml[e], mx[e] }'
