// nnc against the peer runtimes (tfjs-webgpu, onnxruntime-web and -node on
// WebGPU, and the hand-written roofline matmul) on the same workloads, run back
// to back in one window, one fresh process each with Mesa's shader cache off,
// and one table of the numbers and the ratios nnc is held to.
//
//   bench/peers.sh [-w "matmul resnet224 lstm gru2"] [--runs 7] [--json FILE]
//
// The peers run through their harness (../shared/peers, set up in /tmp/peers by
// its setup.sh); nnc through `node dist/bin/nnc.js bench` (run `npm run build`
// first). The table goes to stdout, the children's progress to stderr.

import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import {
  type Check,
  checksFor,
  formatPeersTable,
  nncName,
  type PeerRow,
  parseRoofline,
  rooflineName,
  webgpuPeers,
} from "./peers-report.js";
import { aliases, type Workload, workloads } from "./workloads/peer-workloads.js";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

interface Options {
  workloads: string[];
  runs: number;
  json?: string;
  harness: string;
  peersDir: string;
  peers: string[];
  timeoutS: number;
}

function options(): Options {
  const { values } = parseArgs({
    options: {
      workloads: { type: "string", short: "w" },
      runs: { type: "string", short: "r" },
      json: { type: "string" },
      harness: { type: "string" },
      peers: { type: "string", short: "p" },
      timeout: { type: "string", short: "t" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(
      [
        "usage: bench/peers.sh [-w WORKLOADS] [--runs N] [--json FILE] [-p PEERS] [-t SECONDS] [--harness DIR]",
        `  -w        space- or comma-separated, of: ${Object.keys(workloads).join(" ")} (default: all)`,
        "  --runs    timed runs per runtime, median reported (default 7)",
        "  --json    also write the rows and checks to FILE",
        `  -p        WebGPU peers (default: ${webgpuPeers.join(" ")})`,
        "  -t        per-process timeout in seconds (default 420)",
        "  --harness the peers' harness folder (default ../shared/peers or $NNC_PEERS_HARNESS)",
        "",
      ].join("\n"),
    );
    process.exit(0);
  }
  const list = (s: string | undefined) => (s ?? "").split(/[\s,]+/).filter(Boolean);
  const chosen = list(values.workloads).map((w) => aliases[w] ?? w);
  for (const w of chosen)
    if (!workloads[w]) fail(`unknown workload \`${w}\` (${Object.keys(workloads).join(", ")})`);
  const runs = Number(values.runs ?? 7);
  if (!Number.isInteger(runs) || runs < 1) fail(`--runs must be a positive integer`);
  const timeoutS = Number(values.timeout ?? 420);
  if (!(timeoutS > 0)) fail(`-t must be a number of seconds`);
  return {
    workloads: chosen.length > 0 ? chosen : Object.keys(workloads),
    runs,
    json: values.json,
    harness: resolve(
      values.harness ?? process.env.NNC_PEERS_HARNESS ?? join(root, "..", "shared", "peers"),
    ),
    peersDir: process.env.PEERS_DIR ?? "/tmp/peers",
    peers: values.peers ? list(values.peers) : [...webgpuPeers],
    timeoutS,
  };
}

function fail(message: string): never {
  process.stderr.write(`bench/peers: ${message}\n`);
  process.exit(2);
}

/** Runs a child to completion, echoing its output to stderr; resolves with its stdout. */
function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutS?: number,
): Promise<{ code: number | null; stdout: string }> {
  return new Promise((done) => {
    const child = spawn(cmd, args, {
      cwd: root,
      env,
      stdio: ["ignore", "pipe", "pipe"],
      ...(timeoutS ? { timeout: timeoutS * 1000, killSignal: "SIGKILL" as const } : {}),
    });
    let stdout = "";
    const echo = (chunk: Buffer) => {
      const text = chunk
        .toString()
        .split("\n")
        .filter((l) => l.trim() && !l.includes("artificially reduced from"))
        .map((l) => `  ${l}\n`)
        .join("");
      process.stderr.write(text);
    };
    child.stdout.on("data", (c: Buffer) => {
      stdout += c.toString();
      echo(c);
    });
    child.stderr.on("data", echo);
    child.on("close", (code) => done({ code, stdout }));
  });
}

const baseEnv = (): NodeJS.ProcessEnv => ({
  ...process.env,
  XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? "/tmp",
  // Cold = the first run of a fresh process with nothing cached by the driver.
  MESA_SHADER_CACHE_DISABLE: "true",
});

/** The workloads' FLOPs as the harness counts them, so every runtime's GFLOP/s has one numerator. */
function harnessFlops(o: Options): Record<string, number> {
  const meta = JSON.parse(readFileSync(join(o.peersDir, "models", "meta.json"), "utf8")) as {
    workloads: Record<string, { flops: number }>;
  };
  return Object.fromEntries(Object.entries(meta.workloads).map(([k, v]) => [k, v.flops]));
}

interface NncJson {
  setup_ms?: number;
  cold_ms: number;
  warm_ms: number;
  flops: number;
  gpu_ms?: number;
  kernels: number;
  dispatches: number;
}

async function runNnc(o: Options, name: string, w: Workload, flops: number) {
  process.stderr.write(`  ### nnc ${name}: nnc bench ${w.nnc.join(" ")}\n`);
  const load = loadavg()[0];
  const args = ["dist/bin/nnc.js", "bench", ...w.nnc, "--runs", String(o.runs), "--json"];
  const r = await run(process.execPath, args, baseEnv(), o.timeoutS);
  const line = r.stdout
    .split("\n")
    .reverse()
    .find((l) => l.startsWith("{"));
  if (r.code !== 0 || !line) {
    const row: PeerRow = { workload: name, runtime: nncName, load, error: `rc=${r.code}` };
    return { row };
  }
  const j = JSON.parse(line) as NncJson;
  const row: PeerRow = {
    workload: name,
    runtime: nncName,
    cold_ms: j.cold_ms,
    warm_ms: j.warm_ms,
    gflops: flops / j.warm_ms / 1e6,
    ...(j.setup_ms !== undefined ? { setup_ms: j.setup_ms } : {}),
    ...(j.gpu_ms ? { kernel_gflops: flops / j.gpu_ms / 1e6 } : {}),
    load,
  };
  return { row, raw: j };
}

interface HarnessRow {
  peer: string;
  workload: string;
  cold_ms: number;
  median_ms: number;
  gflops: number | null;
  /** null where the runtime has no separate setup (tfjs). */
  setup_ms?: number | null;
  error?: string;
}

/** One peer on one workload: a fresh process through the harness's run.sh. */
async function runPeer(o: Options, name: string, w: Workload, peer: string): Promise<PeerRow> {
  // A results folder of our own, so rows from other runs never leak in.
  const dir = mkdtempSync(join(tmpdir(), "nnc-peers-"));
  const load = loadavg()[0];
  try {
    const env = {
      ...baseEnv(),
      PEERS_DIR: o.peersDir,
      PEERS_RESULTS: dir,
      PEERS_RUNS: String(o.runs),
    };
    const args = [join(o.harness, "run.sh"), "-w", w.peer, "-p", peer, "-t", String(o.timeoutS)];
    await run("bash", args, env);
    const file = join(dir, "results.jsonl");
    const got = existsSync(file)
      ? readFileSync(file, "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => JSON.parse(l) as HarnessRow)
      : [];
    const h = got.filter((r) => r.peer === peer && r.workload === w.peer).pop();
    if (!h) return { workload: name, runtime: peer, load, error: "no result (see the log)" };
    return {
      workload: name,
      runtime: peer,
      cold_ms: h.cold_ms,
      warm_ms: h.median_ms,
      gflops: h.gflops ?? undefined,
      setup_ms: h.setup_ms ?? undefined,
      load,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The harness's best kernel configuration (`BEST` in roofline-matmul.mjs), so
 * that only it runs; undefined (then the tool runs its naive kernel too, and
 * the best line is taken) if the file no longer spells it as an object literal.
 */
function rooflineBest(o: Options): string | undefined {
  const text = readFileSync(join(o.harness, "roofline-matmul.mjs"), "utf8");
  const m = /export const BEST = (\{[^}]*\})/.exec(text);
  if (!m) return undefined;
  const json = m[1]!.replace(/'/g, '"').replace(/(\w+)\s*:/g, '"$1":');
  try {
    return JSON.stringify(JSON.parse(json));
  } catch {
    return undefined;
  }
}

async function runRoofline(o: Options, name: string): Promise<PeerRow> {
  const best = rooflineBest(o);
  // run.sh word-splits the -x string, so the config must not contain spaces (JSON.stringify has none).
  const tool = `roofline-matmul.mjs --reps ${o.runs}${best ? ` --cfg ${best}` : ""}`;
  process.stderr.write(`  ### roofline ${name}: ${tool}\n`);
  const load = loadavg()[0];
  const env = { ...baseEnv(), PEERS_DIR: o.peersDir };
  const r = await run(
    "bash",
    [join(o.harness, "run.sh"), "-t", String(o.timeoutS), "-x", tool],
    env,
  );
  const line = parseRoofline(r.stdout);
  if (!line) return { workload: name, runtime: rooflineName, load, error: `rc=${r.code}` };
  return {
    workload: name,
    runtime: rooflineName,
    cold_ms: line.first_ms,
    warm_ms: line.median_ms,
    gflops: line.gflops,
    kernel_gflops: line.gflops,
    load,
  };
}

async function main() {
  const o = options();
  if (!existsSync(join(root, "dist", "bin", "nnc.js")))
    fail("no dist/bin/nnc.js: run `npm run build`");
  if (!existsSync(join(o.harness, "run.sh"))) fail(`no peers harness at ${o.harness} (--harness)`);
  if (
    !existsSync(join(o.peersDir, "node_modules")) ||
    !existsSync(join(o.peersDir, "models", "meta.json"))
  )
    fail(`${o.peersDir} is not set up: run ${join(o.harness, "setup.sh")}`);
  const flops = harnessFlops(o);
  const started = new Date();
  const loadBefore = loadavg()[0]!;
  const rows: PeerRow[] = [];
  const nncRaw: Record<string, NncJson> = {};
  for (const name of o.workloads) {
    const w = workloads[name]!;
    // The roofline right before and right after nnc, the faster of the two
    // counting: the 90 % target is met only if it holds against both.
    const roof = w.roofline ? [await runRoofline(o, name)] : [];
    const nnc = await runNnc(o, name, w, flops[w.peer] ?? 0);
    rows.push(nnc.row);
    if (nnc.raw) nncRaw[name] = nnc.raw;
    if (w.roofline) {
      roof.push(await runRoofline(o, name));
      const done = roof.filter((r) => !r.error).sort((a, b) => b.gflops! - a.gflops!);
      rows.push(done[0] ?? roof[0]!);
    }
    for (const peer of o.peers) rows.push(await runPeer(o, name, w, peer));
  }
  const checks: Check[] = o.workloads.flatMap((w) => checksFor(w, rows));
  const minutes = ((Date.now() - started.getTime()) / 60000).toFixed(1);
  const header = [
    `nnc vs peers: ${started.toISOString().slice(0, 16)}, ${minutes} min, ${cpus().length} CPUs, ` +
      `load ${loadBefore.toFixed(1)} → ${loadavg()[0]!.toFixed(1)}, ${o.runs} timed runs (median), Mesa shader cache off`,
    "",
    "cold = the first inference of a fresh process, pipeline creation and lavapipe's JIT included " +
      "(setup, apart for every runtime: the peers' session creation, nnc's device, buffers and weight upload); " +
      "warm = host to host (upload, dispatches, readback), except the roofline (one dispatch, buffers resident); " +
      "GFLOP/s = the harness's FLOPs / warm.",
  ];
  const labels = Object.fromEntries(o.workloads.map((w) => [w, workloads[w]!.label]));
  process.stdout.write(`${formatPeersTable(o.workloads, rows, checks, { labels, header })}\n`);
  if (o.json) {
    const body = {
      date: started.toISOString(),
      runs: o.runs,
      load: [loadBefore, loadavg()[0]],
      rows,
      checks,
      nnc: nncRaw,
    };
    writeFileSync(o.json, `${JSON.stringify(body, null, 2)}\n`);
  }
  process.exitCode = checks.every((c) => c.pass || !c.required) ? 0 : 1;
}

await main();
