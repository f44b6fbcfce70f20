#!/usr/bin/env bash
# Install the third-party clients the harness tests, pinned, into clients/ (no
# global installs): a Python venv (clients/.venv) with the MCP Python SDK and
# LiteLLM, the TypeScript SDK (clients/typescript-sdk/node_modules, from its
# lockfile), and the rmcp default-client driver (clients/.bin). Idempotent.
#
# Needs: python3 (3.10+) with venv, node (18+) with npm, cargo. Network: PyPI and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

echo "== Python: MCP Python SDK and LiteLLM -> clients/.venv"
if [ ! -x "$here/.venv/bin/python" ]; then
  python3 -m venv "$here/.venv"
fi
"$here/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  -r "$here/requirements.txt" -c "$here/constraints.txt"

echo "== Node: MCP TypeScript SDK -> clients/typescript-sdk/node_modules"
(cd "$here/typescript-sdk" && npm ci --silent --no-audit --no-fund)

echo "== Rust: rmcp's default client driver -> clients/.bin"
mkdir -p "$here/.bin"
bin="$(cd "$root" && cargo build --quiet -p backchannel-rmcp-default-client --message-format=json-render-diagnostics \
  | python3 -c 'import json,sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable"):
        print(m["executable"])' | tail -n 1)"
cp "$bin" "$here/.bin/rmcp-default-client"

echo "== installed:"
for p in "$here"/*.yaml; do
  echo "   $(basename "$p" .yaml)"
done
