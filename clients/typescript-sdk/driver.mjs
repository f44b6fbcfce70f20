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
// stderr as `LEVEL:driver:message`.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";
import { SSEClientTransport } from "@modelcontextprotocol/sdk/client/sse.js";
import { ListRootsRequestSchema } from "@modelcontextprotocol/sdk/types.js";

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

// Roots from BACKCHANNEL_CLIENT_ROOTS, declared and served the way an application does.
const roots = (process.env.BACKCHANNEL_CLIENT_ROOTS ?? "").split(/\s+/).filter(Boolean);
const client = new Client(
  { name: "typescript-sdk-driver", version: "0" },
  roots.length ? { capabilities: { roots: {} } } : {},
);
if (roots.length) {
  client.setRequestHandler(ListRootsRequestSchema, async () => ({ roots: roots.map((uri) => ({ uri })) }));
}
let closed = false;
client.onclose = () => { closed = true; };

try {
  await client.connect(transport);
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
