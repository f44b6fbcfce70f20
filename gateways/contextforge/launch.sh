#!/usr/bin/env bash
# ContextForge (mcp-contextforge-gateway) for one backchannel case, the way its
# docs run it: secrets from its own `init-secrets`, a SQLite database in the case
# directory, the upstream registered through its REST admin API (POST /gateways
# with a token from its own `create_jwt_token`) and a virtual server holding the
# upstream's tool (POST /servers), then the gateway serving on 127.0.0.1:PORT.
#
# The registration needs a running gateway, and the harness connects as soon as
# PORT accepts, so it runs first on a Unix socket in the case directory (setup.log);
# that process is stopped and the gateway is started again on PORT with the same
# database: downstream clients reach the virtual server at /servers/$SERVER_ID/mcp.
#
# Usage: launch.sh VENV CASE_DIR PORT UPSTREAM_URL TRANSPORT(http|sse)
set -euo pipefail
venv="$1" case_dir="$2" port="$3" upstream_url="$4" transport="$5"
# The virtual server's id (fixed: the profile's downstream path names it).
SERVER_ID=bac4c4a1000040008000000000000001
case "$transport" in
  http) upstream_transport=STREAMABLEHTTP ;;
  sse) upstream_transport=SSE ;;
  *) echo "launch.sh: unsupported upstream transport '$transport'" >&2; exit 2 ;;
esac
cd "$case_dir"
# Its settings are read from ./.env: fresh secrets, made by its own CLI.
"$venv/bin/init-secrets" --output .env --force >/dev/null
export DATABASE_URL="sqlite:///$case_dir/mcp.db"
# Its leader and primary-worker lock files live in the temp dir: one per case.
export TMPDIR="$case_dir"

sock="$case_dir/admin.sock"
"$venv/bin/mcpgateway" --uds "$sock" >setup.log 2>&1 &
setup_pid=$!
fail() {
  echo "launch.sh: $*" >&2
  kill "$setup_pid" 2>/dev/null || true
  echo "--- setup.log (the registration run) ---" >&2
  tail -n 40 setup.log >&2
  exit 1
}
api() { curl -sS --fail-with-body --unix-socket "$sock" -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
until curl -s -o /dev/null --unix-socket "$sock" http://localhost/health; do
  kill -0 "$setup_pid" 2>/dev/null || fail "the registration run exited before serving"
  sleep 0.5
done
token=$("$venv/bin/python" -m mcpgateway.utils.create_jwt_token --username admin@example.com --exp 10 --admin 2>/dev/null | tail -n 1)
gateway=$(api -X POST http://localhost/gateways \
  -d "{\"name\": \"upstream\", \"url\": \"$upstream_url\", \"transport\": \"$upstream_transport\", \"visibility\": \"public\"}") \
  || fail "POST /gateways: $gateway"
gateway_id=$(printf '%s' "$gateway" | "$venv/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["id"])')
tools=$(api "http://localhost/tools?gateway_id=$gateway_id") || fail "GET /tools: $tools"
tool_ids=$(printf '%s' "$tools" | "$venv/bin/python" -c 'import json,sys; print(json.dumps([t["id"] for t in json.load(sys.stdin)]))')
server=$(api -X POST http://localhost/servers \
  -d "{\"server\": {\"id\": \"$SERVER_ID\", \"name\": \"upstream\", \"associated_tools\": $tool_ids, \"visibility\": \"public\"}}") \
  || fail "POST /servers: $server"
kill "$setup_pid"
wait "$setup_pid" 2>/dev/null || true
rm -f "$sock"
exec "$venv/bin/mcpgateway" --host 127.0.0.1 --port "$port"
