// ONNX export: the Graph IR as elaborated (before the optimizer folds
// batchnorm into convs or fusion groups kernels) written as an ONNX model,
// opset 17. Params become initializers named by their state_dict keys; each
// primitive op becomes the ONNX nodes of its rule in export-ops.ts; a scan
// becomes an ONNX Scan whose body reads the captured tensors from the outer scope.

import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { formatType } from "../core/types.js";
import type { Graph, GraphNode } from "../graph/graph.js";
import type { ScanAttrs } from "../ops/scan.js";
import { seqAxis } from "../ops/scan.js";
import { matchLayers } from "./export-layers.js";
import { type EmitContext, rules, sizeOf } from "./export-ops.js";
import { emitRecurrent } from "./export-rnn.js";
import {
  attrs,
  encodeModel,
  type GraphProto,
  int64Proto,
  type ModelProto,
  type NodeProto,
  type TensorProto,
  tensorProto,
  valueInfo,
} from "./proto.js";

export const exportOpset = 17;

/** Value names unique across the model and its Scan bodies (ONNX forbids shadowing). */
class Names {
  private used = new Set<string>();
  reserve(name: string): string {
    this.used.add(name);
    return name;
  }
  fresh(hint: string): string {
    const base = hint.replace(/[^A-Za-z0-9_./:-]/g, "_");
    let name = base;
    for (let k = 1; this.used.has(name); k++) name = `${base}_${k}`;
    this.used.add(name);
    return name;
  }
}

/** One ONNX graph (the model's or a Scan body) being written. */
class GraphWriter {
  readonly nodes: NodeProto[] = [];
  /** Graph IR node id → ONNX value name. */
  readonly values = new Map<number, string>();

  private readonly layers: ReturnType<typeof matchLayers>;

  /** `entry`: the entry's name, when it is itself a layer the graph may be written as one op. */
  constructor(
    readonly names: Names,
    readonly graph: Graph,
    entry?: string,
  ) {
    this.layers = matchLayers(graph, entry);
  }

  emitNodes(): void {
    for (const n of this.graph.nodes) {
      if (this.values.has(n.id)) continue; // bound already: an input, param or captured value
      if (this.layers.skip.has(n.id)) continue; // inside a layer written as one op
      if (n.op === "input" || n.op === "param")
        throw new NncError(
          diagnostic("NN8205", `the graph's ${n.op} node ${n.id} has no value to export`),
        );
      const out = this.names.fresh(`${n.scope ? `${n.scope}/` : ""}${n.op}_${n.id}`);
      this.values.set(n.id, out);
      const inputs = n.inputs.map((i) => this.values.get(i)!);
      const call = this.layers.recurrent.get(n.id);
      if (call) {
        this.values.delete(n.id);
        const named = emitRecurrent(this.ctx(n), call, (id) => this.values.get(id)!);
        for (const [id, name] of named) this.values.set(id, name);
        continue;
      }
      const layer = this.layers.matches.get(n.id);
      if (layer) {
        const ins = layer.inputs.map((i) => this.values.get(i)!);
        this.ctx(n).node(layer.op, ins, out, layer.attribute);
      } else if (n.op === "const") this.emitConst(n, out);
      else if (n.op === "scan") this.emitScan(n, inputs, out);
      else this.emitRule(n, inputs, out);
    }
  }

  private ctx(n: GraphNode): EmitContext {
    const node = (
      opType: string,
      inputs: string[],
      output: string,
      a: NodeProto["attribute"] = [],
    ) => {
      this.nodes.push({
        name: this.names.fresh(`${n.scope ? `${n.scope}/` : ""}${opType}`),
        op_type: opType,
        input: inputs,
        output: [output],
        attribute: a,
      });
      return output;
    };
    const byId = new Map(this.graph.nodes.map((m) => [m.id, m]));
    return {
      node,
      nodeMulti: (opType, inputs, outputs, a = []) => {
        this.nodes.push({
          name: this.names.fresh(`${n.scope ? `${n.scope}/` : ""}${opType}`),
          op_type: opType,
          input: inputs,
          output: outputs,
          attribute: a,
        });
      },
      fresh: (hint) => this.names.fresh(`${n.scope ? `${n.scope}/` : ""}${hint}`),
      constant: (t: TensorProto) => node("Constant", [], t.name!, attrs({ value: t })),
      graphNode: n,
      inputType: (i) => byId.get(n.inputs[i]!)!.type,
    };
  }

  private emitConst(n: GraphNode, out: string): void {
    const a = n.attrs as { value: number[] };
    const count = n.type.shape.reduce((p, d) => p * d, 1);
    const v = a.value.length === 1 ? new Array<number>(count).fill(a.value[0]!) : a.value;
    const t = constTensor(n, v);
    this.ctx(n).node("Constant", [], out, attrs({ value: tensorProto(out, t) }));
  }

  private emitRule(n: GraphNode, inputs: string[], out: string): void {
    const rule = rules[n.op];
    if (!rule)
      throw new NncError(
        diagnostic(
          "NN8205",
          `op \`${n.op}\` (node ${n.id}, ${formatType(n.type)}) has no ONNX form`,
          n.span,
        ),
      );
    rule(this.ctx(n), inputs, out);
  }

  /**
   * nnc's scan gives one [T, total] tensor whose row t is every body output at
   * step t, flattened side by side. The ONNX Scan body computes the same row as
   * its one scan output; states travel as Scan state variables. With `reverse`,
   * inputs are read back to front and the rows prepended, so row t stays step t.
   */
  private emitScan(n: GraphNode, inputs: string[], out: string): void {
    const a = n.attrs as ScanAttrs;
    const body = new GraphWriter(this.names, a.body);
    const bodyInputs: GraphProto["input"] = [];
    a.body.inputs.forEach((bi, i) => {
      if (i < a.nSeq + a.nState) {
        const name = this.names.fresh(`${n.scope ? `${n.scope}/` : ""}scan_${n.id}/${bi.name}`);
        body.values.set(bi.node, name);
        bodyInputs[i < a.nSeq ? a.nState + i : i - a.nSeq] = valueInfo(
          name,
          bi.type.dtype,
          bi.type.shape,
        );
      } else {
        body.values.set(bi.node, inputs[i]!); // captured: read from the enclosing graph by name
      }
    });
    body.emitNodes();
    const ctx = body.ctx(n);
    const bodyOutputs: GraphProto["output"] = [];
    const flat: string[] = [];
    a.body.outputs.forEach((o, k) => {
      const v = body.values.get(o.node)!;
      const type = a.body.nodes[o.node]!.type;
      if (k < a.nState) {
        const s = ctx.node("Identity", [v], ctx.fresh(`scan_${n.id}/state_${k}`));
        bodyOutputs.push(valueInfo(s, type.dtype, type.shape));
      }
      const shape = ctx.constant(
        int64Proto(ctx.fresh("flat_shape"), [sizeOf(a.body.nodes[o.node]!)]),
      );
      flat.push(ctx.node("Reshape", [v, shape], ctx.fresh(`scan_${n.id}/flat_${k}`)));
    });
    const row = ctx.node("Concat", flat, ctx.fresh(`scan_${n.id}/row`), attrs({ axis: 0 }));
    bodyOutputs.push(valueInfo(row, "f32", [n.type.shape[1]!]));
    const g: GraphProto = {
      name: `scan_${n.id}`,
      node: body.nodes,
      initializer: [],
      input: bodyInputs,
      output: bodyOutputs,
    };
    const finals = Array.from({ length: a.nState }, (_, k) =>
      this.names.fresh(`${out}/final_${k}`),
    );
    const seqs = inputs.slice(0, a.nSeq);
    const states = inputs.slice(a.nSeq, a.nSeq + a.nState);
    const dir = a.reverse ? 1 : 0;
    this.nodes.push({
      name: this.names.fresh(`${n.scope ? `${n.scope}/` : ""}Scan`),
      op_type: "Scan",
      input: [...states, ...seqs],
      output: [...finals, out],
      attribute: attrs({
        body: g,
        num_scan_inputs: a.nSeq,
        scan_input_axes: seqs.map((_, i) => seqAxis(a, i)),
        scan_input_directions: seqs.map(() => dir),
        scan_output_directions: [dir],
      }),
    });
  }
}

function constTensor(n: GraphNode, v: number[]): Tensor {
  const shape = [...n.type.shape];
  switch (n.type.dtype) {
    case "f32":
      return { dtype: "f32", shape, data: Float32Array.from(v) };
    case "i32":
      return { dtype: "i32", shape, data: Int32Array.from(v) };
    case "bool":
      return { dtype: "bool", shape, data: Uint8Array.from(v) };
    case "i64":
      return { dtype: "i64", shape, data: BigInt64Array.from(v.map((x) => BigInt(x))) };
  }
}

/**
 * The graph as an ONNX ModelProto. `params` holds every param of the graph by
 * state_dict name (loadWeights gives them); each becomes an initializer.
 */
export function exportModel(graph: Graph, params: Map<string, Tensor>, name = "nnc"): ModelProto {
  const names = new Names();
  const w = new GraphWriter(names, graph, name);
  const initializer: TensorProto[] = [];
  for (const i of graph.inputs) w.values.set(i.node, names.reserve(i.name));
  for (const p of graph.params) {
    const t = params.get(p.name);
    if (!t)
      throw new NncError(diagnostic("NN6003", `no value for parameter \`${p.name}\` to export`));
    w.values.set(p.node, names.reserve(p.name));
    initializer.push(tensorProto(p.name, t));
  }
  // Output names are taken before any node is named, so no intermediate value takes one.
  for (const o of graph.outputs) names.reserve(o.name);
  w.emitNodes();
  const outputs = graph.outputs.map((o) => {
    const type = graph.nodes[o.node]!.type;
    const outName = o.name;
    w.nodes.push({
      name: names.fresh(`output/${o.name}`),
      op_type: "Identity",
      input: [w.values.get(o.node)!],
      output: [outName],
      attribute: [],
    });
    return valueInfo(outName, type.dtype, type.shape);
  });
  return {
    ir_version: 8,
    opset_import: [{ domain: "", version: exportOpset }],
    producer_name: "nnc",
    producer_version: "0.1.0",
    graph: {
      name,
      node: w.nodes,
      initializer,
      input: graph.inputs.map((i) => valueInfo(i.name, i.type.dtype, i.type.shape)),
      output: outputs,
    },
  };
}

/** exportModel, encoded as the bytes of a .onnx file. */
export function exportOnnx(graph: Graph, params: Map<string, Tensor>, name?: string): Uint8Array {
  return encodeModel(exportModel(graph, params, name));
}
