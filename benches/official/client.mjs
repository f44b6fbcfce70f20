// A minimal MCP client for the official conformance suite's client scenarios: the
// TypeScript SDK's Client over Streamable HTTP, connecting to the URL it is given
// (the suite appends it), listing tools and calling the one it finds.
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { StreamableHTTPClientTransport } from "@modelcontextprotocol/sdk/client/streamableHttp.js";

const url = process.argv[process.argv.length - 1];
const client = new Client({ name: "bench-client", version: "0.0.0" }, { capabilities: {} });
await client.connect(new StreamableHTTPClientTransport(new URL(url)));
const { tools } = await client.listTools();
for (const tool of tools) {
  const args = tool.name === "add_numbers" ? { a: 1, b: 2 } : {};
  try {
    await client.callTool({ name: tool.name, arguments: args });
  } catch (e) {
    console.error(`tool ${tool.name}: ${e.message}`);
  }
}
await client.close();
