"""backchannel driver for Strands Agents' MCP client (`strands-agents` on PyPI):
`strands.tools.mcp.MCPClient`, the class a Strands Agent takes as a tool provider, used
on its own (no Agent, no model): a context manager whose MCP session runs on a
background thread.

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv: MCPClient(lambda: stdio_client(StdioServerParameters(...))).
  http:  TARGET is the Streamable HTTP URL: MCPClient(url=...), its own Streamable HTTP transport.
  sse:   TARGET is the HTTP+SSE URL: MCPClient(lambda: sse_client(url)).

Entering the context negotiates the session the way Strands does (mcp 2.x `negotiate_auto`: a
server/discover probe, then 2026-07-28 or the initialize handshake). The driver lists tools
(list_tools_sync), calls the mock's tool when it is offered (call_tool_sync with
BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS) — or gets the prompt / reads the resource the scenario
names — then, on 2026-07-28 (no session), leaves; on an earlier revision it stays until the
server ends the session. MCPClient has no ping and does not notice a
transport that ends under its idle session (its background thread waits for `stop()`), so the
driver probes with its public list_tools_sync every 0.2 s (bounded at 2 s) and leaves the context
when a probe fails.

Knobs: MCPClient takes an `elicitation_callback` (BACKCHANNEL_CLIENT_ELICITATION: it answers with
BACKCHANNEL_CLIENT_ELICITATION_ACTION, decline by default; accept submits the form's defaults and a
valid value for each other required field, after BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS; the SDK
then declares form and url). It has no sampling callback, no roots and no list_roots callback (the
SDK's defaults refuse those requests). Logging is Python's default format on stderr at
BACKCHANNEL_CLIENT_LOG_LEVEL (Strands logs through `strands.*` loggers).
"""

import asyncio
import json
import logging
import os
import sys
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from form import form_content  # noqa: E402  (clients/lib/form.py)

TRIGGER_TOOL = "backchannel_run_scenario"
ARGUMENTS = json.loads(os.environ.get("BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS") or "{}")
PROMPT = os.environ.get("BACKCHANNEL_CLIENT_GET_PROMPT", "")
RESOURCE = os.environ.get("BACKCHANNEL_CLIENT_READ_RESOURCE", "")

log = logging.getLogger("driver")


def elicitation_callback():
    if not os.environ.get("BACKCHANNEL_CLIENT_ELICITATION"):
        return None
    from mcp import types

    delay = int(os.environ.get("BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS") or 0) / 1000
    action = os.environ.get("BACKCHANNEL_CLIENT_ELICITATION_ACTION") or "decline"

    async def elicit(context, params):
        await asyncio.sleep(delay)
        if action != "accept":
            return types.ElicitResult(action=action)
        schema = getattr(params, "requested_schema", None)
        if schema is None:  # URL mode: consent, no content
            return types.ElicitResult(action="accept")
        return types.ElicitResult(action="accept", content=form_content(dict(schema)))

    return elicit


def alive(client):
    """One bounded liveness probe through MCPClient's public API."""
    outcome = []

    def probe():
        try:
            client.list_tools_sync()
            outcome.append(True)
        except BaseException:
            outcome.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(2)
    return outcome == [True]


def transport(kind, target):
    if kind == "stdio":
        from mcp import StdioServerParameters, stdio_client

        params = StdioServerParameters(command=target[0], args=target[1:])
        return {"transport_callable": lambda: stdio_client(params)}
    if kind == "http":
        return {"url": target[0]}
    from mcp.client.sse import sse_client

    return {"transport_callable": lambda: sse_client(target[0])}


def main(kind, target):
    from strands.tools.mcp import MCPClient

    client = MCPClient(**transport(kind, target), elicitation_callback=elicitation_callback())
    with client:
        try:
            if PROMPT:
                client.get_prompt_sync(PROMPT, {})
            elif RESOURCE:
                client.read_resource_sync(RESOURCE)
            else:
                tools = client.list_tools_sync()
                if any(t.tool_name == TRIGGER_TOOL for t in tools):
                    # call_tool_sync returns an error result rather than raising
                    result = client.call_tool_sync("backchannel-1", TRIGGER_TOOL, ARGUMENTS)
                    log.info("tool call status: %s", result.get("status"))
        except Exception as e:  # a refusal, or the session ending under the request
            log.info("request ended: %s", type(e).__name__)
        # No session in 2026-07-28: done once the call is. MCPClient does not expose the
        # negotiated revision; its SDK ClientSession (read, not touched) does.
        session = getattr(client, "_background_thread_session", None)
        if (getattr(session, "protocol_version", None) or "") >= "2026-07-28":
            return
        while True:
            threading.Event().wait(0.2)
            if not alive(client):
                break


if __name__ == "__main__":
    level = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr)
    try:
        main(sys.argv[1], sys.argv[2:])
    except BaseException as e:  # stop() re-raises the transport's end as RuntimeError
        log.info("session over: %s", type(e).__name__, exc_info=os.environ.get("BACKCHANNEL_DRIVER_TRACEBACK") == "1")
