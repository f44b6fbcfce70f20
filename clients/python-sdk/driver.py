"""backchannel driver for the MCP Python SDK (`mcp` on PyPI): the SDK's high-level
`Client` with its defaults — dual-era (mode="auto": a server/discover probe, then
2026-07-28 or the initialize handshake), the default sampling and elicitation
callbacks, MRTR input rounds driven by Client.call_tool.

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv; the driver launches it.
  http:  TARGET is the Streamable HTTP URL.   sse: TARGET is the HTTP+SSE URL.

It initializes with the SDK's defaults, lists tools, calls the mock's tool when it
is offered, and stays until the server ends the session (it notices by a failing
ping). Roots from BACKCHANNEL_CLIENT_ROOTS are served through a list_roots
callback, which is how an application gives the SDK roots; when
BACKCHANNEL_CLIENT_ROOTS_CHANGE says so ("MS URI..."), the roots change after MS
milliseconds and the driver calls send_roots_list_changed(), as an application
must. When BACKCHANNEL_CLIENT_ELICITATION is set, an elicitation callback declines
every request (after BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS): the SDK then declares
the capability itself (form and url, whatever the modes asked for). Logging goes to
stderr in Python's default format at BACKCHANNEL_CLIENT_LOG_LEVEL.
"""

import logging
import os
import sys

import anyio
from mcp import Client, types
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters

TRIGGER_TOOL = "backchannel_run_scenario"


ROOTS = os.environ.get("BACKCHANNEL_CLIENT_ROOTS", "").split()
CHANGE = os.environ.get("BACKCHANNEL_CLIENT_ROOTS_CHANGE", "").split()


def roots_callback():
    if not ROOTS and not CHANGE:
        return None

    async def list_roots(context):
        return types.ListRootsResult(roots=[types.Root(uri=u) for u in ROOTS])

    return list_roots


def elicitation_callback():
    if not os.environ.get("BACKCHANNEL_CLIENT_ELICITATION"):
        return None
    delay = int(os.environ.get("BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS") or 0) / 1000

    async def elicit(context, params):
        await anyio.sleep(delay)
        return types.ElicitResult(action="decline")

    return elicit


async def change_roots(session):
    await anyio.sleep(int(CHANGE[0]) / 1000)
    ROOTS[:] = CHANGE[1:]
    await session.send_roots_list_changed()


async def drive(server):
    # The SDK's high-level Client, dual-era by default (mode="auto"): it probes with
    # server/discover and speaks 2026-07-28 when the server does, else initializes.
    async with Client(
        server, list_roots_callback=roots_callback(), elicitation_callback=elicitation_callback()
    ) as client:
        async with anyio.create_task_group() as tasks:
            if CHANGE:
                tasks.start_soon(change_roots, client.session)
            tools = await client.list_tools()
            if any(t.name == TRIGGER_TOOL for t in tools.tools):
                try:
                    await client.call_tool(TRIGGER_TOOL, {})
                except Exception as e:  # an input round it could not fulfil, or a refusal
                    logging.getLogger("driver").info("tool call ended: %s", type(e).__name__)
            if client.protocol_version >= "2026-07-28":
                # No ping in 2026-07-28: the session is over once the call is.
                tasks.cancel_scope.cancel()
                return
            while True:
                await anyio.sleep(0.2)
                try:
                    with anyio.fail_after(2):
                        await client.send_ping()
                except BaseException:  # the server ended the session
                    tasks.cancel_scope.cancel()
                    return


async def main(transport, target):
    if transport == "stdio":
        await drive(StdioServerParameters(command=target[0], args=target[1:]))
    elif transport == "http":
        await drive(target[0])
    else:
        await drive(sse_client(target[0]))


if __name__ == "__main__":
    level = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr)
    try:
        anyio.run(main, sys.argv[1], sys.argv[2:])
    except BaseException as e:  # the session ending can surface as an exception group
        logging.getLogger("driver").info("session over: %s", type(e).__name__, exc_info=os.environ.get("BACKCHANNEL_DRIVER_TRACEBACK") == "1")
