#!/usr/bin/env bash
# Build what users install, from this checkout, into dist/ (or $DIST):
#   - the Python wheel (maturin, binary bindings: its only payload is `backchannel`)
#     and the sdist (builds with cargo, the built-in scenarios included);
#   - the npm launcher `mcp-backchannel` and its platform package
#     `mcp-backchannel-linux-x64-gnu`, as `npm pack` tarballs.
# PROFILE=release (the default: what a release ships) or PROFILE=dev (CI: reuses the
# debug build CI already compiles; same binary, unoptimized). maturin comes from PyPI
# into target/packaging-venv, once.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="${DIST:-$root/dist}"
profile="${PROFILE:-release}"
cd "$root"
mkdir -p "$out"
version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"

echo "== wheel and sdist (maturin, --profile $profile)"
venv="$root/target/packaging-venv"
if [ ! -x "$venv/bin/maturin" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "maturin>=1.9,<2"
fi
"$venv/bin/maturin" build --quiet --profile "$profile" --strip --out "$out"
"$venv/bin/maturin" sdist --out "$out"

echo "== npm packages"
cargo build --quiet --profile "$profile" -p backchannel-harness --bin backchannel
case "$profile" in dev) dir=debug ;; *) dir="$profile" ;; esac
stage="$(mktemp -d)"
trap 'rm -rf "$stage"' EXIT
for pkg in mcp-backchannel mcp-backchannel-linux-x64-gnu; do
  cp -R "packaging/npm/$pkg" "$stage/$pkg"
  # The version everywhere is the crate's.
  node -e '
    const fs = require("fs"); const [file, v] = process.argv.slice(1);
    const p = JSON.parse(fs.readFileSync(file)); p.version = v;
    for (const d of Object.keys(p.optionalDependencies || {})) p.optionalDependencies[d] = v;
    fs.writeFileSync(file, JSON.stringify(p, null, 2) + "\n");' "$stage/$pkg/package.json" "$version"
done
cp packaging/README.md "$stage/mcp-backchannel/README.md"
mkdir -p "$stage/mcp-backchannel-linux-x64-gnu/bin"
cp "target/$dir/backchannel" "$stage/mcp-backchannel-linux-x64-gnu/bin/backchannel"
strip "$stage/mcp-backchannel-linux-x64-gnu/bin/backchannel" 2>/dev/null || true
for pkg in mcp-backchannel-linux-x64-gnu mcp-backchannel; do
  (cd "$stage/$pkg" && npm pack --silent --pack-destination "$out" >/dev/null)
done
ls -l "$out"
