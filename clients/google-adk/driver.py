"""backchannel driver for the Agent Development Kit (`google-adk[mcp]` on PyPI): its
`McpToolset` (google.adk.tools.mcp_tool) with its defaults, used without an agent or
a model: get_tools(), then the McpTool named `backchannel_run_scenario` is run
directly (`run_async` with a ToolContext over an in-memory session), then close().

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv (StdioConnectionParams).
  http:  TARGET is the Streamable HTTP URL (StreamableHTTPConnectionParams).
  sse:   TARGET is the HTTP+SSE URL (SseConnectionParams).

The knobs are wired only through McpToolset's own parameters: when
BACKCHANNEL_CLIENT_SAMPLING is set, `sampling_callback` and `sampling_capabilities`;
when BACKCHANNEL_CLIENT_ELICITATION is set, `elicitation_callback` — the python-sdk
driver's callbacks (ADK hands them to the MCP SDK's ClientSession unchanged:
google/adk/tools/mcp_tool/session_context.py SessionContext._run). McpToolset has no
roots: its ClientSession gets no list_roots callback, so BACKCHANNEL_CLIENT_ROOTS and
_ROOTS_CHANGE are not taken up. Logging goes to stderr in Python's default format at
BACKCHANNEL_CLIENT_LOG_LEVEL (ADK logs under `google_adk.*`).

ADK never notices that the server ended the session: its pooled session waits only
for its own close (SessionContext._run awaits `_close_event`), nothing in it pings,
and a later call on a dead session reconnects (retry_on_errors / create_session),
which would start a second session. So the driver does what an application serving
an agent does: it keeps the toolset open after the call, and never calls close()
(the harness judges `client.exits` and stops it).
"""

import asyncio
import importlib.util
import json
import logging
import os
import sys
from pathlib import Path

TRIGGER_TOOL = "backchannel_run_scenario"


def sdk_callbacks():
    """The python-sdk driver's sampling/elicitation callbacks (None when not asked for)."""
    path = Path(__file__).resolve().parent.parent / "python-sdk" / "driver.py"
    spec = importlib.util.spec_from_file_location("python_sdk_driver", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {
        "sampling_callback": module.sampling_callback(),
        "sampling_capabilities": module.sampling_capabilities(),
        "elicitation_callback": module.elicitation_callback(),
    }


async def tool_context():
    """A ToolContext over an in-memory session: what an agent run hands a tool."""
    from google.adk.agents.invocation_context import InvocationContext
    from google.adk.sessions import InMemorySessionService
    from google.adk.tools.tool_context import ToolContext

    service = InMemorySessionService()
    session = await service.create_session(app_name="backchannel", user_id="driver")
    invocation = InvocationContext(session_service=service, invocation_id="backchannel", session=session)
    return ToolContext(invocation, function_call_id="backchannel-call-1")


async def main(kind, target):
    from google.adk.tools.mcp_tool import McpToolset
    from google.adk.tools.mcp_tool.mcp_session_manager import (
        SseConnectionParams,
        StdioConnectionParams,
        StreamableHTTPConnectionParams,
    )
    from mcp import StdioServerParameters

    if kind == "stdio":
        params = StdioConnectionParams(server_params=StdioServerParameters(command=target[0], args=target[1:]))
    elif kind == "http":
        params = StreamableHTTPConnectionParams(url=target[0])
    else:
        params = SseConnectionParams(url=target[0])
    toolset = McpToolset(connection_params=params, **sdk_callbacks())
    try:
        tools = await toolset.get_tools()
        tool = next((t for t in tools if t.name == TRIGGER_TOOL), None)
        if tool is not None:
            args = json.loads(os.environ.get("BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS") or "{}")
            result = await tool.run_async(args=args, tool_context=await tool_context())
            logging.getLogger("driver").info("tool call ended: %s", "error" if "error" in result else "result")
        # Stay: nothing in ADK ends this when the server ends the session.
        await asyncio.Event().wait()
    finally:
        await toolset.close()


if __name__ == "__main__":
    level = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr)
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except BaseException as e:  # the session ending can surface as an exception group
        logging.getLogger("driver").info("session over: %s", type(e).__name__, exc_info=os.environ.get("BACKCHANNEL_DRIVER_TRACEBACK") == "1")
