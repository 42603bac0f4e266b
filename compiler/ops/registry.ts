// The op table behind ops/index.ts, which fills it with every op module. It
// is a module of its own so that an op which looks up others (scan, for its
// body's FLOPs) reads the table without importing index.ts, which imports it.

import { didYouMean } from "../core/diagnostics.js";
import type { OpDef } from "./op.js";

const table = new Map<string, OpDef>();

export const ops: ReadonlyMap<string, OpDef> = table;

/** Adds the ops; called once, by ops/index.ts, before any lookup can happen. */
export function registerOps(list: OpDef[]): void {
  for (const op of list) {
    if (table.has(op.name)) throw new Error(`op \`${op.name}\` is registered twice`);
    table.set(op.name, op);
  }
}

/** The op of that name; throws for an unknown name (an internal error: names come from the compiler). */
export function getOp(name: string): OpDef {
  const op = table.get(name);
  if (op === undefined) throw new Error(`unknown op \`${name}\`${didYouMean(name, table.keys())}`);
  return op;
}
