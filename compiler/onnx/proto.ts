// The ONNX protobuf layer of the ONNX bridge: the vendored schema parsed once
// by protobufjs, the message shapes nnc reads and writes, and host tensors to
// and from TensorProto. Export builds these objects; import decodes into them.

import protobuf from "protobufjs";
import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import type { DType } from "../core/types.js";
import { onnxProtoText } from "./onnx-proto.js";

/** TensorProto.DataType values nnc maps to its dtypes. */
export const onnxDType = { f32: 1, bool: 9, i32: 6, i64: 7 } as const satisfies Record<
  DType,
  number
>;

export interface TensorProto {
  name?: string;
  dims: number[];
  data_type: number;
  raw_data?: Uint8Array;
  float_data?: number[];
  int32_data?: number[];
  int64_data?: (number | bigint | { toString(): string })[];
  double_data?: number[];
}

export interface AttributeProto {
  name: string;
  /** AttributeProto.AttributeType: FLOAT 1, INT 2, STRING 3, TENSOR 4, GRAPH 5, FLOATS 6, INTS 7. */
  type: number;
  f?: number;
  i?: number | { toString(): string };
  s?: Uint8Array;
  t?: TensorProto;
  g?: GraphProto;
  floats?: number[];
  strings?: Uint8Array[];
  ints?: (number | { toString(): string })[];
}

export interface NodeProto {
  name?: string;
  op_type: string;
  domain?: string;
  input: string[];
  output: string[];
  attribute: AttributeProto[];
}

export interface ValueInfoProto {
  name: string;
  type?: {
    tensor_type?: {
      elem_type?: number;
      shape?: { dim: { dim_value?: number | { toString(): string }; dim_param?: string }[] };
    };
  };
}

export interface GraphProto {
  name?: string;
  node: NodeProto[];
  initializer: TensorProto[];
  input: ValueInfoProto[];
  output: ValueInfoProto[];
  value_info?: ValueInfoProto[];
}

export interface ModelProto {
  ir_version: number;
  opset_import: { domain?: string; version: number | { toString(): string } }[];
  producer_name?: string;
  producer_version?: string;
  graph?: GraphProto;
}

let root: protobuf.Root | undefined;

function lookup(name: string): protobuf.Type {
  root ??= protobuf.parse(onnxProtoText, { keepCase: true }).root;
  return root.lookupType(name);
}

// longs as numbers: every int64 nnc reads is a dim, an axis or an index (values out of
// the safe range are saturated where they are read).
const decodeOptions = { longs: Number, bytes: Uint8Array, defaults: true };

export function encodeModel(model: ModelProto): Uint8Array {
  const t = lookup("onnx.ModelProto");
  return t.encode(t.fromObject(model as unknown as Record<string, unknown>)).finish();
}

/** Decodes a .onnx file; NN8201 naming the file for bytes that are not a ModelProto. */
export function decodeModel(bytes: Uint8Array, file: string): ModelProto {
  const t = lookup("onnx.ModelProto");
  try {
    return t.toObject(t.decode(bytes), decodeOptions) as ModelProto;
  } catch (e) {
    throw new NncError(
      diagnostic("NN8201", `${file}: not a valid ONNX model (${(e as Error).message})`, undefined, {
        hint: "the file may be truncated or not an .onnx file",
      }),
    );
  }
}

/** A serialized TensorProto (an ONNX test case's input_0.pb); NN8201 if it is not one. */
export function decodeTensor(bytes: Uint8Array, file: string): TensorProto {
  const t = lookup("onnx.TensorProto");
  try {
    return t.toObject(t.decode(bytes), decodeOptions) as TensorProto;
  } catch (e) {
    throw new NncError(
      diagnostic("NN8201", `${file}: not a valid TensorProto (${(e as Error).message})`),
    );
  }
}

/** A host tensor as an initializer or Constant value; data as little-endian raw bytes. */
export function tensorProto(name: string, t: Tensor): TensorProto {
  const d = t.data;
  const raw = new Uint8Array(d.buffer, d.byteOffset, d.byteLength).slice();
  return { name, dims: [...t.shape], data_type: onnxDType[t.dtype], raw_data: raw };
}

/** An int64 1-D tensor (shapes, axes, pads: what ONNX takes as int64 inputs). */
export function int64Proto(name: string, values: readonly number[]): TensorProto {
  const data = BigInt64Array.from(values.map((v) => BigInt(v)));
  return tensorProto(name, { dtype: "i64", shape: [values.length], data });
}

export function valueInfo(name: string, dtype: DType, shape: readonly number[]): ValueInfoProto {
  return {
    name,
    type: {
      tensor_type: {
        elem_type: onnxDType[dtype],
        shape: { dim: shape.map((d) => ({ dim_value: d })) },
      },
    },
  };
}

type AttrValue = number | string | number[] | GraphProto | TensorProto;

/** `{name: value}` as AttributeProtos: integers as INT(S), other numbers as FLOAT, strings, graphs. */
export function attrs(
  a: Record<string, AttrValue | { float: number } | { floats: number[] }>,
): AttributeProto[] {
  return Object.entries(a).map(([name, v]): AttributeProto => {
    if (typeof v === "number")
      return Number.isInteger(v) ? { name, type: 2, i: v } : { name, type: 1, f: v };
    if (typeof v === "string") return { name, type: 3, s: new TextEncoder().encode(v) };
    if (Array.isArray(v)) return { name, type: 7, ints: v };
    if ("float" in v) return { name, type: 1, f: v.float };
    if ("floats" in v) return { name, type: 6, floats: v.floats };
    if ("node" in v) return { name, type: 5, g: v };
    return { name, type: 4, t: v };
  });
}
