// The registry of primitive ops: every stage looks an op up here by name
// instead of switching on it. Adding an op = one module + one entry below.
// The map itself is in registry.ts, so an op that looks up others (scan, for
// its body's FLOPs) can do so without importing this module back.

import type { TensorType } from "../core/types.js";
import { binaryOps } from "./binary.js";
import { broadcast } from "./broadcast.js";
import { concat } from "./concat.js";
import { convTranspose2d } from "./conv-transpose2d.js";
import { conv2d } from "./conv2d.js";
import { gather } from "./gather.js";
import { iota } from "./iota.js";
import { matmul } from "./matmul.js";
import { type OpDef, OpError } from "./op.js";
import { pad } from "./pad.js";
import { permute } from "./permute.js";
import { pool2d } from "./pool2d.js";
import { reduceOps } from "./reduce.js";
import { getOp, ops, registerOps } from "./registry.js";
import { reshape } from "./reshape.js";
import { scan } from "./scan.js";
import { slice } from "./slice.js";
import { sourceOps } from "./source.js";
import { cast, unaryOps } from "./unary.js";
import { where } from "./where.js";

const allOps: OpDef[] = [
  ...sourceOps,
  ...unaryOps,
  cast,
  ...binaryOps,
  where,
  ...reduceOps,
  matmul,
  conv2d,
  convTranspose2d,
  pool2d,
  reshape,
  permute,
  slice,
  pad,
  concat,
  broadcast,
  gather,
  iota,
  scan,
];

registerOps(allOps);

export { getOp, ops };

/** Validates raw attrs with the op's schema (defaults filled in); NN4006 naming the op and the attribute otherwise. */
export function parseAttrs(name: string, raw: unknown): Record<string, unknown> {
  const op = getOp(name);
  const result = op.attrs.safeParse(raw);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path =
    issue.path.length === 0
      ? "attributes"
      : issue.path
          .map((k, i) => (typeof k === "number" ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`))
          .join("");
  throw new OpError("NN4006", `${name}: invalid ${path}: ${issue.message}`);
}

/** NN9001 unless the number of inputs fits the op's arity (an elaborator bug, not a user error). */
export function checkArity(op: OpDef, count: number): void {
  const ok = typeof op.arity === "number" ? count === op.arity : count >= op.arity.min;
  if (ok) return;
  const n = typeof op.arity === "number" ? op.arity : op.arity.min;
  const want = `${typeof op.arity === "number" ? "" : "at least "}${n} input${n === 1 ? "" : "s"}`;
  throw new OpError("NN9001", `${op.name}: takes ${want}, got ${count}`);
}

/** The one call the elaborator and the passes make: parse attrs, check arity, infer the output type. */
export function inferOp(
  name: string,
  inputs: TensorType[],
  rawAttrs: unknown,
): { attrs: Record<string, unknown>; type: TensorType } {
  const op = getOp(name);
  checkArity(op, inputs.length);
  const attrs = parseAttrs(name, rawAttrs);
  return { attrs, type: op.infer(inputs, attrs) };
}

export {
  type EvalContext,
  type FusionCategory,
  type GradBuilder,
  type GradNode,
  type OpDef,
  OpError,
  type SubgraphBuilder,
} from "./op.js";
