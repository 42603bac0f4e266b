// ONNX import: a decoded ModelProto rebuilt as nnc's Graph IR, node by node
// through the op registry's schemas and shape rules. Initializers become params
// named as in the file; every value whose inputs are known at import time
// (shapes, Shape→Gather→Concat chains, constants) is folded to a constant here,
// so the graph keeps nnc's static shapes. The op table is in import-ops.ts.

import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import type { DType, TensorType } from "../core/types.js";
import type { Graph, GraphNode, GraphParam } from "../graph/graph.js";
import { runGraph } from "../graph/interpret.js";
import { getOp, inferOp, OpError } from "../ops/index.js";
import { importRules } from "./import-ops.js";
import { decodeModel, type ModelProto, type NodeProto, type ValueInfoProto } from "./proto.js";
import { fromTensorProto, nnDType } from "./tensors.js";

/** The oldest default-domain opset whose op semantics the importer implements. */
export const minImportOpset = 6;

/** A value while importing: its type and either a graph node or a value known now (or both, for params). */
export interface Val {
  type: TensorType;
  node?: number;
  value?: Tensor;
  /** An initializer: kept as a param when read as a tensor, never folded into a constant. */
  param?: string;
  /** Computed from initializers alone: a graph node whose value is known too. */
  derived?: true;
}

/** One ONNX node of the file as imported: what `nnc check MODEL.onnx` lists. */
export interface ImportedNode {
  name: string;
  op: string;
  output: TensorType | undefined;
  /** Elements of the initializers (params) it reads. */
  params: number;
  /** Computed at import time (constants, shape arithmetic): no node in the graph. */
  folded: boolean;
}

export interface ImportedModel {
  graph: Graph;
  nodes: ImportedNode[];
  /** The params' values by name (the initializers), ready to run or to save. */
  weights: Map<string, Tensor>;
  opset: number;
  /** Every ONNX value by name as imported (type, and value where known): what the .nn writer reads. */
  values: Map<string, Val>;
}

/** Where an error happened: the ONNX node (index, name, op type). */
export function nodeLabel(n: NodeProto, index: number): string {
  return `node ${index}${n.name ? ` \`${n.name}\`` : ""} (${n.op_type})`;
}

export class GraphImporter {
  readonly nodes: GraphNode[] = [];
  readonly graph: Graph = { nodes: this.nodes, inputs: [], params: [], outputs: [] };
  readonly values = new Map<string, Val>();
  /** Outer-scope values this (Scan body) graph reads, in the order they became inputs. */
  readonly captures: Val[] = [];
  readonly imported: ImportedNode[] = [];
  scope = "";

  constructor(
    readonly opset: number,
    readonly weights: Map<string, Tensor>,
    readonly parent?: GraphImporter,
  ) {}

  /** An importer for a subgraph (a Scan body, a recurrent cell) that reads this graph's values. */
  child(): GraphImporter {
    return new GraphImporter(this.opset, this.weights, this);
  }

  /** The value called `name`, from this graph or an enclosing one (a Scan body's captures). */
  get(name: string): Val | undefined {
    const own = this.values.get(name);
    if (own) return own;
    const outer = this.parent?.get(name);
    if (!outer) return undefined;
    const local = this.capture(outer);
    this.values.set(name, local);
    return local;
  }

  private readonly captured = new Map<Val, Val>();

  /** This (body) graph's handle on a value of the enclosing graph: an input, made once per value. */
  capture(outer: Val): Val {
    if (outer.value && !outer.param && !outer.derived) return outer; // a constant needs no capture
    const hit = this.captured.get(outer);
    if (hit) return hit;
    const name = `captured${this.captures.length}`;
    const node = this.addNode("input", [], {
      name,
      dtype: outer.type.dtype,
      shape: outer.type.shape,
    });
    this.graph.inputs.push({ name, node, type: outer.type });
    this.captures.push(outer);
    const local: Val = { type: outer.type, node };
    this.captured.set(outer, local);
    return local;
  }

  addNode(op: string, inputs: number[], attrs: Record<string, unknown>): number {
    const { attrs: parsed, type } = inferOp(
      op,
      inputs.map((i) => this.nodes[i]!.type),
      attrs,
    );
    const id = this.nodes.length;
    this.nodes.push({
      id,
      op,
      inputs,
      attrs: parsed,
      type,
      ...(this.scope ? { scope: this.scope } : {}),
    });
    return id;
  }

  /** The graph node of a value, made on first use: a param for an initializer, a const otherwise. */
  use(v: Val): number {
    if (v.node !== undefined) return v.node;
    const t = v.value!;
    if (v.param !== undefined) {
      const node = this.addNode("param", [], { name: v.param, dtype: t.dtype, shape: t.shape });
      this.graph.params.push(paramOf(v.param, node, t));
      v.node = node;
      return node;
    }
    const value = Array.from(t.data, Number);
    const allSame = value.length > 0 && value.every((x) => x === value[0]);
    v.node = this.addNode("const", [], {
      dtype: t.dtype,
      shape: t.shape,
      value: allSame ? [value[0]] : value,
    });
    return v.node;
  }

  /**
   * A primitive op on values; evaluated now when every input is a known constant.
   * Work on initializers alone (a weight's transpose, an RNN's gate re-cut) stays
   * in the graph, so the weights stay params, but its value is kept too: the .nn
   * writer reads it as the weight a stdlib layer takes.
   */
  op(name: string, inputs: Val[], attrs: Record<string, unknown> = {}): Val {
    const known =
      name !== "scan" && inputs.length > 0 && inputs.every((v) => v.value !== undefined);
    const evaluate = () =>
      getOp(name).evaluate(
        inputs.map((v) => v.value!),
        inferOp(
          name,
          inputs.map((v) => v.type),
          attrs,
        ).attrs,
        { runGraph: (g, i, p) => [...runGraph(g, toMap(g, i), paramMap(g, p)).values()] },
      );
    if (known && inputs.every((v) => v.param === undefined && !v.derived)) {
      const { type } = inferOp(
        name,
        inputs.map((v) => v.type),
        attrs,
      );
      return { type, value: evaluate() };
    }
    const node = this.addNode(
      name,
      inputs.map((v) => this.use(v)),
      attrs,
    );
    return {
      type: this.nodes[node]!.type,
      node,
      ...(known ? { value: evaluate(), derived: true as const } : {}),
    };
  }

  constant(t: Tensor): Val {
    return { type: { dtype: t.dtype, shape: [...t.shape] }, value: t };
  }

  /** Imports the nodes of a GraphProto in order (ONNX lists them topologically). */
  importNodes(nodes: NodeProto[]): void {
    nodes.forEach((n, index) => {
      const where = nodeLabel(n, index);
      if (n.domain && n.domain !== "ai.onnx")
        throw new NncError(
          diagnostic("NN8202", `${where}: op domain \`${n.domain}\` is not supported`),
        );
      const rule = importRules[n.op_type];
      if (!rule)
        throw new NncError(
          diagnostic("NN8202", `${where}: ONNX op \`${n.op_type}\` is not supported by nnc`),
        );
      const inputs = n.input.map((name) => {
        if (name === "") return undefined;
        const v = this.get(name);
        if (!v)
          throw new NncError(
            diagnostic(
              "NN8203",
              `${where}: input \`${name}\` is neither a graph input, an initializer nor an earlier node's output`,
            ),
          );
        return v;
      });
      this.scope = n.name ?? "";
      let outs: Val[];
      try {
        outs = rule(this, inputs, n);
      } catch (e) {
        throw located(e, where);
      }
      n.output.forEach((name, k) => {
        if (name !== "" && outs[k]) this.values.set(name, outs[k]!);
      });
      const params = inputs.reduce((p, v) => p + (v?.param ? v.value!.data.length : 0), 0);
      const folded = outs.every((v) => v.value && v.param === undefined && !v.derived);
      this.imported.push({
        name: n.name || `#${index}`,
        op: n.op_type,
        output: outs[0]?.type,
        params,
        folded,
      });
    });
    this.scope = "";
  }
}

function toMap(g: Graph, inputs: Tensor[]): Map<string, Tensor> {
  return new Map(g.inputs.map((i, k) => [i.name, inputs[k]!]));
}
function paramMap(g: Graph, params: Tensor[]): Map<string, Tensor> {
  return new Map(g.params.map((p, k) => [p.name, params[k]!]));
}

function paramOf(name: string, node: number, t: Tensor): GraphParam {
  return {
    name,
    node,
    kind: "parameter",
    init: "uniform",
    type: { dtype: t.dtype, shape: [...t.shape] },
  };
}

/** An op's shape error, or any NncError, as a diagnostic naming the ONNX node. */
function located(e: unknown, where: string): NncError {
  if (e instanceof NncError) {
    const [first, ...rest] = e.diagnostics;
    if (first && !first.message.startsWith("node "))
      return new NncError([{ ...first, message: `${where}: ${first.message}` }, ...rest]);
    return e;
  }
  if (e instanceof OpError)
    return new NncError(
      diagnostic(e.code, `${where}: ${e.message}`, undefined, e.hint ? { hint: e.hint } : {}),
    );
  throw e;
}

function inputType(vi: ValueInfoProto, file: string, shapes: Record<string, number[]>): TensorType {
  const tt = vi.type?.tensor_type;
  if (!tt)
    throw new NncError(diagnostic("NN8201", `${file}: graph input \`${vi.name}\` is not a tensor`));
  const dtype: DType = nnDType(tt.elem_type ?? 0, `graph input \`${vi.name}\``);
  const given = shapes[vi.name];
  if (given) return { dtype, shape: given };
  const dims = tt.shape?.dim ?? [];
  const shape = dims.map((d, i) => {
    const v = d.dim_value === undefined ? 0 : Number(d.dim_value);
    if (v > 0) return v;
    // A symbolic dim (batch, sequence) without a size given: 1, as nnc does for its own inputs.
    if (d.dim_param || v === 0) return 1;
    throw new NncError(diagnostic("NN8201", `${file}: input \`${vi.name}\` dim ${i} is ${v}`));
  });
  return { dtype: dtype === "i64" ? "i32" : dtype, shape };
}

/** Rebuilds a decoded model as a Graph IR; `shapes` fixes symbolic input dims. */
export function importModel(
  model: ModelProto,
  file: string,
  shapes: Record<string, number[]> = {},
): ImportedModel {
  const g = model.graph;
  if (!g) throw new NncError(diagnostic("NN8201", `${file}: the model has no graph`));
  const entry = model.opset_import.find((o) => !o.domain || o.domain === "ai.onnx");
  const opset = entry ? Number(entry.version) : 1;
  if (opset < minImportOpset)
    throw new NncError(
      diagnostic(
        "NN8204",
        `${file}: opset ${opset} is too old; nnc imports opset ${minImportOpset} and later`,
        undefined,
        {
          hint: "convert it with onnx.version_converter first",
        },
      ),
    );
  const weights = new Map<string, Tensor>();
  const imp = new GraphImporter(opset, weights);
  for (const init of g.initializer) {
    const t = fromTensorProto(init, `initializer \`${init.name}\``);
    imp.values.set(init.name!, {
      type: { dtype: t.dtype, shape: [...t.shape] },
      value: t,
      ...(t.dtype === "f32" ? { param: init.name! } : {}),
    });
    if (t.dtype === "f32") weights.set(init.name!, t);
  }
  for (const vi of g.input) {
    if (imp.values.has(vi.name)) continue; // an initializer listed as an input too (IR < 4)
    const type = inputType(vi, file, shapes);
    const node = imp.addNode("input", [], { name: vi.name, dtype: type.dtype, shape: type.shape });
    imp.graph.inputs.push({ name: vi.name, node, type });
    imp.values.set(vi.name, { type, node });
  }
  imp.importNodes(g.node);
  for (const o of g.output) {
    const v = imp.values.get(o.name);
    if (!v)
      throw new NncError(
        diagnostic("NN8203", `${file}: graph output \`${o.name}\` is never computed`),
      );
    imp.graph.outputs.push({ name: o.name, node: imp.use(v) });
  }
  // Only the params the graph reads are its state_dict.
  const used = new Set(imp.graph.params.map((p) => p.name));
  for (const k of [...weights.keys()]) if (!used.has(k)) weights.delete(k);
  return { graph: imp.graph, nodes: imp.imported, weights, opset, values: imp.values };
}

/** Decodes and imports the bytes of a .onnx file. */
export function importOnnx(
  bytes: Uint8Array,
  file: string,
  shapes?: Record<string, number[]>,
): ImportedModel {
  return importModel(decodeModel(bytes, file), file, shapes);
}
