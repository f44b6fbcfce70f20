#!/usr/bin/env bash
# The official MCP conformance suite's `sse-retry` client scenario (SEP-1699: a POST's
# SSE stream closed after a priming event with `retry: 500`; the client must poll it
# back with a GET after at least 500 ms, carrying `Last-Event-ID`) against the
# reference client: a second opinion on backchannel's own `close_stream` checks
# (scenarios/streams/). The 0.2.0 pre-release (`conformance-next`) has the scenario.
#
#   benches/official/setup.sh && benches/official/sse-retry.sh
#
# Its server answers every method it does not know — `server/discover` too — with an
# empty result: the reference client takes that for a legacy server and initializes.
# Exits with the suite's status. BACKCHANNEL (default: target/release/backchannel) is
# the binary to run.
set -euo pipefail
source "$(dirname "$0")/env.sh"
next="$here/node_modules/conformance-next/dist/index.js"
# The server never ends the session: --wait closes it 3 s after connecting.
exec "$node" "$next" client --scenario sse-retry --timeout 30000 \
  --command "$bc client --call-tool test_reconnection --wait 3 --url"
