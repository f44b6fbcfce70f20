// backchannel driver for the MCP TypeScript SDK (`@modelcontextprotocol/sdk` on npm):
// its `Client` with default options: no sampling or elicitation handlers (roots only
// when the scenario configures some).
//
// Usage: node driver.mjs (stdio|http|sse) TARGET...
//   stdio: TARGET is the server's argv; the SDK launches it.
//   http:  TARGET is the Streamable HTTP URL.   sse: TARGET is the HTTP+SSE URL.
//
// It initializes, lists tools, calls the mock's tool when it is offered, and stays
// until the server ends the session (noticed by a failing ping). Log lines go to
// stderr as `LEVEL:driver:message`. The harness's hints configure what an
// application would: roots (BACKCHANNEL_CLIENT_ROOTS), a roots change announced with
// sendRootsListChanged() (BACKCHANNEL_CLIENT_ROOTS_CHANGE, "MS URI..."), an
// elicitation handler (BACKCHANNEL_CLIENT_ELICITATION: form, url, form,url or empty;
// BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS) that answers with
// BACKCHANNEL_CLIENT_ELICITATION_ACTION (decline by default; accept submits the
// form's defaults and a valid value for each other required field), and a sampling
// handler (BACKCHANNEL_CLIENT_SAMPLING: basic, tools, context) that answers with a
// canned assistant message, or a tool_use of the first tool a request offers.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  ListRootsRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { formContent } from "../lib/form.mjs";

const TRIGGER_TOOL = "backchannel_run_scenario";
const [transportKind, ...target] = process.argv.slice(2);
const log = (level, msg) => process.stderr.write(`${level}:driver:${msg}\n`);

let transport;
if (transportKind === "stdio") {
  transport = new StdioClientTransport({ command: target[0], args: target.slice(1) });
} else if (transportKind === "http") {
  transport = new StreamableHTTPClientTransport(new URL(target[0]));
} else {
  transport = new SSEClientTransport(new URL(target[0]));
}

const words = (v) => (v ?? "").split(/\s+/).filter(Boolean);
let roots = words(process.env.BACKCHANNEL_CLIENT_ROOTS);
const change = words(process.env.BACKCHANNEL_CLIENT_ROOTS_CHANGE);
const elicitModes = (process.env.BACKCHANNEL_CLIENT_ELICITATION ?? "").split(",").filter(Boolean);
const elicitDelay = Number(process.env.BACKCHANNEL_CLIENT_ELICITATION_DELAY_MS || 0);
const elicitAction = process.env.BACKCHANNEL_CLIENT_ELICITATION_ACTION || "decline";
const sampling = (process.env.BACKCHANNEL_CLIENT_SAMPLING ?? "").split(",").filter(Boolean);
const capabilities = {};
if (roots.length || change.length) {
  capabilities.roots = change.length ? { listChanged: true } : {};
}
if (elicitModes.length) {
  capabilities.elicitation = {};
  for (const m of elicitModes.filter((m) => m !== "empty")) capabilities.elicitation[m] = {};
}
if (sampling.length) {
  capabilities.sampling = {};
  for (const f of sampling.filter((f) => f !== "basic")) capabilities.sampling[f] = {};
}

const client = new Client({ name: "typescript-sdk-driver", version: "0" }, { capabilities });
if (capabilities.roots) {
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: roots.map((uri) => ({ uri })) }));
}
if (capabilities.elicitation) {
  client.setRequestHandler(ElicitRequestSchema, async (request) => {
    await new Promise((r) => setTimeout(r, elicitDelay));
    if (elicitAction !== "accept") return { action: elicitAction };
    if (request.params.mode === "url") return { action: "accept" };
    return { action: "accept", content: formContent(request.params.requestedSchema) };
  });
}
if (capabilities.sampling) {
  client.setRequestHandler(CreateMessageRequestSchema, async (request) => {
    const p = request.params;
    const tools = p.tools ?? [];
    const mode = p.toolChoice?.mode ?? "auto";
    const last = p.messages.at(-1)?.content;
    const answered = (Array.isArray(last) ? last : [last]).some((b) => b?.type === "tool_result");
    if (tools.length && mode !== "none" && (!answered || mode === "required")) {
      return {
        role: "assistant",
        content: [{ type: "tool_use", id: "driver-call-1", name: tools[0].name, input: {} }],
        model: "typescript-sdk-driver",
        stopReason: "toolUse",
      };
    }
    return {
      role: "assistant",
      content: { type: "text", text: "typescript-sdk driver reply" },
      model: "typescript-sdk-driver",
      stopReason: "endTurn",
    };
  });
}
let closed = false;
client.onclose = () => { closed = true; };

try {
  await client.connect(transport);
  if (change.length) {
    setTimeout(() => {
      roots = change.slice(1);
      client.sendRootsListChanged().catch(() => {});
    }, Number(change[0]));
  }
  const { tools } = await client.listTools();
  if (tools.some((t) => t.name === TRIGGER_TOOL)) {
    await client.callTool({ name: TRIGGER_TOOL, arguments: {} });
  }
  while (!closed) {
    await new Promise((r) => setTimeout(r, 200));
    try {
      await client.ping({ timeout: 2000 });
    } catch {
      break;
    }
  }
} catch (e) {
  log("INFO", `session over: ${e?.name ?? e}`);
}
await client.close().catch(() => {});
process.exit(0);
