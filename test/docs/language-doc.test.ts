// Every ```nn block of docs/language.md compiles: each is a whole file, and each
// `model` in it is elaborated at its declared shapes. A block fenced
// ```nn error NNxxxx is wrong on purpose and must fail with exactly that code.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile, NncError } from "../../compiler/index.js";
import { packageRoot } from "../../compiler/paths.js";

interface Block {
  line: number;
  text: string;
  error?: string;
}

/** The ```nn blocks of a markdown text, with the line each starts on. */
function nnBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const fence = /^```nn(?:\s+error\s+(NN\d{4}))?\s*$/.exec(lines[i]!);
    if (fence === null) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end] !== "```") end++;
    if (end === lines.length) throw new Error(`docs: the block at line ${i + 1} is not closed`);
    blocks.push({
      line: i + 1,
      text: lines.slice(start, end).join("\n"),
      ...(fence[1] ? { error: fence[1] } : {}),
    });
    i = end;
  }
  return blocks;
}

/** Compiles a block and elaborates every model in it; the codes of what failed. */
function codesOf(text: string, file: string): string[] {
  try {
    const models = [...text.matchAll(/^model\s+([A-Za-z_]\w*)/gm)].map((m) => m[1]!);
    const entries = models.length > 0 ? models : [undefined];
    for (const entry of entries) {
      const m = compile(text, { file, ...(entry ? { entry } : {}) });
      if (entry) m.elaborate();
      else m.inspect("ast");
    }
  } catch (e) {
    if (e instanceof NncError) return e.diagnostics.map((d) => d.code);
    throw e;
  }
  return [];
}

const doc = readFileSync(join(packageRoot, "docs/language.md"), "utf8");
const blocks = nnBlocks(doc);

describe("docs/language.md", () => {
  it("has examples, some of them deliberately wrong", () => {
    expect(blocks.length).toBeGreaterThan(20);
    expect(blocks.filter((b) => b.error).length).toBeGreaterThanOrEqual(5);
  });

  for (const b of blocks) {
    const name = b.error
      ? `the block at line ${b.line} fails with ${b.error}`
      : `the block at line ${b.line} compiles`;
    it(name, () => {
      const codes = codesOf(b.text, `docs/language.md:${b.line}`);
      if (b.error) expect(codes[0]).toBe(b.error);
      else expect(codes).toEqual([]);
    });
  }

  it("lists every public layer of the prelude", () => {
    const prelude = readFileSync(join(packageRoot, "stdlib/nn.nn"), "utf8");
    const internal = new Set(["topk_rounds"]);
    for (const [, name] of prelude.matchAll(/^(?:def|layer) ([A-Za-z_]\w*)/gm)) {
      if (internal.has(name!)) continue;
      expect(doc, name).toContain(`\`${name}`);
    }
  });
});
