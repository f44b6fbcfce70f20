#!/usr/bin/env bash
# The official MCP conformance suite's 2026-07-28 client scenarios on request state and
# headers (a 0.2.0 pre-release, pinned as `conformance-next` in package.json) against
# the reference client: a second opinion on backchannel's own MRTR and header checks.
#
#   benches/official/setup.sh && benches/official/modern.sh
#
# The reference client calls one tool per run (`--call-tool`): each-tool.sh and
# context-client.sh run it once per tool a scenario offers, within one suite run.
# Prints each scenario's check lines; exits non-zero if any scenario failed.
# BACKCHANNEL (default: target/release/backchannel) is the binary to run.
set -uo pipefail
source "$(dirname "$0")/env.sh"
next="$here/node_modules/conformance-next/dist/index.js"
status=0
run() { # scenario, command (TOOLS and FLAGS pass through the environment)
  echo "== $1"
  local out
  out=$("$node" "$next" client --scenario "$1" --timeout 30000 --command "$2" 2>&1) || status=1
  grep -E 'SUCCESS|FAILURE|WARNING|SKIPPED|Passed:|^  - ' <<<"$out" | sed 's/\x1b\[[0-9;]*m//g'
}
# Every tool of a scenario in one suite run (each-tool.sh: one client run per tool).
TOOLS="test_mrtr_echo_state test_mrtr_no_state test_mrtr_unrelated test_mrtr_no_result_type" \
  FLAGS="--elicitation form --elicitation-action accept" run sep-2322-client-request-state "$here/each-tool.sh"
TOOLS="test_headers my-hyphenated-tool" FLAGS="" run http-standard-headers "$here/each-tool.sh"
run http-custom-headers "$here/context-client.sh"
exit $status
