// backchannel driver for Mastra's MCP client (`@mastra/mcp` on npm): its `MCPClient`
// with one configured server, `{command, args}` or `{url: new URL(...)}`, and its
// defaults: dual-era (a server/discover probe, then 2026-07-28 or the initialize
// handshake), no sampling, no roots (@mastra/mcp 2.x has neither: see its
// reference-migrations-mcp-v2.md, "roots and sampling").
//
// Usage: node driver.mjs (stdio|http) TARGET...
//   stdio: TARGET is the server's argv; Mastra launches it.
//   http:  TARGET is the Streamable HTTP URL (@mastra/mcp 2.0.0 has no HTTP+SSE client).
//
// The harness's hints configure what an application would, through Mastra's own
// server-definition options only:
//   - elicitation (BACKCHANNEL_CLIENT_ELICITATION: form, url, form,url or empty):
//     `inputRequests`, Mastra's input handler (it answers elicitation/create, and the
//     input requests a 2026-07-28 result embeds), with `capabilities.elicitation`
//     set to the modes asked for; it answers with BACKCHANNEL_CLIENT_ELICITATION_ACTION
//     (decline by default; accept submits the form's defaults and a valid value for
//     each other required field) after BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS;
//   - the log level (BACKCHANNEL_CLIENT_LOG_LEVEL): Mastra's `logger` handler, which
//     receives the client's log records with their level; the driver prints those at
//     or above the level as `LEVEL:mastra:message` on stderr, as Mastra's docs show
//     (`logger: msg => console.log(msg.serverName, msg.level, msg.message)`). Mastra's
//     own console logger stays at its default (errors only).
//
// It lists tools (`listToolsWithErrors()`, names namespaced `<server key>_<tool>`), executes the
// mock's tool when it is offered (or gets the prompt / reads the resource a 2026-07-28
// scenario names), then stays until the server ends the session: on 2026-07-28 there
// is no session beyond the call; on a legacy connection over stdio Mastra notices the
// server's exit itself (its "MCP server connection closed" record); over HTTP the
// driver lists tools every 0.2 s until that fails (Mastra has no ping). Then
// `disconnect()`.
import { MCPClient } from "@mastra/mcp";
import { formContent } from "../lib/form.mjs";

const TRIGGER_TOOL = "backchannel_run_scenario";
// The server's key in `servers`: Mastra also sends it as the clientInfo name.
const SERVER = "scenario-server";
const [transportKind, ...target] = process.argv.slice(2);
const log = (level, msg) => process.stderr.write(`${level}:driver:${msg}\n`);

const elicitModes = (process.env.BACKCHANNEL_CLIENT_ELICITATION ?? "").split(",").filter(Boolean);
const elicitDelay = Number(process.env.BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS || 0);
const elicitAction = process.env.BACKCHANNEL_CLIENT_ELICITATION_ACTION || "decline";
const ARGUMENTS = JSON.parse(process.env.BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS || "{}");
const PROMPT = process.env.BACKCHANNEL_CLIENT_GET_PROMPT ?? "";
const RESOURCE = process.env.BACKCHANNEL_CLIENT_READ_RESOURCE ?? "";

// MCP logging levels, lowest first; the knob says `debug` or `info`.
const LEVELS = ["debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"];
const threshold = Math.max(0, LEVELS.indexOf((process.env.BACKCHANNEL_CLIENT_LOG_LEVEL || "info").toLowerCase()));
let closed = false;
let notifyClosed = () => {};
const closedSignal = new Promise((r) => { notifyClosed = r; });
const logger = (m) => {
  if (/MCP server connection closed/.test(m.message)) {
    closed = true;
    notifyClosed();
  }
  if (LEVELS.indexOf(m.level) < threshold) return;
  const level = { debug: "DEBUG", info: "INFO", notice: "INFO", warning: "WARNING" }[m.level] ?? "ERROR";
  const details = m.details === undefined ? "" : ` ${JSON.stringify(m.details)}`;
  process.stderr.write(`${level}:mastra:${m.message}${details}\n`);
};

const server = transportKind === "stdio" ? { command: target[0], args: target.slice(1) } : { url: new URL(target[0]) };
server.logger = logger;
if (elicitModes.length) {
  const elicitation = {};
  for (const m of elicitModes.filter((m) => m !== "empty")) elicitation[m] = {};
  server.capabilities = { elicitation };
  server.inputRequests = async ({ params }) => {
    await new Promise((r) => setTimeout(r, elicitDelay));
    if (elicitAction !== "accept") return { action: elicitAction };
    if (params.mode === "url") return { action: "accept" };
    return { action: "accept", content: formContent(params.requestedSchema) };
  };
}

const mcp = new MCPClient({ servers: { [SERVER]: server } });

try {
  if (PROMPT) {
    await mcp.prompts.get({ serverName: SERVER, name: PROMPT });
  } else if (RESOURCE) {
    await mcp.resources.read(SERVER, RESOURCE);
  } else {
    const { tools, errors } = await mcp.listToolsWithErrors();
    if (errors[SERVER]) throw new Error(errors[SERVER]);
    const tool = tools[`${SERVER}_${TRIGGER_TOOL}`];
    if (tool) await tool.execute(ARGUMENTS, {});
  }
} catch (e) {
  log("INFO", `request ended: ${e?.id ?? e?.name ?? e}`);
}

const revision = mcp.getServerProtocolVersions()[SERVER];
if (revision !== undefined && revision < "2026-07-28") {
  if (transportKind === "stdio") {
    await closedSignal;
  } else {
    while (!closed) {
      await new Promise((r) => setTimeout(r, 200));
      const { errors } = await mcp.listToolsWithErrors();
      if (errors[SERVER]) break;
    }
  }
}
await mcp.disconnect().catch(() => {});
process.exit(0);
