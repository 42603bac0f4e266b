// Every path the CLI takes (SOURCE, imports, --weights, --input) is checked
// before it is read: a directory, a device, a FIFO, a binary or oversized file
// is one clear NN error; imports stay inside the entry's folder tree and the
// stdlib, and a file that does not lex as .nn is never echoed.

import { execFileSync } from "node:child_process";
import { mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { MAX_SOURCE_BYTES } from "../../compiler/core/files.js";
import { MAX_ERRORS_PER_FILE } from "../../compiler/elaborate/scope.js";
import { cli, tempDir } from "./helpers.js";

const cpu = ["--backend", "cpu"];

describe("non-regular files", () => {
  const dir = tempDir("files");
  const fifo = join(dir, "pipe.nn");
  execFileSync("mkfifo", [fifo]);
  mkdirSync(join(dir, "folder.safetensors"));
  mkdirSync(join(dir, "folder.json"));

  it("a missing --weights file is NN6012, not an internal error with a stack", async () => {
    const r = await cli(
      "run",
      "examples/mlp.nn",
      ...cpu,
      "--weights",
      join(dir, "missing.safetensors"),
    );
    expect(r.code).toBe(1);
    expect(r.err).toContain("error[NN6012]: cannot read --weights file");
    expect(r.err).toContain("no such file");
    expect(r.err).not.toMatch(/internal error|ENOENT| {4}at /);
  });

  it("a directory as SOURCE, --weights or --input names what it is", async () => {
    const src = await cli("check", dir);
    expect(src.code).toBe(1);
    expect(src.err).toMatch(/error\[NN6012\]: source file `.*` is a directory, not a regular file/);
    const w = await cli(
      "run",
      "examples/mlp.nn",
      ...cpu,
      "--weights",
      join(dir, "folder.safetensors"),
    );
    expect(w.err).toMatch(/NN6012.*is a directory/);
    const i = await cli(
      "run",
      "examples/mlp.nn",
      ...cpu,
      "--input",
      `input=${join(dir, "folder.json")}`,
    );
    expect(i.err).toMatch(/NN6012.*is a directory/);
    for (const r of [src, w, i]) expect(r.err).not.toMatch(/EISDIR|internal/);
  });

  it("/dev/zero and a FIFO are refused at once instead of read forever", async () => {
    const zero = await cli("check", "/dev/zero");
    expect(zero.code).toBe(1);
    expect(zero.err).toContain("is a character device, not a regular file");
    const pipe = await cli("check", fifo);
    expect(pipe.code).toBe(1);
    expect(pipe.err).toContain("is a FIFO (named pipe), not a regular file");
    const npy = await cli("run", "examples/mlp.nn", ...cpu, "--input", "input=/dev/zero.npy");
    expect(npy.code).toBe(1);
  });

  it("a source larger than the cap is refused before it is read", async () => {
    const big = join(dir, "big.nn");
    writeFileSync(big, Buffer.alloc(MAX_SOURCE_BYTES + 1, 0x20));
    const r = await cli("check", big);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/NN6012.*more than the 4 MiB accepted/);
  });

  it("a binary SOURCE is NN1007 at once, without echoing its bytes", async () => {
    const bin = join(dir, "model.bin");
    writeFileSync(bin, Buffer.from([0x08, 0x07, 0x12, 0x00, 0x6f, 0x6e, 0x6e, 0x78, 0xff, 0x00]));
    const r = await cli("check", bin);
    expect(r.code).toBe(1);
    expect(r.err).toContain("error[NN1007]");
    expect(r.err).toContain("is not .nn source text");
    expect(r.err.split("\n").filter((l) => l.includes("error[")).length).toBe(1);
  });

  it("a SOURCE ending .onnx is read as ONNX: garbage is NN8201, not a lexer run", async () => {
    const bin = join(dir, "broken.onnx");
    writeFileSync(bin, Buffer.from([0x08, 0x07, 0x12, 0x00, 0x6f, 0x6e, 0x6e, 0x78, 0xff, 0x00]));
    const r = await cli("check", bin);
    expect(r.code).toBe(1);
    expect(r.err).toContain("NN8201");
    expect(r.err).not.toContain("NN1");
  });

  it("caps the errors reported for one file and says how many were left out", async () => {
    const noisy = join(dir, "noisy.nn");
    writeFileSync(noisy, "# x\n".repeat(200));
    const r = await cli("check", noisy);
    expect(r.err.match(/error\[NN/g)?.length).toBe(MAX_ERRORS_PER_FILE);
    expect(r.err).toMatch(/\d+ more errors in .*noisy\.nn not shown/);
  });
});

describe("imports", () => {
  const dir = tempDir("imports");
  mkdirSync(join(dir, "sub"));
  writeFileSync(join(dir, "sub", "lib.nn"), "def twice(x) = x * 2\n");
  writeFileSync(join(dir, "sub", "config.nn"), "# password = hunter2\nkey: value\n");
  symlinkSync("/etc/hostname", join(dir, "sub", "link.nn"));
  const entry = (name: string, imp: string) => {
    const p = join(dir, `${name}.nn`);
    writeFileSync(p, `import "${imp}"\nmodel m()(x: f32[2]) { x }\n`);
    return p;
  };

  it("reads a .nn file inside the entry's folder tree", async () => {
    const r = await cli("check", entry("ok", "sub/lib.nn"));
    expect(r.code, r.err).toBe(0);
  });

  it("refuses /etc/passwd and /proc/self/environ without reading them", async () => {
    const passwd = await cli("check", entry("passwd", "../../../../../../../etc/passwd"));
    expect(passwd.code).toBe(1);
    expect(passwd.err).toContain("error[NN2011]");
    expect(passwd.err).not.toContain("root:");
    const environ = await cli("check", entry("environ", "/proc/self/environ"));
    expect(environ.err).toContain("error[NN2011]");
    expect(environ.err).not.toMatch(/PATH=|HOME=/);
  });

  it("refuses a .nn file outside the tree, symlinks resolved, unless --allow-import widens it", async () => {
    const outside = tempDir("outside");
    writeFileSync(join(outside, "lib.nn"), "def twice(x) = x * 2\n");
    const p = entry("outside", join(outside, "lib.nn"));
    const r = await cli("check", p);
    expect(r.code).toBe(1);
    expect(r.err).toContain("outside the entry file's folder and the stdlib");
    expect(r.err).toContain(`--allow-import ${outside}`);
    expect((await cli("check", p, "--allow-import", outside)).code).toBe(0);
    const link = await cli("check", entry("link", "sub/link.nn"));
    expect(link.err).toMatch(/NN2011.*leads to `\/etc\/hostname`/);
  });

  it("never echoes an imported file that does not lex as .nn", async () => {
    const r = await cli("check", entry("config", "sub/config.nn"));
    expect(r.code).toBe(1);
    expect(r.err).toContain("config.nn:1:1 error[NN1004]");
    expect(r.err).not.toMatch(/hunter2|password|value/);
  });
});
