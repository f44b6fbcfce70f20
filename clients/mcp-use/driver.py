"""backchannel driver for mcp-use (`mcp-use` on PyPI): `mcp_use.client.client.MCPClient`
built from a config dict, the way its users configure servers (`mcpServers`: a stdio
`command`/`args`, or a `url`), with its defaults. No agent, no model: the driver uses the
client and its `MCPSession` directly.

Usage: driver.py (stdio|http|sse) TARGET...
  stdio: TARGET is the server's argv (the config's command and args).
  http:  TARGET is the Streamable HTTP URL.   sse: TARGET is the HTTP+SSE URL (the same
         `url` config: mcp-use's HttpConnector tries Streamable HTTP, then falls back to SSE).

`create_session` connects and initializes; the driver lists tools, calls the mock's tool
when it is offered, then stays until the server ends the session (noticed by a failing
ping on the session's ClientSession, `connector.client_session`) and closes its sessions.

Knobs, each through MCPClient's own options:
  roots        BACKCHANNEL_CLIENT_ROOTS -> MCPClient(roots=[Root(...)]). mcp-use always
               declares roots (listChanged) and answers roots/list from that list.
  roots-change BACKCHANNEL_CLIENT_ROOTS_CHANGE ("MS URI...") -> after MS milliseconds
               `connector.set_roots(...)`, which sends notifications/roots/list_changed.
  sampling     BACKCHANNEL_CLIENT_SAMPLING -> MCPClient(sampling_callback=...): a canned
               assistant message. mcp-use passes no sampling capabilities to the SDK, so it
               declares plain `sampling`: a request offering tools is refused (-32602).
  elicitation  BACKCHANNEL_CLIENT_ELICITATION -> MCPClient(elicitation_callback=...): answers
               with BACKCHANNEL_CLIENT_ELICITATION_ACTION (decline by default; accept submits
               the form's defaults and a valid value for each other required field) after
               BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS. The SDK declares form and url.
  log-level    BACKCHANNEL_CLIENT_LOG_LEVEL=debug -> MCP_USE_DEBUG=2, mcp-use's own switch
               (its `mcp_use` logger, on stdout); the SDK's `mcp` loggers go to stderr at
               the same level.
  call-tool    the trigger tool with BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS.
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
LEVEL = os.environ.get("BACKCHANNEL_CLIENT_LOG_LEVEL", "info").upper()

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
        schema = getattr(params, "requestedSchema", None)
        if schema is None:  # URL mode: consent, no content
            return types.ElicitResult(action="accept")
        return types.ElicitResult(action="accept", content=form_content(dict(schema)))

    return elicit


def sampling_callback():
    if not SAMPLING:
        return None
    from mcp import types

    async def sample(context, params):
        if params.tools:  # mcp-use declares plain sampling (no sampling.tools): MUST refuse
            return types.ErrorData(code=-32602, message="mcp-use driver: tools offered, sampling.tools not declared")
        return types.CreateMessageResult(
            role="assistant",
            content=types.TextContent(type="text", text="mcp-use driver reply"),
            model="mcp-use-driver",
            stopReason="endTurn",
        )

    return sample


async def change_roots(session):
    from mcp.types import Root

    await asyncio.sleep(int(CHANGE[0]) / 1000)
    await session.connector.set_roots([Root(uri=u) for u in CHANGE[1:]])


async def run(session):
    changer = asyncio.create_task(change_roots(session)) if CHANGE else None
    try:
        if PROMPT:
            await session.get_prompt(PROMPT)
        elif RESOURCE:
            await session.read_resource(RESOURCE)
        else:
            tools = await session.list_tools()
            if any(t.name == TRIGGER_TOOL for t in tools):
                await session.call_tool(TRIGGER_TOOL, ARGUMENTS)
    except Exception as e:  # a refusal, or the session ending under the call
        log.info("request ended: %s", type(e).__name__)
    # Stay until the server ends the session: ping its ClientSession until that fails.
    while True:
        await asyncio.sleep(0.2)
        try:
            await asyncio.wait_for(session.connector.client_session.send_ping(), 2)
        except BaseException:
            break
    if changer:
        changer.cancel()


async def main(kind, target):
    from mcp.types import Root
    from mcp_use.client.client import MCPClient

    server = {"command": target[0], "args": target[1:]} if kind == "stdio" else {"url": target[0]}
    client = MCPClient(
        config={"mcpServers": {SERVER: server}},
        roots=[Root(uri=u) for u in ROOTS] or None,
        sampling_callback=sampling_callback(),
        elicitation_callback=elicitation_callback(),
    )
    try:
        session = await client.create_session(SERVER)
        await run(session)
    finally:
        await client.close_all_sessions()


if __name__ == "__main__":
    if LEVEL == "DEBUG":
        os.environ.setdefault("MCP_USE_DEBUG", "2")  # mcp-use's own switch, read at import
    # mcp-use logs through its own `mcp_use` logger (a stdout handler it installs at
    # import); the SDK it drives (`mcp`) and this driver get a stderr handler at the same
    # level. Not the root logger: `mcp_use` propagates, and its lines would appear twice.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    for name in ("mcp", "driver"):
        logging.getLogger(name).addHandler(handler)
        logging.getLogger(name).setLevel(getattr(logging, LEVEL, logging.INFO))
    try:
        asyncio.run(main(sys.argv[1], sys.argv[2:]))
    except BaseException as e:  # the session ending can surface as an exception group
        log.info("session over: %s", type(e).__name__, exc_info=os.environ.get("BACKCHANNEL_DRIVER_TRACEBACK") == "1")
