// What a user who accepts an elicitation form without editing it sends: the
// defaults, then a valid value for each other required field. Shared by the Node
// drivers (no dependencies).
const firstValid = (p) => {
  const choices = p.enum ?? (p.oneOf ?? []).map((c) => c.const);
  if (choices.length) return choices[0];
  if (p.type === "boolean") return false;
  if (p.type === "integer" || p.type === "number") return p.minimum ?? 0;
  if (p.type === "array") {
    const options = p.items?.enum ?? (p.items?.anyOf ?? []).map((c) => c.const);
    return options.slice(0, Math.max(1, p.minItems ?? 1));
  }
  const formats = { email: "user@example.com", uri: "https://example.com/", date: "2026-01-01", "date-time": "2026-01-01T00:00:00Z" };
  return formats[p.format] ?? "x".repeat(Math.max(1, p.minLength ?? 1));
};
export const formContent = (schema) => {
  const required = new Set(schema?.required ?? []);
  const content = {};
  for (const [name, p] of Object.entries(schema?.properties ?? {})) {
    if ("default" in p) content[name] = p.default;
    else if (required.has(name)) content[name] = firstValid(p);
  }
  return content;
};
