// `--target auto|lavapipe|gpu` on the command line: the usage errors, the
// target line `inspect --stage kernels` prints, and the pass log with it.

import { describe, expect, it } from "vitest";
import { main } from "../../compiler/cli/main.js";

async function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = "";
  let err = "";
  const code = await main(argv, { out: (t) => (out += `${t}\n`), err: (t) => (err += `${t}\n`) });
  return { code, out, err };
}

describe("--target", () => {
  it("rejects the old `cpu` with exit 2, naming what replaced it", async () => {
    const r = await cli("inspect", "examples/mlp.nn", "--stage", "kernels", "--target", "cpu");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--target cpu is now --target lavapipe/);
    expect(r.err).toMatch(/--target takes auto, lavapipe or gpu/);
  });

  it("rejects an unknown target with exit 2 and the values it takes", async () => {
    const r = await cli("check", "examples/mlp.nn", "--target", "gpus");
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--target takes auto, lavapipe or gpu, got `gpus`; did you mean `gpu`\?/);
  });

  it("inspect compiles for lavapipe by default, opening no device, and prints it with the pass log", async () => {
    const r = await cli("inspect", "examples/mlp.nn", "--stage", "kernels");
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# target: lavapipe \(software, no adapter asked\)$/m);
    for (const pass of ["cse", "fold-constants", "fuse", "tune"])
      expect(r.out).toMatch(new RegExp(`^#   ${pass} +(graph|kernels) `, "m"));
  });

  it("--target gpu prints the gpu target; --disable-pass tune leaves tune out of the log", async () => {
    const r = await cli(
      "inspect",
      "examples/mlp.nn",
      "--stage",
      "kernels",
      "--target",
      "gpu",
      "--disable-pass",
      "tune",
    );
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^# target: gpu \(discrete-gpu, no adapter asked\)$/m);
    expect(r.out).toMatch(/^# {3}fuse +kernels /m);
    expect(r.out).not.toMatch(/^# {3}tune /m);
  });

  it("-O0 says no pass ran", async () => {
    const r = await cli("inspect", "examples/mlp.nn", "--stage", "kernels", "-O0");
    expect(r.out).toMatch(/^# passes: none \(-O0\)$/m);
  });

  it("--target auto asks the adapter (lavapipe here, or none) and says which target it built", async () => {
    const r = await cli("inspect", "examples/mlp.nn", "--stage", "kernels", "--target", "auto");
    expect(r.code).toBe(0);
    const line = /^# target: (\S+) \((\S+?)[:,]/m.exec(r.out);
    expect(line).not.toBeNull();
    if (r.err.includes("no WebGPU adapter")) {
      expect(line![1]).toBe("lavapipe");
    } else {
      // The adapter's own description follows the class.
      expect(r.out).toMatch(/^# target: (lavapipe \(software|gpu \((discrete|integrated)-gpu): /m);
    }
  });
});
