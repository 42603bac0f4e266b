// The rows schedule (schedule.ts) as WGSL: one invocation per index of the
// outer dims computes the row's reductions once (inner ones first, each a
// loop into an accumulator), then loops over the row dims evaluating and
// storing each element with those accumulators in place of the reductions.

import type { Kernel } from "../../kernels/ir.js";
import { hoistableReduces } from "../../kernels/schedule.js";
import { type Block, ExprWriter } from "./wgsl-expr.js";
import { invocationPrologue, splitIndex } from "./wgsl-invocation.js";

export function emitRowsMain(k: Kernel): { writer: ExprWriter; lines: string[] } {
  const s = k.schedule;
  if (s.kind !== "rows") throw new Error(`${k.name}: not a rows schedule`);
  const w = new ExprWriter(k);
  const outer = k.space.filter((_, d) => !s.rows.includes(d));
  const lines = [...invocationPrologue(k)];
  lines.push(
    ...splitIndex(
      w,
      outer.map((v) => v.name),
      outer.map((v) => v.extent),
      k.threads,
    ),
  );
  const env = new Map<string, string>();
  const top: Block = { lines, indent: "  " };
  for (const r of hoistableReduces(k.body, new Set(outer.map((v) => v.name)))) {
    w.replaced.set(r, w.v(r, env, top));
  }
  let indent = "  ";
  for (const d of s.rows) {
    const v = k.space[d]!;
    lines.push(`${indent}for (var ${v.name}: i32 = 0; ${v.name} < ${v.extent}; ${v.name}++) {`);
    indent += "  ";
  }
  const inner: Block = { lines, indent };
  const value = w.v(k.body, env, inner);
  const outIndex = w.i(w.flat(k.bindings.length - 1, k.store), env);
  const write = k.bindings[k.bindings.length - 1]!;
  lines.push(
    `${indent}out[${outIndex}] = ${write.dtype === "bool" ? `select(0u, 1u, ${value})` : value};`,
  );
  for (let i = 0; i < s.rows.length; i++) {
    indent = indent.slice(2);
    lines.push(`${indent}}`);
  }
  return { writer: w, lines };
}
