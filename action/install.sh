#!/usr/bin/env bash
# The Action's install step: BC_INSTALL=pypi|npm|none, BC_VERSION.
set -euo pipefail
case "$BC_INSTALL" in
  pypi)
    python3 -m pip install --quiet --user "mcp-backchannel==$BC_VERSION"
    echo "$(python3 -m site --user-base)/bin" >> "$GITHUB_PATH"
    ;;
  npm)
    npm install --global --silent "mcp-backchannel@$BC_VERSION"
    ;;
  none) ;;
  *)
    echo "::error::install must be pypi, npm or none, not '$BC_INSTALL'"
    exit 2
    ;;
esac
