// Finds out, in a child process, whether this machine has a WebGPU adapter.
// A child keeps Dawn out of the caller's process: Dawn's Node bindings hold the
// event loop open and have crashed when torn down at the wrong moment.

import { spawnSync } from "node:child_process";

export interface ProbeResult {
  ok: boolean;
  /** The adapter's description ("llvmpipe: Mesa 25.0.7 ...") or why there is none. */
  detail: string;
}

const script = `
import { create, globals } from "webgpu";
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) { console.log("NO_ADAPTER"); process.exit(0); }
const info = adapter.info;
console.log("ADAPTER " + [info.vendor, info.architecture, info.description].filter(Boolean).join(" / "));
process.exit(0);
`;

export function probeAdapter(cwd: string): ProbeResult {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
    env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp" },
  });
  const line = (r.stdout ?? "")
    .split("\n")
    .find((l) => l.startsWith("ADAPTER ") || l === "NO_ADAPTER");
  if (line?.startsWith("ADAPTER ")) return { ok: true, detail: line.slice(8) };
  if (line === "NO_ADAPTER")
    return { ok: false, detail: "requestAdapter() returned null (no Vulkan driver Dawn accepts)" };
  const why = r.error ? r.error.message : (r.stderr || "").trim().split("\n").slice(-3).join(" | ");
  return { ok: false, detail: `the probe failed: ${why || `exit ${r.status}`}` };
}
