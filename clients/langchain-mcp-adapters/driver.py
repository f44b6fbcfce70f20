"""backchannel driver for LangChain's MCP adapters (`langchain-mcp-adapters` on PyPI):
`MultiServerMCPClient` with one configured server ("backchannel"), a `connections`
entry of transport `stdio`, `streamable_http` or `sse`, and its defaults.

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv (the connection's command and args).
  http:  TARGET is the Streamable HTTP URL.   sse: TARGET is the HTTP+SSE URL.

`client.get_tools()` opens a fresh session to list the tools and another for every
tool call, and closes each when it is done: nothing would stay connected. The driver
takes the package's other documented way, one explicit session:
`async with client.session("backchannel") as session` (initialized with the
package's defaults), `load_mcp_tools(session, ...)` to get the LangChain tools, then
`ainvoke` of the LangChain tool `backchannel_run_scenario` when it is offered (with
BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS), and it stays in that session until the
server ends it (noticed by a failing ping, as the python-sdk driver does).

Knobs, each through the package's own configuration only:
- elicitation (BACKCHANNEL_CLIENT_ELICITATION): `Callbacks(on_elicitation=...)`, the
  package's elicitation callback (langchain_mcp_adapters/callbacks.py); it answers
  with BACKCHANNEL_CLIENT_ELICITATION_ACTION after _DELAY_MS, as the python-sdk
  driver does. The SDK underneath then declares elicitation (form and url).
- sampling and roots: `Callbacks` has no hook for them; the package's connection
  config has `session_kwargs` ("Additional keyword arguments to pass to the
  ClientSession", the maintainers' answer to the sampling request, issue #42 ->
  PR #66), which carries `sampling_callback` / `sampling_capabilities` and
  `list_roots_callback`. A roots change is announced with the session's
  `send_roots_list_changed()`, as an application must.
- log level: Python logging at BACKCHANNEL_CLIENT_LOG_LEVEL on stderr (the package
  and the SDK log through `logging`).
"""

import asyncio
import json
import logging
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "lib"))
from form import form_content  # noqa: E402  (clients/lib/form.py)

TRIGGER_TOOL = "backchannel_run_scenario"
SERVER = "backchannel"

ROOTS = os.environ.get("BACKCHANNEL_CLIENT_ROOTS", "").split()
CHANGE = os.environ.get("BACKCHANNEL_CLIENT_ROOTS_CHANGE", "").split()
SAMPLING = [f for f in os.environ.get("BACKCHANNEL_CLIENT_SAMPLING", "").split(",") if f.strip()]
ARGUMENTS = json.loads(os.environ.get("BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS") or "{}")
PROMPT = os.environ.get("BACKCHANNEL_CLIENT_GET_PROMPT", "")
RESOURCE = os.environ.get("BACKCHANNEL_CLIENT_READ_RESOURCE", "")


def on_elicitation():
    """The package's ElicitationCallback (mcp_context, params, callback_context)."""
    if not os.environ.get("BACKCHANNEL_CLIENT_ELICITATION"):
        return None
    from mcp import types

    delay = int(os.environ.get("BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS") or 0) / 1000
    action = os.environ.get("BACKCHANNEL_CLIENT_ELICITATION_ACTION") or "decline"

    async def elicit(mcp_context, params, context):
        await asyncio.sleep(delay)
        if action != "accept":
            return types.ElicitResult(action=action)
        schema = getattr(params, "requestedSchema", None)
        if schema is None:  # URL mode: consent, no content
            return types.ElicitResult(action="accept")
        return types.ElicitResult(action="accept", content=form_content(dict(schema)))

    return elicit


def session_kwargs():
    """ClientSession keyword arguments, through the connection's `session_kwargs`."""
    from mcp import types

    kwargs = {}
    if ROOTS or CHANGE:
        async def list_roots(context):
            return types.ListRootsResult(roots=[types.Root(uri=u) for u in ROOTS])

        kwargs["list_roots_callback"] = list_roots
    if SAMPLING:
        async def sample(context, params):
            tools = getattr(params, "tools", None) or []
            if tools and "tools" not in SAMPLING:  # the schema: MUST return an error
                return types.ErrorData(code=-32602, message="langchain-mcp-adapters driver: tools offered, sampling.tools not declared")
            choice = getattr(params, "toolChoice", None)
            mode = getattr(choice, "mode", None) or "auto"
            last = params.messages[-1].content if params.messages else None
            blocks = last if isinstance(last, list) else [last]
            answered = any(getattr(b, "type", None) == "tool_result" for b in blocks)
            if tools and mode != "none" and (not answered or mode == "required"):
                return types.CreateMessageResultWithTools(
                    role="assistant",
                    content=[types.ToolUseContent(type="tool_use", id="driver-call-1", name=tools[0].name, input={})],
                    model="langchain-mcp-adapters-driver",
                    stopReason="toolUse",
                )
            return types.CreateMessageResult(
                role="assistant",
                content=types.TextContent(type="text", text="langchain-mcp-adapters driver reply"),
                model="langchain-mcp-adapters-driver",
                stopReason="endTurn",
            )

        kwargs["sampling_callback"] = sample
        kwargs["sampling_capabilities"] = types.SamplingCapability(
            tools=types.SamplingToolsCapability() if "tools" in SAMPLING else None,
            context=types.SamplingContextCapability() if "context" in SAMPLING else None,
        )
    return kwargs


def connection(kind, target):
    if kind == "stdio":
        conn = {"transport": "stdio", "command": target[0], "args": target[1:]}
    elif kind == "http":
        conn = {"transport": "streamable_http", "url": target[0]}
    else:
        conn = {"transport": "sse", "url": target[0]}
    extra = session_kwargs()
    if extra:
        conn["session_kwargs"] = extra
    return conn


async def change_roots(session):
    await asyncio.sleep(int(CHANGE[0]) / 1000)
    ROOTS[:] = CHANGE[1:]
    await session.send_roots_list_changed()


async def main(kind, target):
    from langchain_mcp_adapters.callbacks import Callbacks
    from langchain_mcp_adapters.client import MultiServerMCPClient
    from langchain_mcp_adapters.prompts import load_mcp_prompt
    from langchain_mcp_adapters.resources import load_mcp_resources
    from langchain_mcp_adapters.tools import load_mcp_tools

    log = logging.getLogger("driver")
    client = MultiServerMCPClient({SERVER: connection(kind, target)}, callbacks=Callbacks(on_elicitation=on_elicitation()))
    async with client.session(SERVER) as session:
        changer = asyncio.create_task(change_roots(session)) if CHANGE else None
        try:
            if PROMPT:
                await load_mcp_prompt(session, PROMPT)
            elif RESOURCE:
                await load_mcp_resources(session, uris=RESOURCE)
            else:
                tools = await load_mcp_tools(session, callbacks=client.callbacks, server_name=SERVER)
                tool = next((t for t in tools if t.name == TRIGGER_TOOL), None)
                if tool is not None:
                    await tool.ainvoke(ARGUMENTS)
        except Exception as e:  # a refusal or a broken call
            log.info("request ended: %s", type(e).__name__)
        try:
            while True:
                await asyncio.sleep(0.2)
                try:
                    await asyncio.wait_for(session.send_ping(), 2)
                except BaseException:  # the server ended the session
                    return
        finally:
            if changer is not None:
                changer.cancel()


if __name__ == "__main__":
    level = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()
    logging.basicConfig(level=getattr(logging, level, logging.INFO), stream=sys.stderr)
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except BaseException as e:  # the session ending can surface as an exception group
        logging.getLogger("driver").info("session over: %s", type(e).__name__, exc_info=os.environ.get("BACKCHANNEL_DRIVER_TRACEBACK") == "1")
