#!/usr/bin/env bash
# Install the third-party clients the harness tests, pinned, into clients/ (no
# global installs): a Python venv (clients/.venv) with the MCP Python SDK and
# LiteLLM; each other Python client in a venv of its own (clients/<name>/.venv, from
# clients/<name>/requirements.txt and the full pin set in its constraints.txt: the
# frameworks pin different `mcp` versions); each Node client from its lockfile
# (clients/<name>/node_modules); and the rmcp default-client driver (clients/.bin).
# Idempotent.
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

# One venv per framework client. Two installs at a time: they are mostly downloads
# and unpacking; each one's output is kept and shown if it fails.
pids=()
for req in "$here"/*/requirements.txt; do
  dir="$(dirname "$req")"
  name="$(basename "$dir")"
  (
    [ -x "$dir/.venv/bin/python" ] || python3 -m venv "$dir/.venv"
    "$dir/.venv/bin/python" -m pip install --quiet --disable-pip-version-check \
      -r "$req" -c "$dir/constraints.txt"
  ) >"$dir/.venv.log" 2>&1 &
  pids+=("$!:$name")
  if [ "${#pids[@]}" -ge 2 ]; then
    p="${pids[0]}"; pids=("${pids[@]:1}")
    wait "${p%%:*}" || { cat "$here/${p#*:}/.venv.log" >&2; echo "error: installing ${p#*:} failed" >&2; exit 1; }
    echo "== Python: ${p#*:} -> clients/${p#*:}/.venv"
  fi
done
for p in "${pids[@]}"; do
  wait "${p%%:*}" || { cat "$here/${p#*:}/.venv.log" >&2; echo "error: installing ${p#*:} failed" >&2; exit 1; }
  echo "== Python: ${p#*:} -> clients/${p#*:}/.venv"
done

for lock in "$here"/*/package-lock.json; do
  dir="$(dirname "$lock")"
  echo "== Node: $(basename "$dir") -> clients/$(basename "$dir")/node_modules"
  (cd "$dir" && npm ci --silent --no-audit --no-fund)
done

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
