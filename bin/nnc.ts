#!/usr/bin/env node
// The `nnc` executable: runs the CLI and exits with its code. Commands that may
// open a WebGPU device run in a child whose stderr passes through a filter:
// Dawn prints notes about the adapter's limits from native code, straight to
// file descriptor 2, where no JavaScript can catch them (see dawn-noise.ts).

import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { main } from "../compiler/cli/main.js";
import { DawnNoiseFilter, mayOpenDevice } from "../runtime/webgpu/dawn-noise.js";

const argv = process.argv.slice(2);
const FILTERED = "NNC_DAWN_STDERR_FILTERED";

if (mayOpenDevice(argv) && process.env[FILTERED] === undefined) {
  const child = spawn(
    process.execPath,
    [...process.execArgv, fileURLToPath(import.meta.url), ...argv],
    {
      stdio: ["inherit", "inherit", "pipe"],
      env: { ...process.env, [FILTERED]: "1" },
    },
  );
  const filter = new DawnNoiseFilter((text) => process.stderr.write(text));
  child.stderr.on("data", (chunk: Buffer) => filter.write(chunk.toString("utf8")));
  for (const signal of ["SIGINT", "SIGTERM"] as const) process.on(signal, () => child.kill(signal));
  child.on("close", (code, signal) => {
    filter.end();
    if (signal) process.kill(process.pid, signal);
    else process.exitCode = code ?? 1;
  });
} else {
  const code = await main(argv, {
    out: (t) => process.stdout.write(`${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
  });
  process.exitCode = code;
}
