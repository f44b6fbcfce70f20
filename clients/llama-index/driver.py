"""backchannel driver for LlamaIndex's MCP tools (`llama-index-tools-mcp` on PyPI):
`BasicMCPClient` with its defaults, its tools converted by `McpToolSpec`.

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv (BasicMCPClient(command, args=...)).
  http, sse: TARGET is the URL; BasicMCPClient picks the transport from the URL
  itself (enable_sse: a path ending in /sse is HTTP+SSE, else Streamable HTTP).

BasicMCPClient opens a fresh session for every public operation (list_tools,
call_tool, ... each run `async with self._run_session()`: launch or connect,
initialize, one request, close). Driven that way a case is two sessions: over stdio
two mock processes, over HTTP a second connection to a mock that ended with the
first session. The package has no public long-lived session, so the driver holds
ONE session from BasicMCPClient's own session factory, `_run_session()` — the code
every public method runs, with the client's transport choice, timeouts and sampling
callback, unchanged — and gives that session to `McpToolSpec(client=session)`
(McpToolSpec takes "an MCP client instance implementing ClientSession"). It lists
the tools as LlamaIndex FunctionTools, calls `backchannel_run_scenario` when
offered (`acall` with BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS), and stays in that
session until the server ends it (noticed by a failing ping).

Knobs: BasicMCPClient takes a `sampling_callback` (and no elicitation or roots
hook; its session declares neither): with BACKCHANNEL_CLIENT_SAMPLING set the
driver gives it one that answers with a canned assistant message. It cannot
declare sampling.tools or sampling.context (no sampling_capabilities reach the
ClientSession), so a request offering tools is refused as the schema wants.
Logging: Python logging at BACKCHANNEL_CLIENT_LOG_LEVEL on stderr.
"""

import asyncio
import json
import logging
import os
import sys

TRIGGER_TOOL = "backchannel_run_scenario"

SAMPLING = os.environ.get("BACKCHANNEL_CLIENT_SAMPLING", "").strip()
ARGUMENTS = json.loads(os.environ.get("BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS") or "{}")


def sampling_callback():
    """The SDK calls it as (context, params), BasicMCPClient's annotation notwithstanding."""
    if not SAMPLING:
        return None
    from mcp import types

    async def sample(context, params):
        if getattr(params, "tools", None):  # sampling.tools is not declared: MUST error
            return types.ErrorData(code=-32602, message="llama-index driver: tools offered, sampling.tools not declared")
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="llama-index driver reply"),
            model="llama-index-driver",
            stop_reason="endTurn",
        )

    return sample


async def main(kind, target):
    from llama_index.tools.mcp import BasicMCPClient, McpToolSpec

    log = logging.getLogger("driver")
    if kind == "stdio":
        client = BasicMCPClient(target[0], args=target[1:], sampling_callback=sampling_callback())
    else:
        client = BasicMCPClient(target[0], sampling_callback=sampling_callback())
    async with client._run_session() as session:
        try:
            tools = await McpToolSpec(client=session).to_tool_list_async()
            tool = next((t for t in tools if t.metadata.name == TRIGGER_TOOL), None)
            if tool is not None:
                await tool.acall(**ARGUMENTS)
        except Exception as e:  # a refusal or a broken call
            log.info("request ended: %s", type(e).__name__)
        while True:
            await asyncio.sleep(0.2)
            try:
                await asyncio.wait_for(session.send_ping(), 2)
            except BaseException:  # the server ended the session
                return


if __name__ == "__main__":
    level = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr)
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except BaseException as e:  # the session ending can surface as an exception group
        logging.getLogger("driver").info("session over: %s", type(e).__name__, exc_info=os.environ.get("BACKCHANNEL_DRIVER_TRACEBACK") == "1")
