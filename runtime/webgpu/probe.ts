// Finds out, in a child process, whether this machine has a WebGPU adapter.
// A child keeps Dawn out of the caller's process: Dawn's Node bindings hold the
// event loop open and have crashed when torn down at the wrong moment.

import { spawn, spawnSync } from "node:child_process";
import type { AdapterFacts } from "../../compiler/target/target.js";
import { limitNames } from "./limits.js";

export interface ProbeResult {
  ok: boolean;
  /** The adapter's description ("llvmpipe: Mesa 25.0.7 ...") or why there is none. */
  detail: string;
  /** Its info, features and limits, for `--target auto` (targetFromAdapter). */
  facts?: AdapterFacts;
}

const script = `
import { create, globals } from "webgpu";
Object.assign(globalThis, globals);
const gpu = create([]);
const adapter = await gpu.requestAdapter();
if (!adapter) { console.log("NO_ADAPTER"); process.exit(0); }
const info = adapter.info;
console.log("ADAPTER " + [info.vendor, info.architecture, info.description].filter(Boolean).join(" / "));
const limits = {};
for (const k of ${JSON.stringify(limitNames)}) limits[k] = adapter.limits[k];
console.log("FACTS " + JSON.stringify({
  vendor: info.vendor, architecture: info.architecture, description: info.description,
  isFallbackAdapter: info.isFallbackAdapter === true || info.architecture === "software",
  features: [...adapter.features], limits,
}));
process.exit(0);
`;

const childEnv = () => ({ ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp" });

function verdict(
  stdout: string,
  stderr: string,
  spawnError: string | undefined,
  exit: string,
): ProbeResult {
  const line = stdout.split("\n").find((l) => l.startsWith("ADAPTER ") || l === "NO_ADAPTER");
  if (line?.startsWith("ADAPTER ")) {
    const facts = stdout.split("\n").find((l) => l.startsWith("FACTS "));
    return {
      ok: true,
      detail: line.slice(8),
      ...(facts ? { facts: JSON.parse(facts.slice(6)) as AdapterFacts } : {}),
    };
  }
  if (line === "NO_ADAPTER")
    return { ok: false, detail: "requestAdapter() returned null (no Vulkan driver Dawn accepts)" };
  const why = spawnError ?? stderr.trim().split("\n").slice(-3).join(" | ");
  return { ok: false, detail: `the probe failed: ${why || exit}` };
}

export function probeAdapter(cwd: string): ProbeResult {
  const r = spawnSync(process.execPath, ["--input-type=module", "-e", script], {
    cwd,
    encoding: "utf8",
    timeout: 60_000,
    env: childEnv(),
  });
  return verdict(r.stdout ?? "", r.stderr ?? "", r.error?.message, `exit ${r.status}`);
}

/**
 * probeAdapter without blocking, so the CLI can compile while it runs. Dawn's
 * own warnings (a missing Vulkan driver prints several) stay in the child.
 */
export function probeAdapterAsync(cwd: string, timeoutMs = 60_000): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--input-type=module", "-e", script], {
      cwd,
      env: childEnv(),
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", (e) => {
      clearTimeout(timer);
      resolve(verdict(stdout, stderr, e.message, ""));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve(verdict(stdout, stderr, undefined, signal ? `killed by ${signal}` : `exit ${code}`));
    });
  });
}
