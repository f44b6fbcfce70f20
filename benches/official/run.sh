#!/usr/bin/env bash
# The peer reference for BENCHMARKS.md: the official MCP conformance suite (pinned)
# runs its client scenarios against client.mjs, and backchannel runs comparable
# scenarios against the same client.mjs over Streamable HTTP, in the same run, one
# scenario per invocation each; prints the wall times and their ratio.
#
#   benches/official/setup.sh && benches/official/run.sh [ROUNDS]
#
# BACKCHANNEL (default: target/release/backchannel) is the binary to time.
set -euo pipefail
source "$(dirname "$0")/env.sh"
rounds="${1:-5}"
now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
# official scenario : the backchannel scenario doing the same client work
pairs=("initialize:capabilities/none-declared" "tools_call:transport/request-stream")
printf '%-12s %10s   %-32s %10s   %s\n' "official" "median s" "backchannel (http, 2025-11-25)" "median s" "ratio"
for pair in "${pairs[@]}"; do
  official="${pair%%:*}"; ours="${pair#*:}"
  o=(); b=()
  for _ in $(seq "$rounds"); do
    t=$(now)
    "$node" "$suite" client --command "$node $here/client.mjs" --scenario "$official" >"$here/last-official.log" 2>&1 \
      || { echo "official $official failed:"; tail -20 "$here/last-official.log"; exit 1; }
    o+=("$(echo "$(now) - $t" | bc)")
    t=$(now)
    (cd "$root" && "$bc" run --transport http --revision 2025-11-25 --jobs 1 \
      --client-cmd "$node $here/client.mjs" "scenarios/$ours.yaml") >"$here/last-backchannel.log" 2>&1 || true
    b+=("$(echo "$(now) - $t" | bc)")
  done
  mo=$(printf '%s\n' "${o[@]}" | median); mb=$(printf '%s\n' "${b[@]}" | median)
  printf '%-12s %10.3f   %-32s %10.3f   %.2f\n' "$official" "$mo" "$ours" "$mb" "$(echo "$mb / $mo" | bc -l)"
done
