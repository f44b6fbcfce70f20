"""backchannel driver for Pydantic AI's MCP client (`pydantic-ai-slim[mcp]` on PyPI):
`pydantic_ai.mcp.MCPToolset` (built on the FastMCP `Client`, `fastmcp-slim`) given to
an `Agent`, the way its users give an agent an MCP server.

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv (a FastMCP `StdioTransport`, as Pydantic AI's docs
         say to pass for control over the command and its arguments).
  http:  TARGET is the Streamable HTTP URL.   sse: TARGET is the HTTP+SSE URL (the
         toolset infers the transport from the URL, `/sse` meaning the legacy one).

The agent's model is a Pydantic AI `FunctionModel` (no network): on its first turn it
calls `backchannel_run_scenario` with BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS when the
toolset offers it, then answers with text. The toolset stays entered (`async with
agent`) after the run until the server ends the session, noticed by a failing ping
(legacy revisions; 2026-07-28 has no ping, and the session is over once the call is).
BACKCHANNEL_CLIENT_GET_PROMPT / _READ_RESOURCE go through the toolset's own
`get_prompt` / `read_resource`.

The knobs go through the toolset's own options only: `sampling_model` (a Pydantic AI
`TestModel`, which answers every sampling request with text; the toolset declares
plain `sampling`, it cannot declare `sampling.tools` or `sampling.context`),
`elicitation_handler` (answers with BACKCHANNEL_CLIENT_ELICITATION_ACTION after
BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS; accept submits the form's defaults and a
valid value for each other required field, a URL consented to), `roots` (a roots
handler reading the current list; after BACKCHANNEL_CLIENT_ROOTS_CHANGE's delay the
list changes and the driver calls the FastMCP client's `send_roots_list_changed()`).
Logging: Python's default format on stderr at BACKCHANNEL_CLIENT_LOG_LEVEL, and
FastMCP's own `fastmcp` logger (its rich handler) at the same level (FASTMCP_LOG_LEVEL).
"""

import json
import logging
import os
import sys

TRIGGER_TOOL = "backchannel_run_scenario"
LEVEL = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
# FastMCP configures its `fastmcp` logger at import from its settings.
os.environ.setdefault("FASTMCP_LOG_LEVEL", LEVEL)

import anyio  # noqa: E402
from fastmcp.client.elicitation import ElicitResult  # noqa: E402
from fastmcp.client.transports import StdioTransport  # noqa: E402
from pydantic_ai import Agent  # noqa: E402
from pydantic_ai.mcp import MCPToolset  # noqa: E402
from pydantic_ai.messages import ModelResponse, RetryPromptPart, TextPart, ToolCallPart, ToolReturnPart  # noqa: E402
from pydantic_ai.models.function import AgentInfo, FunctionModel  # noqa: E402
from pydantic_ai.models.test import TestModel  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from form import form_content  # noqa: E402  (clients/lib/form.py)

ROOTS = os.environ.get("BACKCHANNEL_CLIENT_ROOTS", "").split()
CHANGE = os.environ.get("BACKCHANNEL_CLIENT_ROOTS_CHANGE", "").split()
SAMPLING = [f for f in os.environ.get("BACKCHANNEL_CLIENT_SAMPLING", "").split(",") if f.strip()]
ARGUMENTS = json.loads(os.environ.get("BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS") or "{}")
PROMPT = os.environ.get("BACKCHANNEL_CLIENT_GET_PROMPT", "")
RESOURCE = os.environ.get("BACKCHANNEL_CLIENT_READ_RESOURCE", "")
log = logging.getLogger("driver")


def elicitation_handler():
    if not os.environ.get("BACKCHANNEL_CLIENT_ELICITATION"):
        return None
    delay = int(os.environ.get("BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS") or 0) / 1000
    action = os.environ.get("BACKCHANNEL_CLIENT_ELICITATION_ACTION") or "decline"

    # FastMCP's handler shape: (message, response_type, params, context).
    async def elicit(message, response_type, params, context):
        await anyio.sleep(delay)
        if action != "accept":
            return ElicitResult(action=action)
        schema = getattr(params, "requested_schema", None)
        if schema is None:  # URL mode: consent, no content
            return ElicitResult(action="accept")
        return ElicitResult(action="accept", content=form_content(dict(schema)))

    return elicit


def roots_handler():
    if not ROOTS and not CHANGE:
        return None

    def list_roots(context):
        return list(ROOTS)

    return list_roots


def agent_model(messages, info: AgentInfo):
    """The agent's model: call the scenario's tool once, then finish."""
    done = any(
        isinstance(part, (ToolReturnPart, RetryPromptPart)) for m in messages for part in getattr(m, "parts", [])
    )
    if not done and any(t.name == TRIGGER_TOOL for t in info.function_tools):
        return ModelResponse(parts=[ToolCallPart(TRIGGER_TOOL, ARGUMENTS)])
    return ModelResponse(parts=[TextPart("pydantic-ai driver: done")])


async def change_roots(toolset):
    await anyio.sleep(int(CHANGE[0]) / 1000)
    ROOTS[:] = CHANGE[1:]
    await toolset.client.send_roots_list_changed()


async def stay(toolset):
    """Until the server ends the session (legacy revisions: a failing ping)."""
    version = toolset.client.protocol_version or ""
    if version >= "2026-07-28":
        return
    while True:
        await anyio.sleep(0.2)
        try:
            with anyio.fail_after(2):
                await toolset.client.ping()
        except BaseException:  # the server ended the session
            return


async def main(transport, target):
    source = StdioTransport(command=target[0], args=target[1:]) if transport == "stdio" else target[0]
    toolset = MCPToolset(
        source,
        sampling_model=TestModel(custom_output_text="pydantic-ai driver reply") if SAMPLING else None,
        elicitation_handler=elicitation_handler(),
        roots=roots_handler(),
    )
    agent = Agent(FunctionModel(agent_model), toolsets=[toolset])
    async with agent:  # enters the toolset: one MCP session for the run and after it
        async with anyio.create_task_group() as tasks:
            if CHANGE:
                tasks.start_soon(change_roots, toolset)
            try:
                if PROMPT:
                    await toolset.get_prompt(PROMPT)
                elif RESOURCE:
                    await toolset.read_resource(RESOURCE)
                else:
                    await agent.run("Run the backchannel scenario.")
            except Exception as e:  # an input round it could not fulfil, or a refusal
                log.info("request ended: %s: %s", type(e).__name__, e)
            try:
                await stay(toolset)
            finally:
                tasks.cancel_scope.cancel()


if __name__ == "__main__":
    logging.basicConfig(level=getattr(logging, LEVEL, logging.INFO), stream=sys.stderr)
    try:
        anyio.run(main, sys.argv[1], sys.argv[2:])
    except BaseException as e:  # the session ending can surface as an exception group
        log.info("session over: %s", type(e).__name__, exc_info=os.environ.get("BACKCHANNEL_DRIVER_TRACEBACK") == "1")
