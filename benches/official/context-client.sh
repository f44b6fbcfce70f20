#!/usr/bin/env bash
# The official suite's client contract for scenarios that say what to call in
# MCP_CONFORMANCE_CONTEXT (`toolCalls: [{name, arguments}, …]`): the reference client
# makes one call per run, so it runs once per tool call, in order (2026-07-28 is
# sessionless: the suite's server sees one client either way).
# Usage (by the suite): context-client.sh URL
set -euo pipefail
source "$(dirname "$0")/env.sh"
url="$1"
"$node" -e '
  const c = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT || "{}");
  for (const t of c.toolCalls || []) console.log(t.name + "\t" + JSON.stringify(t.arguments || {}));
' | while IFS=$'\t' read -r name arguments; do
  "$bc" client --call-tool "$name" --call-tool-arguments "$arguments" --wait 2 --url "$url" </dev/null
done
