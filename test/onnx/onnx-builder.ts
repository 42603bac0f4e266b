// Small ONNX models written in tests: a few nodes, their graph inputs and
// initializers, encoded with nnc's own protobuf layer. ONNX Runtime runs them
// as the oracle for the importer's op rules.

import type { Tensor } from "../../compiler/core/tensor.js";
import {
  type AttributeProto,
  attrs,
  encodeModel,
  tensorProto,
  valueInfo,
} from "../../compiler/onnx/proto.js";
import { seededValues } from "../../runtime/weights/seeded.js";

export interface TestNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Parameters<typeof attrs>[0];
  /** Attributes attrs() cannot spell (lists of strings). */
  raw?: AttributeProto[];
}

export interface TestModel {
  nodes: TestNode[];
  inputs: Record<string, Tensor>;
  inits?: Record<string, Tensor>;
  outputs: string[];
  opset?: number;
}

export function encodeTestModel(m: TestModel): Uint8Array {
  return encodeModel({
    ir_version: 8,
    opset_import: [{ domain: "", version: m.opset ?? 17 }],
    producer_name: "nnc-test",
    graph: {
      name: "test",
      node: m.nodes.map((n, i) => ({
        name: `${n.op}_${i}`,
        op_type: n.op,
        input: n.inputs,
        output: n.outputs,
        attribute: [...attrs(n.attrs ?? {}), ...(n.raw ?? [])],
      })),
      initializer: Object.entries(m.inits ?? {}).map(([k, t]) => tensorProto(k, t)),
      input: Object.entries(m.inputs).map(([k, t]) => valueInfo(k, t.dtype, t.shape)),
      output: m.outputs.map((name) => ({ name, type: { tensor_type: { elem_type: 1 } } })),
    },
  });
}

/** Seeded f32 values in [-scale, scale), named so two tensors never share values. */
export function f32(name: string, shape: number[], scale = 1): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return { dtype: "f32", shape, data: seededValues(name, n, { kind: "uniform", scale }) };
}

export function i64(values: number[], shape = [values.length]): Tensor {
  return { dtype: "i64", shape, data: BigInt64Array.from(values.map((v) => BigInt(v))) };
}

export function strings(name: string, values: string[]): AttributeProto {
  return { name, type: 8, strings: values.map((s) => new TextEncoder().encode(s)) };
}
