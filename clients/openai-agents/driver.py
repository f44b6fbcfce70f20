"""backchannel driver for the OpenAI Agents SDK's MCP client (`openai-agents` on PyPI):
its server objects `agents.mcp.MCPServerStdio`, `MCPServerStreamableHttp` and
`MCPServerSse` with their defaults, driven through their public API (connect,
list_tools, call_tool, get_prompt, read_resource, cleanup) — no agent run, no model.

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv (MCPServerStdio's `command` and `args`).
  http:  TARGET is the Streamable HTTP URL.   sse: TARGET is the HTTP+SSE URL.

These classes take no sampling, elicitation or roots callback (their constructors
have none, and with mcp 2.x `agents/mcp/_compat.py create_v2_client` builds the SDK's
`mcp.Client(transport, mode="auto", cache=None, read_timeout_seconds=...,
message_handler=...)` and nothing else), so the driver takes up none of those knobs:
what the SDK's defaults answer is what an application built on them answers.

It connects, lists tools, calls `backchannel_run_scenario` when offered (with
BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS), or gets BACKCHANNEL_CLIENT_GET_PROMPT / reads
BACKCHANNEL_CLIENT_READ_RESOURCE, then stays until the server ends the session: on the
legacy revisions it pings the server object's `session` every 0.2 s (2 s timeout) and
leaves when a ping fails; 2026-07-28 has no ping and the session is over once the call
is. Logging: Python's default format on stderr at BACKCHANNEL_CLIENT_LOG_LEVEL (the
SDK's `openai.agents` logger and the MCP SDK's loggers have no handler of their own).
"""

import asyncio
import json
import logging
import os
import sys

from agents.mcp import MCPServerSse, MCPServerStdio, MCPServerStreamableHttp

TRIGGER_TOOL = "backchannel_run_scenario"
ARGUMENTS = json.loads(os.environ.get("BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS") or "{}")
PROMPT = os.environ.get("BACKCHANNEL_CLIENT_GET_PROMPT", "")
RESOURCE = os.environ.get("BACKCHANNEL_CLIENT_READ_RESOURCE", "")
log = logging.getLogger("driver")


def server_for(transport, target):
    if transport == "stdio":
        return MCPServerStdio({"command": target[0], "args": target[1:]})
    if transport == "http":
        return MCPServerStreamableHttp({"url": target[0]})
    return MCPServerSse({"url": target[0]})


async def stay(server):
    """Until the server ends the session (legacy revisions: a failing ping)."""
    session = server.session
    if session is None or (session.protocol_version or "") >= "2026-07-28":
        return
    while True:
        await asyncio.sleep(0.2)
        try:
            await asyncio.wait_for(session.send_ping(), 2)
        except BaseException:  # the server ended the session
            return


async def main(transport, target):
    server = server_for(transport, target)
    try:
        await server.connect()
        try:
            if PROMPT:
                await server.get_prompt(PROMPT)
            elif RESOURCE:
                await server.read_resource(RESOURCE)
            else:
                tools = await server.list_tools()
                if any(t.name == TRIGGER_TOOL for t in tools):
                    await server.call_tool(TRIGGER_TOOL, ARGUMENTS)
        except Exception as e:  # a refusal, or an input round it cannot fulfil
            log.info("request ended: %s: %s", type(e).__name__, e)
        await stay(server)
    finally:
        await server.cleanup()


if __name__ == "__main__":
    level = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr)
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except BaseException as e:  # the session ending can surface as an exception group
        log.info("session over: %s", type(e).__name__, exc_info=os.environ.get("BACKCHANNEL_DRIVER_TRACEBACK") == "1")
