"""What a user who accepts an elicitation form without editing it sends: the
defaults, then a valid value for each other required field. Shared by the Python
drivers (stdlib only: each driver's venv has its own SDK)."""


def first_valid(prop):
    """The first value a requested-schema property allows."""
    choices = prop.get("enum") or [c.get("const") for c in prop.get("oneOf", []) if "const" in c]
    if choices:
        return choices[0]
    kind = prop.get("type")
    if kind == "boolean":
        return False
    if kind in ("integer", "number"):
        return prop.get("minimum", 0)
    if kind == "array":
        items = prop.get("items", {})
        options = items.get("enum") or [c.get("const") for c in items.get("anyOf", [])]
        return options[: max(1, prop.get("minItems", 1))]
    fmt = {"email": "user@example.com", "uri": "https://example.com/", "date": "2026-01-01",
           "date-time": "2026-01-01T00:00:00Z"}.get(prop.get("format"))
    return fmt or "x" * max(1, prop.get("minLength", 1))


def form_content(schema):
    """A user who accepts without editing: the defaults, then the required fields."""
    required = set(schema.get("required") or [])
    content = {}
    for name, prop in (schema.get("properties") or {}).items():
        if "default" in prop:
            content[name] = prop["default"]
        elif name in required:
            content[name] = first_valid(prop)
    return content
