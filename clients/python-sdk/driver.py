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
must. When BACKCHANNEL_CLIENT_ELICITATION is set, an elicitation callback answers
every request with BACKCHANNEL_CLIENT_ELICITATION_ACTION (decline by default; accept
submits the form's defaults and a valid value for each other required field) after
BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS: the SDK then declares the capability itself
(form and url, whatever the modes asked for). When BACKCHANNEL_CLIENT_SAMPLING is set
(`basic`, `tools`, `context`), a sampling callback answers with a canned assistant
message — a tool_use of the first offered tool when the request offers tools its
toolChoice allows — and the SDK declares sampling with those sub-capabilities.
Logging goes to stderr in Python's default format at BACKCHANNEL_CLIENT_LOG_LEVEL.
"""

import json
import logging
import os
import sys

import anyio
from mcp import Client, types
from mcp.client.sse import sse_client
from mcp.client.stdio import StdioServerParameters

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from form import form_content  # noqa: E402  (clients/lib/form.py)

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
    action = os.environ.get("BACKCHANNEL_CLIENT_ELICITATION_ACTION") or "decline"

    async def elicit(context, params):
        await anyio.sleep(delay)
        if action != "accept":
            return types.ElicitResult(action=action)
        schema = getattr(params, "requested_schema", None)
        if schema is None:  # URL mode: consent, no content
            return types.ElicitResult(action="accept")
        return types.ElicitResult(action="accept", content=form_content(dict(schema)))

    return elicit


SAMPLING = [f for f in os.environ.get("BACKCHANNEL_CLIENT_SAMPLING", "").split(",") if f.strip()]


def sampling_callback():
    if not SAMPLING:
        return None

    async def sample(context, params):
        tools = getattr(params, "tools", None) or []
        if tools and "tools" not in SAMPLING:  # the schema: MUST return an error
            return types.ErrorData(code=-32602, message="python-sdk driver: tools offered, sampling.tools not declared")
        choice = getattr(params, "tool_choice", None)
        mode = getattr(choice, "mode", None) or "auto"
        last = params.messages[-1].content if params.messages else None
        blocks = last if isinstance(last, list) else [last]
        answered = any(getattr(b, "type", None) == "tool_result" for b in blocks)
        if tools and mode != "none" and (not answered or mode == "required"):
            return types.CreateMessageResultWithTools(
                role="assistant",
                content=[types.ToolUseContent(type="tool_use", id="driver-call-1", name=tools[0].name, input={})],
                model="python-sdk-driver",
                stop_reason="toolUse",
            )
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="python-sdk driver reply"),
            model="python-sdk-driver",
            stop_reason="endTurn",
        )

    return sample


def sampling_capabilities():
    if not SAMPLING:
        return None
    return types.SamplingCapability(
        tools=types.SamplingToolsCapability() if "tools" in SAMPLING else None,
        context=types.SamplingContextCapability() if "context" in SAMPLING else None,
    )


# The trigger call's arguments (mirrored into Mcp-Param-* headers over 2026-07-28 HTTP
# where the tool's schema marks them with x-mcp-header).
ARGUMENTS = json.loads(os.environ.get("BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS") or "{}")
# Or the prompt to get / the resource to read, when the scenario's rounds answer those.
PROMPT = os.environ.get("BACKCHANNEL_CLIENT_GET_PROMPT", "")
RESOURCE = os.environ.get("BACKCHANNEL_CLIENT_READ_RESOURCE", "")


async def change_roots(session):
    await anyio.sleep(int(CHANGE[0]) / 1000)
    ROOTS[:] = CHANGE[1:]
    await session.send_roots_list_changed()


async def drive(server):
    # The SDK's high-level Client, dual-era by default (mode="auto"): it probes with
    # server/discover and speaks 2026-07-28 when the server does, else initializes.
    async with Client(
        server,
        list_roots_callback=roots_callback(),
        elicitation_callback=elicitation_callback(),
        sampling_callback=sampling_callback(),
        sampling_capabilities=sampling_capabilities(),
    ) as client:
        async with anyio.create_task_group() as tasks:
            if CHANGE:
                tasks.start_soon(change_roots, client.session)
            try:
                if PROMPT:
                    # 2026-07-28 rounds may answer prompts/get and resources/read too.
                    await client.get_prompt(PROMPT)
                elif RESOURCE:
                    await client.read_resource(RESOURCE)
                else:
                    tools = await client.list_tools()
                    if any(t.name == TRIGGER_TOOL for t in tools.tools):
                        await client.call_tool(TRIGGER_TOOL, ARGUMENTS)
            except Exception as e:  # an input round it could not fulfil, or a refusal
                logging.getLogger("driver").info("request ended: %s", type(e).__name__)
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
