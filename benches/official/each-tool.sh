#!/usr/bin/env bash
# Run the reference client once per tool in $TOOLS (space-separated) against the
# suite's URL, with the extra client flags in $FLAGS: the reference client makes one
# call per run, and 2026-07-28 is sessionless, so the suite's server sees one client.
# Usage (by the suite): TOOLS="a b" FLAGS="…" each-tool.sh URL
set -euo pipefail
source "$(dirname "$0")/env.sh"
for tool in $TOOLS; do
  # shellcheck disable=SC2086
  "$bc" client $FLAGS --call-tool "$tool" --wait 2 --url "$1" </dev/null
done
