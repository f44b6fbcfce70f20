#!/usr/bin/env python3
"""A minimal MCP client over stdio, standard library only: an example of testing a
client that backchannel knows nothing about.

    backchannel run --transport stdio --client-cmd 'python3 examples/minimal_client.py'

The harness appends the server's argv; this client launches it, initializes, and
stays until the server closes its output. It declares no sampling or elicitation
capability, refuses those requests with -32601 naming itself and the method, logs
one WARNING per refusal naming the server and the method (the params only at
DEBUG), answers ping, lists the roots given in BACKCHANNEL_CLIENT_ROOTS, reads
JSON-RPC batches (2025-03-26) member by member, and calls the tool named in
BACKCHANNEL_CLIENT_CALL_TOOL. It reads no other knob and speaks no 2026-07-28:
the checks that depend on those are N/A, not FAIL.
"""

import json
import logging
import os
import subprocess
import sys

NAME = "minimal-client"
log = logging.getLogger(NAME)


def main(server):
    roots = os.environ.get("BACKCHANNEL_CLIENT_ROOTS", "").split()
    tool = os.environ.get("BACKCHANNEL_CLIENT_CALL_TOOL", "")
    label = f"stdio:{server[0]}"
    proc = subprocess.Popen(server, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def send(msg):
        proc.stdin.write(json.dumps(msg) + "\n")
        proc.stdin.flush()

    def handle(msg):
        if msg.get("id") == "init" and "result" in msg:
            send({"jsonrpc": "2.0", "method": "notifications/initialized"})
            if tool:
                send({"jsonrpc": "2.0", "id": "call", "method": "tools/call", "params": {"name": tool, "arguments": {}}})
            return
        method, rid = msg.get("method"), msg.get("id")
        if method is None or rid is None:
            return  # a response to us, or a notification
        if method == "ping":
            send({"jsonrpc": "2.0", "id": rid, "result": {}})
        elif method == "roots/list" and roots:
            send({"jsonrpc": "2.0", "id": rid, "result": {"roots": [{"uri": u} for u in roots]}})
        else:
            log.warning("refused %s from %s: not supported", method, label)
            log.debug("params of the refused %s: %s", method, json.dumps(msg.get("params")))
            send({"jsonrpc": "2.0", "id": rid,
                  "error": {"code": -32601, "message": f"{NAME} does not support {method}"}})

    caps = {"roots": {}} if roots else {}
    send({"jsonrpc": "2.0", "id": "init", "method": "initialize",
          "params": {"protocolVersion": "2025-11-25", "capabilities": caps, "clientInfo": {"name": NAME, "version": "1"}}})
    for line in proc.stdout:
        try:
            msg = json.loads(line)
        except ValueError:
            log.warning("ignoring a line from %s that is not JSON", label)
            continue
        # 2025-03-26 servers may send a JSON-RPC batch: handle each member.
        for member in msg if isinstance(msg, list) else [msg]:
            if isinstance(member, dict):
                handle(member)
    proc.wait()


if __name__ == "__main__":
    level = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr)
    main(sys.argv[1:])
