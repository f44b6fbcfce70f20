"""backchannel driver for FastMCP's client (`fastmcp` on PyPI): `fastmcp.Client` with
its defaults — dual-era (mode="auto": a server/discover probe, then 2026-07-28 or the
initialize handshake), FastMCP's default log handler, MRTR input rounds driven by
Client.call_tool — and FastMCP's own hooks for what the harness asks for.

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv (a StdioTransport: command and args).
  http:  TARGET is the Streamable HTTP URL (StreamableHttpTransport).
  sse:   TARGET is the HTTP+SSE URL (SSETransport).

It connects (`async with client`), lists tools, calls the mock's tool when it is
offered, and stays until the server ends the session (it notices by a failing
Client.ping()). Roots from BACKCHANNEL_CLIENT_ROOTS are given as Client's `roots`
(a RootsHandler reading the application's current list); when
BACKCHANNEL_CLIENT_ROOTS_CHANGE says so ("MS URI..."), the list changes after MS
milliseconds and the driver calls Client.send_roots_list_changed(), as an
application must. When BACKCHANNEL_CLIENT_ELICITATION is set, Client's
`elicitation_handler` answers every request with BACKCHANNEL_CLIENT_ELICITATION_ACTION
(decline by default; accept submits the form's defaults and a valid value for each
other required field) after BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS: the SDK
underneath then declares the capability itself (form and url, whatever the modes
asked for). When BACKCHANNEL_CLIENT_SAMPLING is set (`basic`, `tools`, `context`),
Client's `sampling_handler` answers with a canned assistant message — a tool_use of
the first offered tool when the request offers tools its toolChoice allows — and
`sampling_capabilities` declares those sub-capabilities. Logging: FastMCP's own
`fastmcp` logger as FastMCP configures it (FASTMCP_LOG_LEVEL, set from
BACKCHANNEL_CLIENT_LOG_LEVEL), and the SDK's loggers through the root logger on
stderr in Python's default format at the same level.
"""

import json
import logging
import os
import sys

LEVEL = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
# FastMCP reads its settings (FASTMCP_*) when it is first imported.
os.environ.setdefault("FASTMCP_LOG_LEVEL", LEVEL)

import anyio  # noqa: E402
import mcp_types  # noqa: E402
from fastmcp import Client  # noqa: E402
from fastmcp.client.elicitation import ElicitResult  # noqa: E402
from fastmcp.client.transports import SSETransport, StdioTransport, StreamableHttpTransport  # noqa: E402

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from form import form_content  # noqa: E402  (clients/lib/form.py)

TRIGGER_TOOL = "backchannel_run_scenario"

ROOTS = os.environ.get("BACKCHANNEL_CLIENT_ROOTS", "").split()
CHANGE = os.environ.get("BACKCHANNEL_CLIENT_ROOTS_CHANGE", "").split()


def roots():
    if not ROOTS and not CHANGE:
        return None

    def current_roots(context):
        return list(ROOTS)

    return current_roots


def elicitation_handler():
    if not os.environ.get("BACKCHANNEL_CLIENT_ELICITATION"):
        return None
    delay = int(os.environ.get("BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS") or 0) / 1000
    action = os.environ.get("BACKCHANNEL_CLIENT_ELICITATION_ACTION") or "decline"

    async def elicit(message, response_type, params, context):
        await anyio.sleep(delay)
        if action != "accept":
            return ElicitResult(action=action)
        schema = getattr(params, "requested_schema", None)
        if schema is None:  # URL mode: consent, no content
            return ElicitResult(action="accept")
        return ElicitResult(action="accept", content=form_content(dict(schema)))

    return elicit


SAMPLING = [f for f in os.environ.get("BACKCHANNEL_CLIENT_SAMPLING", "").split(",") if f.strip()]


def sampling_handler():
    if not SAMPLING:
        return None

    async def sample(messages, params, context):
        tools = getattr(params, "tools", None) or []
        if tools and "tools" not in SAMPLING:  # the schema: MUST return an error
            # FastMCP turns a handler's exception into an error response.
            raise ValueError("fastmcp-client driver: tools offered, sampling.tools not declared")
        choice = getattr(params, "tool_choice", None)
        mode = getattr(choice, "mode", None) or "auto"
        last = messages[-1].content if messages else None
        blocks = last if isinstance(last, list) else [last]
        answered = any(getattr(b, "type", None) == "tool_result" for b in blocks)
        if tools and mode != "none" and (not answered or mode == "required"):
            return mcp_types.CreateMessageResultWithTools(
                role="assistant",
                content=[mcp_types.ToolUseContent(type="tool_use", id="driver-call-1", name=tools[0].name, input={})],
                model="fastmcp-client-driver",
                stop_reason="toolUse",
            )
        return mcp_types.CreateMessageResult(
            role="assistant",
            content=mcp_types.TextContent(type="text", text="fastmcp-client driver reply"),
            model="fastmcp-client-driver",
            stop_reason="endTurn",
        )

    return sample


def sampling_capabilities():
    if not SAMPLING:
        return None
    return mcp_types.SamplingCapability(
        tools=mcp_types.SamplingToolsCapability() if "tools" in SAMPLING else None,
        context=mcp_types.SamplingContextCapability() if "context" in SAMPLING else None,
    )


ARGUMENTS = json.loads(os.environ.get("BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS") or "{}")
PROMPT = os.environ.get("BACKCHANNEL_CLIENT_GET_PROMPT", "")
RESOURCE = os.environ.get("BACKCHANNEL_CLIENT_READ_RESOURCE", "")


async def change_roots(client):
    await anyio.sleep(int(CHANGE[0]) / 1000)
    ROOTS[:] = CHANGE[1:]
    await client.send_roots_list_changed()


async def drive(transport):
    client = Client(
        transport,
        roots=roots(),
        sampling_handler=sampling_handler(),
        sampling_capabilities=sampling_capabilities(),
        elicitation_handler=elicitation_handler(),
    )
    async with client:
        async with anyio.create_task_group() as tasks:
            if CHANGE:
                tasks.start_soon(change_roots, client)
            try:
                if PROMPT:
                    await client.get_prompt(PROMPT)
                elif RESOURCE:
                    await client.read_resource(RESOURCE)
                else:
                    tools = await client.list_tools()
                    if any(t.name == TRIGGER_TOOL for t in tools):
                        await client.call_tool(TRIGGER_TOOL, ARGUMENTS)
            except Exception as e:  # an input round it could not fulfil, or a refusal
                logging.getLogger("driver").info("request ended: %s", type(e).__name__)
            if (client.protocol_version or "") >= "2026-07-28":
                # No ping in 2026-07-28: the session is over once the call is.
                tasks.cancel_scope.cancel()
                return
            while True:
                await anyio.sleep(0.2)
                try:
                    with anyio.fail_after(2):
                        await client.ping()
                except BaseException:  # the server ended the session
                    tasks.cancel_scope.cancel()
                    return


def transport_for(kind, target):
    if kind == "stdio":
        return StdioTransport(command=target[0], args=target[1:])
    if kind == "http":
        return StreamableHttpTransport(target[0])
    return SSETransport(target[0])


if __name__ == "__main__":
    logging.basicConfig(level=getattr(logging, LEVEL, logging.INFO), stream=sys.stderr)
    try:
        anyio.run(drive, transport_for(sys.argv[1], sys.argv[2:]))
    except BaseException as e:  # the session ending can surface as an exception group
        logging.getLogger("driver").info("session over: %s", type(e).__name__, exc_info=os.environ.get("BACKCHANNEL_DRIVER_TRACEBACK") == "1")
