// Shared helpers of the ONNX import rules: reading node attributes, requiring
// values known at import time, and the small compositions (scalars, axis
// normalisation, reshape) every rule file uses.

import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import type { DType } from "../core/types.js";
import type { GraphImporter, Val } from "./import.js";
import type { AttributeProto, GraphProto, NodeProto, TensorProto } from "./proto.js";

export type Rule = (b: GraphImporter, inputs: (Val | undefined)[], node: NodeProto) => Val[];

export class Attrs {
  private readonly map: Map<string, AttributeProto>;
  constructor(node: NodeProto) {
    this.map = new Map(node.attribute.map((a) => [a.name, a]));
  }
  has(name: string): boolean {
    return this.map.has(name);
  }
  int(name: string, dflt: number): number;
  int(name: string): number | undefined;
  int(name: string, dflt?: number): number | undefined {
    const a = this.map.get(name);
    return a?.i === undefined ? dflt : Number(a.i);
  }
  float(name: string, dflt: number): number {
    const a = this.map.get(name);
    return a?.f === undefined ? dflt : a.f;
  }
  ints(name: string): number[] | undefined {
    const a = this.map.get(name);
    return a && a.type === 7 ? (a.ints ?? []).map(Number) : undefined;
  }
  floats(name: string): number[] | undefined {
    const a = this.map.get(name);
    return a && a.type === 6 ? (a.floats ?? []) : undefined;
  }
  str(name: string, dflt: string): string {
    const a = this.map.get(name);
    return a?.s ? new TextDecoder().decode(a.s) : dflt;
  }
  tensor(name: string): TensorProto | undefined {
    return this.map.get(name)?.t;
  }
  graph(name: string): GraphProto | undefined {
    return this.map.get(name)?.g;
  }
}

/** An error about this node's attributes or inputs (the importer adds the node's name). */
export function fail(message: string, hint?: string): never {
  throw new NncError(diagnostic("NN8202", message, undefined, hint ? { hint } : {}));
}

export function need(v: Val | undefined, what: string): Val {
  if (!v) fail(`missing ${what}`);
  return v;
}

/** The values of an input that must be known at import time (a shape, axes, pads). */
export function known(v: Val | undefined, what: string): number[] {
  if (!v?.value) fail(`${what} must be a constant (nnc compiles for static shapes)`);
  return Array.from(v.value.data, Number);
}

export function scalar(b: GraphImporter, x: number, dtype: DType = "f32"): Val {
  const data =
    dtype === "f32" ? Float32Array.of(x) : dtype === "bool" ? Uint8Array.of(x) : Int32Array.of(x);
  return b.constant({ dtype, shape: [], data } as Tensor);
}

export function i32(b: GraphImporter, values: number[], shape = [values.length]): Val {
  return b.constant({ dtype: "i32", shape, data: Int32Array.from(values) });
}

/** An axis in [0, rank), negative counting from the end. */
export function axisOf(a: number, rank: number): number {
  const r = a < 0 ? a + rank : a;
  if (r < 0 || r >= rank) fail(`axis ${a} is out of range for rank ${rank}`);
  return r;
}

export function reshape(b: GraphImporter, x: Val, shape: number[]): Val {
  if (shape.length === x.type.shape.length && shape.every((d, i) => d === x.type.shape[i]))
    return x;
  return b.op("reshape", [x], { shape });
}

export function unary(b: GraphImporter, op: string, x: Val): Val {
  return b.op(op, [x]);
}

export function bin(b: GraphImporter, op: string, x: Val, y: Val): Val {
  return b.op(op, [x, y]);
}

/** Axes of Squeeze/Unsqueeze/Reduce*: an attribute before opset 13 (18 for most reduces), an input after. */
export function axesOf(
  inputs: (Val | undefined)[],
  n: Parameters<Rule>[2],
  rank: number,
): number[] | undefined {
  const fromAttr = new Attrs(n).ints("axes");
  const raw = fromAttr ?? (inputs[1] ? known(inputs[1], "axes") : undefined);
  return raw?.map((a) => axisOf(a, rank));
}
