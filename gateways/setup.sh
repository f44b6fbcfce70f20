#!/usr/bin/env bash
# Install the gateways the harness tests, pinned, into gateways/ (no global
# installs): supergateway 4.0.0 and 3.4.3, mcp-proxy 6.7.19 (npm) and mcp-remote
# 0.15.1 from gateways/node's lockfile; mcp-proxy 0.13.0 (PyPI), FastMCP 4.2.3,
# fastmcp-remote 4.1.4, the LiteLLM 1.110.2 proxy and ContextForge
# (mcp-contextforge-gateway 1.0.7.post20260921), each in a venv of its own (they pin
# different `mcp` majors). Idempotent.
#
# Needs: python3 (3.10+) with venv, node (18+) with npm, curl (ContextForge's
# launcher registers the upstream through its REST API). Network: PyPI and npm.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

echo "== Node: supergateway, mcp-proxy (npm), mcp-remote -> gateways/node/node_modules"
(cd "$here/node" && npm ci --silent --no-audit --no-fund)

for venv in mcp-proxy fastmcp fastmcp-remote litellm contextforge; do
  echo "== Python: $venv -> gateways/.venv-$venv"
  if [ ! -x "$here/.venv-$venv/bin/python" ]; then
    python3 -m venv "$here/.venv-$venv"
  fi
  "$here/.venv-$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
    -r "$here/$venv.requirements.txt"
done

echo "== installed:"
for p in "$here"/*.yaml; do
  echo "   $(basename "$p" .yaml)"
done
