"""backchannel driver for LiteLLM's MCP client (`litellm` on PyPI, the `mcp` extra):
`litellm.mcp_client.client.MCPClient`, the class LiteLLM's proxy uses to reach
upstream MCP servers, with its defaults (no sampling or elicitation callbacks) —
unless the harness asks for sampling (BACKCHANNEL_CLIENT_SAMPLING) or elicitation
(BACKCHANNEL_CLIENT_ELICITATION): then MCPClient gets the `sampling_callback` and
`elicitation_callback` its constructor takes, the same callbacks the python-sdk
driver gives the SDK (MCPClient cannot declare `sampling.tools` or
`sampling.context`).

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
import importlib.util
import os
import sys
from pathlib import Path

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


def sdk_callbacks():
    """The python-sdk driver's sampling and elicitation callbacks (None when not asked for)."""
    path = Path(__file__).resolve().parent.parent / "python-sdk" / "driver.py"
    spec = importlib.util.spec_from_file_location("python_sdk_driver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    # MCPClient declares plain `sampling` only: the callback must refuse tool use.
    module.SAMPLING[:] = ["basic"] if module.SAMPLING else []
    return {"sampling_callback": module.sampling_callback(), "elicitation_callback": module.elicitation_callback()}


async def main(kind, target):
    from litellm.mcp_client.client import MCPClient
    from litellm.types.mcp import MCPTransport

    callbacks = sdk_callbacks()
    if kind == "stdio":
        client = MCPClient(
            transport_type=MCPTransport.stdio, stdio_config={"command": target[0], "args": target[1:]}, **callbacks
        )
    else:
        kind = MCPTransport.http if kind == "http" else MCPTransport.sse
        client = MCPClient(server_url=target[0], transport_type=kind, **callbacks)
    await client.run_with_session(operation)


if __name__ == "__main__":
    os.environ.setdefault("LITELLM_LOG", os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper())
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except BaseException as e:  # the session ending can surface as an exception group
        print(f"INFO:driver:session over: {type(e).__name__}", file=sys.stderr)
