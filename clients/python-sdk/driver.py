"""backchannel driver for the MCP Python SDK (`mcp` on PyPI): a ClientSession with
the SDK's default sampling and elicitation callbacks.

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv; the driver launches it.
  http:  TARGET is the Streamable HTTP URL.   sse: TARGET is the HTTP+SSE URL.

It initializes with the SDK's defaults, lists tools, calls the mock's tool when it
is offered, and stays until the server ends the session (it notices by a failing
ping). Roots from BACKCHANNEL_CLIENT_ROOTS are served through a list_roots
callback, which is how an application gives the SDK roots. Logging goes to stderr
in Python's default format at BACKCHANNEL_CLIENT_LOG_LEVEL.
"""

import logging
import os
import sys

import anyio
from mcp import ClientSession, types
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client

TRIGGER_TOOL = "backchannel_run_scenario"


def roots_callback():
    uris = os.environ.get("BACKCHANNEL_CLIENT_ROOTS", "").split()
    if not uris:
        return None

    async def list_roots(context):
        return types.ListRootsResult(roots=[types.Root(uri=u) for u in uris])

    return list_roots


async def drive(read, write):
    async with ClientSession(read, write, list_roots_callback=roots_callback()) as session:
        await session.initialize()
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


async def main(transport, target):
    if transport == "stdio":
        params = StdioServerParameters(command=target[0], args=target[1:])
        async with stdio_client(params) as (read, write):
            await drive(read, write)
    elif transport == "http":
        async with streamable_http_client(target[0]) as (read, write, *_):
            await drive(read, write)
    else:
        async with sse_client(target[0]) as (read, write, *_):
            await drive(read, write)


if __name__ == "__main__":
    level = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr)
    try:
        anyio.run(main, sys.argv[1], sys.argv[2:])
    except BaseException as e:  # the session ending can surface as an exception group
        logging.getLogger("driver").info("session over: %s", type(e).__name__)
