"""backchannel driver for LiteLLM's MCP client (`litellm` on PyPI, the `mcp` extra):
`litellm.mcp_client.client.MCPClient`, the class LiteLLM's proxy uses to reach
upstream MCP servers, with its defaults (no sampling or elicitation callbacks).

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv (MCPClient's stdio_config).
  http:  TARGET is the Streamable HTTP URL.   sse: TARGET is the HTTP+SSE URL.

MCPClient opens one session per operation; the whole scenario runs inside one
`run_with_session` operation: list tools, call the mock's tool when it is offered,
then stay until the server ends the session (noticed by a failing ping). LiteLLM's
own logging is left as LiteLLM configures it (its `LiteLLM` logger), at
BACKCHANNEL_CLIENT_LOG_LEVEL via LITELLM_LOG.
"""

import asyncio
import os
import sys

import anyio

TRIGGER_TOOL = "backchannel_run_scenario"


async def operation(session):
    tools = await session.list_tools()
    if any(t.name == TRIGGER_TOOL for t in tools.tools):
        await session.call_tool(TRIGGER_TOOL, {})
    while True:
        await anyio.sleep(0.2)
        try:
            with anyio.fail_after(2):
                await session.send_ping()
        except BaseException:  # the server ended the session
            return


async def main(kind, target):
    from litellm.mcp_client.client import MCPClient
    from litellm.types.mcp import MCPTransport

    if kind == "stdio":
        client = MCPClient(transport_type=MCPTransport.stdio, stdio_config={"command": target[0], "args": target[1:]})
    else:
        client = MCPClient(server_url=target[0], transport_type=MCPTransport.http if kind == "http" else MCPTransport.sse)
    await client.run_with_session(operation)


if __name__ == "__main__":
    os.environ.setdefault("LITELLM_LOG", os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper())
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except BaseException as e:  # the session ending can surface as an exception group
        print(f"INFO:driver:session over: {type(e).__name__}", file=sys.stderr)
