"""backchannel driver for fast-agent (`fast-agent-mcp` on PyPI): its FastAgent API
(what `fast-agent go` runs) with one agent on the `passthrough` model and
one MCP server, `backchannel`, configured in a fastagent.config.yaml the driver
writes into a temporary directory per case.

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv (mcp.servers.backchannel.command/args).
  http:  TARGET is the Streamable HTTP URL (transport: http, url).
  sse:   TARGET is the HTTP+SSE URL (transport: sse, url).

The knobs are wired only through fast-agent's configuration:
  - BACKCHANNEL_CLIENT_ROOTS: mcp.servers.backchannel.roots (fast-agent then serves
    them from its list_roots callback; mcp_agent/mcp/mcp_agent_client_session.py).
  - BACKCHANNEL_CLIENT_SAMPLING: mcp.servers.backchannel.sampling.model: passthrough
    (fast-agent answers sampling with that model). Unset: `auto_sampling: false`,
    fast-agent's switch for its default of sampling with the agent's model
    (auto_sampling, on by default, declares sampling to every server).
  - BACKCHANNEL_CLIENT_LOG_LEVEL: logger.level (fast-agent's events reach Python
    logging through its LoggingListener; logging goes to stderr in Python's default
    format, with `logger.type: none` so that nothing is written to fastagent.jsonl).
  - BACKCHANNEL_CLIENT_CALL_TOOL / _ARGUMENTS: when the server offers
    `backchannel_run_scenario`, the agent is sent the passthrough model's tool-call
    message `***CALL_TOOL backchannel_run_scenario {json}`
    (mcp_agent/llm/augmented_llm_passthrough.py), which calls it.
fast-agent 0.2.36 has no elicitation handler and no way to change roots at run time,
so BACKCHANNEL_CLIENT_ELICITATION and _ROOTS_CHANGE are not taken up.

fast-agent never notices that the server ended the session: it never pings and its
connection task only waits for its own shutdown request (mcp_agent/mcp/
mcp_connection_manager.py _server_lifecycle_task). Nor can it be left to hang until
the harness calls it hung: its event bus polls its queue ten times a second forever
(mcp_agent/logging/transport.py AsyncEventBus._process_events), so it is never idle
and every case would end INCONCLUSIVE at its time limit. So the driver stays inside
`fast.run()` for BACKCHANNEL_DRIVER_STAY_MS (default 5000) after the agent's turn —
a user reading the answer, longer than any scenario's stdio window — and then leaves
as `fast-agent go --message` does: `fast.run()` closes the session. Its exit is the
driver's timing, not fast-agent noticing the end.
A server that answers `initialize` with a revision the MCP SDK fast-agent pins does
not support (mcp 1.10.1: up to 2025-06-18) fails the connection: fast-agent reports
"MCP Server Startup Error" and exits.
"""

import asyncio
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

import yaml

TRIGGER_TOOL = "backchannel_run_scenario"
SERVER = "backchannel"


def config(transport, target):
    server = {"transport": transport}
    if transport == "stdio":
        server["command"], server["args"] = target[0], target[1:]
    else:
        server["url"] = target[0]
    roots = os.environ.get("BACKCHANNEL_CLIENT_ROOTS", "").split()
    if roots:
        server["roots"] = [{"uri": u} for u in roots]
    settings = {
        "default_model": "passthrough",
        "logger": {
            "type": "none",
            "level": os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").lower(),
            "progress_display": False,
        },
        "mcp": {"servers": {SERVER: server}},
    }
    if os.environ.get("BACKCHANNEL_CLIENT_SAMPLING", "").strip():
        server["sampling"] = {"model": "passthrough"}
    else:
        settings["auto_sampling"] = False
    return settings


async def main(transport, target, workdir):
    path = Path(workdir) / "fastagent.config.yaml"
    path.write_text(yaml.safe_dump(config(transport, target)))

    from mcp_agent.core.fastagent import FastAgent

    fast = FastAgent("backchannel", config_path=str(path), parse_cli_args=False)
    arguments = os.environ.get("BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS") or "{}"

    @fast.agent(name="driver", servers=[SERVER], model="passthrough")
    async def run():
        async with fast.run() as app:
            tools = await app.driver.list_tools()
            # fast-agent namespaces a server's tools as `<server>-<tool>`.
            if any(t.name == f"{SERVER}-{TRIGGER_TOOL}" for t in tools.tools):
                await app.driver.send(f"***CALL_TOOL {TRIGGER_TOOL} {json.dumps(json.loads(arguments))}")
            # Stay a while: nothing in fast-agent notices the server ending the session.
            await asyncio.sleep(int(os.environ.get("BACKCHANNEL_DRIVER_STAY_MS") or 5000) / 1000)

    await run()


if __name__ == "__main__":
    level = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="backchannel-fast-agent-") as workdir:
        try:
            asyncio.run(main(sys.argv[1], sys.argv[2:], workdir))
        except BaseException as e:  # the session ending can surface as an exception group
            logging.getLogger("driver").info("session over: %s", type(e).__name__, exc_info=os.environ.get("BACKCHANNEL_DRIVER_TRACEBACK") == "1")
