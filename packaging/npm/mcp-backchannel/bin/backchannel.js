#!/usr/bin/env node
// The `backchannel` command of the npm package: runs the native binary of the
// platform package npm installed beside this one (an optional dependency chosen by
// its `os`, `cpu` and `libc` fields; nothing is downloaded at install time).
// BACKCHANNEL_BINARY points at another binary (a local build, an unsupported platform).
"use strict";
const { spawnSync } = require("node:child_process");

const PLATFORMS = { "linux-x64-glibc": "mcp-backchannel-linux-x64-gnu" };

function libc() {
  if (process.platform !== "linux") return "";
  const header = process.report && process.report.getReport().header;
  return header && header.glibcVersionRuntime ? "glibc" : "musl";
}

function binary() {
  if (process.env.BACKCHANNEL_BINARY) return process.env.BACKCHANNEL_BINARY;
  const key = `${process.platform}-${process.arch}-${libc()}`;
  const pkg = PLATFORMS[key];
  if (!pkg) {
    throw new Error(
      `mcp-backchannel has no binary for ${key} (supported: ${Object.keys(PLATFORMS).join(", ")}); ` +
        "build one (cargo build --release -p backchannel-harness) and set BACKCHANNEL_BINARY to it",
    );
  }
  try {
    return require.resolve(`${pkg}/bin/backchannel`);
  } catch {
    throw new Error(
      `the platform package ${pkg} is not installed (was the install run with --omit=optional?); ` +
        "reinstall mcp-backchannel, or set BACKCHANNEL_BINARY",
    );
  }
}

let exe;
try {
  exe = binary();
} catch (e) {
  process.stderr.write(`error: ${e.message}\n`);
  process.exit(2);
}
// Ctrl-C reaches the binary too (same process group); this process waits for it.
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => {});
const r = spawnSync(exe, process.argv.slice(2), { stdio: "inherit" });
if (r.error) {
  process.stderr.write(`error: cannot run ${exe}: ${r.error.message}\n`);
  process.exit(2);
}
if (r.signal) process.exit(r.signal === "SIGINT" ? 130 : r.signal === "SIGTERM" ? 143 : 1);
process.exit(r.status ?? 1);
