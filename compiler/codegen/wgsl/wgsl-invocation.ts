// Which element an invocation works on: the flat invocation id over a grid
// folded into x/y/z, the early exit past the last one, and its split into
// the kernel's iteration (or tile) space.

import { ivar } from "../../kernels/expr.js";
import { delinearize } from "../../kernels/index-maps.js";
import type { Kernel } from "../../kernels/ir.js";
import type { ExprWriter } from "./wgsl-expr.js";

/** The invocation's flat id and the early exit past the last one. */
export function invocationPrologue(k: Kernel): string[] {
  const [gx, gy, gz] = k.grid;
  const wg = k.workgroup[0] * k.workgroup[1] * k.workgroup[2];
  const group =
    gy === 1 && gz === 1
      ? "wid.x"
      : gz === 1
        ? `(wid.y * ${gx}u + wid.x)`
        : `((wid.z * ${gy}u + wid.y) * ${gx}u + wid.x)`;
  const lines = [`  let gid = i32(${group} * ${wg}u + lid);`];
  if (k.threads < gx * gy * gz * wg) lines.push(`  if (gid >= ${k.threads}) { return; }`);
  return lines;
}

/** `let n = gid / 784;` … for a space of these extents. */
export function splitIndex(
  w: ExprWriter,
  names: string[],
  extents: number[],
  total: number,
): string[] {
  const parts = delinearize(ivar("gid", total), extents);
  return names.map((name, d) => `  let ${name} = ${w.i(parts[d]!, new Map())};`);
}
