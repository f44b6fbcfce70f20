#!/usr/bin/env bash
# The Action's run step. Inputs arrive as BC_* variables and become argv words
# (arrays, never eval); the JSON and JUnit reports are always written, the HTML one
# too; the outputs and the job summary are written whatever the verdict, then the
# step exits with backchannel's own exit code.
set -uo pipefail
PATH="$PATH:$HOME/.local/bin"
dir="${BC_REPORTS_DIR:-backchannel-reports}"
mkdir -p "$dir"
json="$dir/backchannel.json" junit="$dir/backchannel.xml" html="$dir/backchannel.html"
args=(run --report "json=$json" --report "junit=$junit" --report "html=$html")
[ -n "${BC_CLIENT_CMD:-}" ] && args+=(--client-cmd "$BC_CLIENT_CMD")
[ -n "${BC_CLIENT:-}" ] && args+=(--client "$BC_CLIENT")
[ -n "${BC_HONOURS:-}" ] && args+=(--honours "$BC_HONOURS")
[ -n "${BC_TRANSPORT:-}" ] && args+=(--transport "$BC_TRANSPORT")
[ -n "${BC_REVISION:-}" ] && args+=(--revision "$BC_REVISION")
[ "${BC_STRICT:-false}" = "true" ] && args+=(--strict)
[ -n "${BC_BASELINE:-}" ] && args+=(--baseline "$BC_BASELINE")
[ -n "${BC_SHARD:-}" ] && args+=(--shard "$BC_SHARD")
while IFS= read -r line; do
  [ -n "$line" ] && args+=("$line")
done <<< "${BC_SCENARIOS:-}"

backchannel "${args[@]}"
code=$?

{
  echo "json=$json"
  echo "junit=$junit"
  echo "html=$html"
} >> "${GITHUB_OUTPUT:-/dev/null}"
if [ -f "$json" ]; then
  python3 - "$json" >> "${GITHUB_OUTPUT:-/dev/null}" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))["runs"][0]
t = run["totals"]
print(f"verdict={run['outcome']}")
for k in ("cases", "checks", "failed", "warned"):
    print(f"{k}={t[k]}")
PY
  backchannel report markdown "$json" >> "${GITHUB_STEP_SUMMARY:-/dev/null}" || true
else
  echo "verdict=INCOMPLETE" >> "${GITHUB_OUTPUT:-/dev/null}"
fi
exit "$code"
