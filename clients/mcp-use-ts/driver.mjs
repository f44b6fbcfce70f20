// backchannel driver for mcp-use's TypeScript client (`mcp-use` on npm, the
// `mcp-use/client` entry point): `MCPClient.fromDict({mcpServers: {...}}, options)`,
// a session from `createSession`, tools through the session's connector.
//
// Usage: node driver.mjs (stdio|http|sse) TARGET...
//   stdio: TARGET is the server's argv (a `{command, args}` server entry: mcp-use
//          launches it).
//   http, sse: TARGET is the URL (a `{url}` server entry: mcp-use tries Streamable
//          HTTP first and falls back to HTTP+SSE by itself, as its users get it).
//
// mcp-use's connectors always declare `roots: {listChanged: true}` and serve the
// roots the session was given (none by default). The harness's hints configure what
// an application would, through mcp-use's own options only:
//   - roots (BACKCHANNEL_CLIENT_ROOTS): `session.setRoots()` before the session
//     connects (createSession(name, false), then initialize());
//   - a roots change (BACKCHANNEL_CLIENT_ROOTS_CHANGE, "MS URI..."): `session.setRoots()`
//     after MS milliseconds, which sends notifications/roots/list_changed itself;
//   - elicitation (BACKCHANNEL_CLIENT_ELICITATION, _ACTION, _DELAY_MS): the client's
//     `onElicitation` option (mcp-use then declares `elicitation: {form: {}, url: {}}`,
//     whatever modes were asked for); accept submits the form's defaults and a valid
//     value for each other required field;
//   - sampling (BACKCHANNEL_CLIENT_SAMPLING): the client's `onSampling` option (mcp-use
//     then declares plain `sampling: {}`: it cannot declare sampling.tools or
//     .context, so a request offering tools is refused with -32602);
//   - the log level (BACKCHANNEL_CLIENT_LOG_LEVEL): mcp-use's logger reads DEBUG=2
//     (debug) when it is loaded; its lines go to the console as mcp-use prints them.
// Telemetry is off through MCP_USE_ANONYMIZED_TELEMETRY=false (the profile sets it).
//
// The session's initialize() lists tools (mcp-use caches them); the driver calls the
// mock's tool when it is offered, then stays until the server ends the session,
// pinging every 0.2 s with mcp-use's raw `connector.request("ping")`. mcp-use 1.34.6
// passes no result schema to the SDK there (dist/chunk-V64O255P.js BaseConnector.request:
// `this.client.request({method, params}, void 0, options)`), so even an answered ping
// rejects — with the TypeError the SDK's safeParse raises reading the missing schema.
// That rejection means the server answered; any other one (closed, not connected,
// timed out, fetch failed) ends the session.
const TRIGGER_TOOL = "backchannel_run_scenario";
const [transportKind, ...target] = process.argv.slice(2);
const log = (level, msg) => process.stderr.write(`${level}:driver:${msg}\n`);

if ((process.env.BACKCHANNEL_CLIENT_LOG_LEVEL ?? "").toLowerCase() === "debug" && !process.env.DEBUG) {
  process.env.DEBUG = "2";
}
const { MCPClient } = await import("mcp-use/client");
const { formContent } = await import("../lib/form.mjs");

const words = (v) => (v ?? "").split(/\s+/).filter(Boolean);
const roots = words(process.env.BACKCHANNEL_CLIENT_ROOTS);
const change = words(process.env.BACKCHANNEL_CLIENT_ROOTS_CHANGE);
const elicitModes = (process.env.BACKCHANNEL_CLIENT_ELICITATION ?? "").split(",").filter(Boolean);
const elicitDelay = Number(process.env.BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS || 0);
const elicitAction = process.env.BACKCHANNEL_CLIENT_ELICITATION_ACTION || "decline";
const sampling = (process.env.BACKCHANNEL_CLIENT_SAMPLING ?? "").split(",").filter(Boolean);
const ARGUMENTS = JSON.parse(process.env.BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS || "{}");

const options = {};
if (elicitModes.length) {
  options.onElicitation = async (params) => {
    await new Promise((r) => setTimeout(r, elicitDelay));
    if (elicitAction !== "accept") return { action: elicitAction };
    if (params.mode === "url") return { action: "accept" };
    return { action: "accept", content: formContent(params.requestedSchema) };
  };
}
if (sampling.length) {
  options.onSampling = async (params) => {
    if ((params.tools ?? []).length) {
      // mcp-use declares plain `sampling` only: tool use was not declared.
      const e = new Error("mcp-use-ts driver: tools offered, sampling.tools not declared");
      e.code = -32602;
      throw e;
    }
    return {
      role: "assistant",
      content: { type: "text", text: "mcp-use-ts driver reply" },
      model: "mcp-use-ts-driver",
      stopReason: "endTurn",
    };
  };
}

const server = transportKind === "stdio" ? { command: target[0], args: target.slice(1) } : { url: target[0] };
const client = MCPClient.fromDict({ mcpServers: { backchannel: server } }, options);

const alive = async (session) => {
  try {
    await session.connector.request("ping", {}, { timeout: 2000 });
    return true;
  } catch (e) {
    // An answered ping: the SDK's result parsing with no schema (see above).
    return e instanceof TypeError && /\bsafeParse\b/.test(`${e.stack}`);
  }
};

try {
  const session = await client.createSession("backchannel", false);
  if (roots.length) await session.setRoots(roots.map((uri) => ({ uri })));
  await session.initialize();
  if (change.length) {
    setTimeout(() => {
      session.setRoots(change.slice(1).map((uri) => ({ uri }))).catch(() => {});
    }, Number(change[0]));
  }
  const tools = session.connector.tools;
  if (tools.some((t) => t.name === TRIGGER_TOOL)) {
    try {
      await session.connector.callTool(TRIGGER_TOOL, ARGUMENTS);
    } catch (e) {
      log("INFO", `request ended: ${e?.name ?? e}`);
    }
  }
  while (true) {
    await new Promise((r) => setTimeout(r, 200));
    if (!(await alive(session))) break;
  }
} catch (e) {
  log("INFO", `session over: ${e?.name ?? e}`);
}
await client.close().catch(() => {});
process.exit(0);
