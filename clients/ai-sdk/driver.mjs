// backchannel driver for the AI SDK's MCP client (`@ai-sdk/mcp` on npm): createMCPClient
// with its defaults (dual-era: a `server/discover` probe, then 2026-07-28 or the
// `initialize` handshake), its own transports (`StdioMCPTransport` from
// `@ai-sdk/mcp/mcp-stdio`, `{ type: 'http', url }`, `{ type: 'sse', url }`).
//
// Usage: node driver.mjs (stdio|http|sse) TARGET...
//   stdio: TARGET is the server's argv; the client launches it.
//   http:  TARGET is the Streamable HTTP URL.   sse: TARGET is the HTTP+SSE URL.
//
// As an AI SDK application does, it turns the server's tools into AI SDK tools with
// client.tools() and runs the mock's tool through that tool's own `execute` (no model
// is called), with BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS as its input; or, for the
// 2026-07-28 input-round scenarios, client.getPrompt() / client.readResource().
// Then it stays until the server ends the session: the client has no ping, so it
// lists tools every 0.2 s (2 s timeout) until a request fails; on 2026-07-28 the
// session is over once the call is. Then client.close().
//
// The only server->client hook the package has is elicitation: when
// BACKCHANNEL_CLIENT_ELICITATION is set (form, url, form,url or empty) the driver
// declares it through the `capabilities` option and registers a handler with
// client.onElicitationRequest(ElicitationRequestSchema, …), which answers with
// BACKCHANNEL_CLIENT_ELICITATION_ACTION (decline by default; accept submits the
// form's defaults and a valid value for each other required field) after
// BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS. The package has no sampling or roots
// handler and no way to send notifications/roots/list_changed, and it logs nothing:
// those knobs are not taken up. Errors it reports go to `onUncaughtError`, which an
// application leaves unset by default; the driver leaves it unset too.
import { createMCPClient, ElicitationRequestSchema } from "@ai-sdk/mcp";
import { StdioMCPTransport } from "@ai-sdk/mcp/mcp-stdio";
import { formContent } from "../lib/form.mjs";

const TRIGGER_TOOL = "backchannel_run_scenario";
const [transportKind, ...target] = process.argv.slice(2);
const log = (level, msg) => process.stderr.write(`${level}:driver:${msg}\n`);

let transport;
if (transportKind === "stdio") {
  // The mock's stderr is the client's stderr, as the package's default ('inherit').
  transport = new StdioMCPTransport({ command: target[0], args: target.slice(1) });
} else if (transportKind === "http") {
  transport = { type: "http", url: target[0] };
} else {
  transport = { type: "sse", url: target[0] };
}

const elicitModes = (process.env.BACKCHANNEL_CLIENT_ELICITATION ?? "").split(",").filter(Boolean);
const elicitDelay = Number(process.env.BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS || 0);
const elicitAction = process.env.BACKCHANNEL_CLIENT_ELICITATION_ACTION || "decline";
const ARGUMENTS = JSON.parse(process.env.BACKCHANNEL_CLIENT_CALL_TOOL_ARGUMENTS || "{}");
const PROMPT = process.env.BACKCHANNEL_CLIENT_GET_PROMPT || "";
const RESOURCE = process.env.BACKCHANNEL_CLIENT_READ_RESOURCE || "";

const capabilities = {};
if (elicitModes.length) {
  capabilities.elicitation = {};
  for (const m of elicitModes.filter((m) => m !== "empty")) capabilities.elicitation[m] = {};
}

let client;
try {
  client = await createMCPClient({ transport, capabilities });
  if (capabilities.elicitation) {
    client.onElicitationRequest(ElicitationRequestSchema, async (request) => {
      await new Promise((r) => setTimeout(r, elicitDelay));
      if (elicitAction !== "accept") return { action: elicitAction };
      if (request.params.mode === "url") return { action: "accept" };
      return { action: "accept", content: formContent(request.params.requestedSchema) };
    });
  }
  try {
    if (PROMPT) {
      await client.getPrompt({ name: PROMPT });
    } else if (RESOURCE) {
      await client.readResource({ uri: RESOURCE });
    } else {
      const tools = await client.tools();
      const trigger = tools[TRIGGER_TOOL];
      if (trigger) {
        await trigger.execute(ARGUMENTS, { toolCallId: "driver-call-1", messages: [] });
      }
    }
  } catch (e) {
    // an input round it could not fulfil, or a refusal
    log("INFO", `request ended: ${e?.name ?? e}: ${e?.message ?? ""}`);
  }
  if (client.initializeResult.protocolVersion < "2026-07-28") {
    // No ping in this client: any request that fails tells the session is over.
    while (true) {
      await new Promise((r) => setTimeout(r, 200));
      try {
        await client.listTools({ options: { timeout: 2000 } });
      } catch {
        break;
      }
    }
  }
} catch (e) {
  log("INFO", `session over: ${e?.name ?? e}: ${e?.message ?? ""}`);
}
await client?.close().catch(() => {});
process.exit(0);
