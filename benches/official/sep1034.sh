#!/usr/bin/env bash
# The official MCP conformance suite's one positive client test in the back channel,
# `elicitation-sep1034-client-defaults` (accept a form with its defaults), against the
# reference client in its accepting configuration. Exits with the suite's status.
#
#   benches/official/setup.sh && benches/official/sep1034.sh
#
# BACKCHANNEL (default: target/release/backchannel) is the binary to run.
set -euo pipefail
source "$(dirname "$0")/env.sh"
# The official server never ends the session: --wait closes it 2 s after connecting.
exec "$node" "$suite" client --scenario elicitation-sep1034-client-defaults \
  --command "$bc client --elicitation form --elicitation-action accept --call-tool test_client_elicitation_defaults --wait 2 --url"
