#!/usr/bin/env bash
# The coverage gate: one `go test -short -coverpkg=./... -coverprofile` run over the module,
# then every package's share of statements covered, and a failure when a gate of
# .ci/coverage-thresholds is not met.
#
#   .ci/coverage.sh [PROFILE]     (PROFILE: keep the profile there, for go tool cover -html)
set -euo pipefail
cd "$(dirname "$0")/.."
profile=${1:-}
if [[ -z $profile ]]; then
  profile=$(mktemp)
  trap 'rm -f "$profile"' EXIT
fi
log=$(mktemp)
if ! go test -short -count=1 -coverpkg=./... -coverprofile="$profile" ./... >"$log" 2>&1; then
  cat "$log"; rm -f "$log"
  echo "coverage: the tests failed" >&2
  exit 1
fi
rm -f "$log"

module=$(go list -m)
# A statement block counts once, covered when any package's tests ran it.
awk -v module="$module/" '
  FNR == NR {                        # the thresholds
    if ($0 !~ /^#/ && NF == 2) { gate[++ngates] = $1; want[$1] = $2 }
    next
  }
  FNR == 1 { next }                  # "mode: ..."
  {
    split($0, f, " "); key = f[1]; stmts[key] = f[2]; if (f[3] > 0) hit[key] = 1
    file = substr(key, 1, index(key, ":") - 1); sub(module, "", file)
    dir = file; if (!sub(/\/[^\/]*$/, "", dir)) dir = "."
    pkg[key] = dir
  }
  END {
    for (k in stmts) { p = pkg[k]; total[p] += stmts[k]; if (k in hit) covered[p] += stmts[k] }
    n = 0; for (p in total) names[++n] = p
    for (i = 2; i <= n; i++) for (j = i; j > 1 && names[j-1] > names[j]; j--) { t = names[j]; names[j] = names[j-1]; names[j-1] = t }
    printf "%-24s %12s %8s\n", "package", "statements", "covered"
    for (i = 1; i <= n; i++) {
      p = names[i]; printf "%-24s %5d/%-6d %7.1f%%\n", p, covered[p], total[p], 100 * covered[p] / total[p]
    }
    failed = 0
    for (g = 1; g <= ngates; g++) {
      d = gate[g]; c = 0; t = 0
      tree = sub(/\/\.\.\.$/, "", d)
      for (p in total) if (p == d || (tree && index(p, d "/") == 1)) { c += covered[p]; t += total[p] }
      if (t == 0) { printf "gate %-10s no statements found\n", gate[g]; failed = 1; continue }
      pct = 100 * c / t
      ok = pct >= want[gate[g]]
      printf "gate %-10s %6.1f%% (at least %s%%) %s\n", gate[g], pct, want[gate[g]], ok ? "ok" : "FAILED"
      if (!ok) failed = 1
    }
    exit failed
  }
' .ci/coverage-thresholds "$profile"
