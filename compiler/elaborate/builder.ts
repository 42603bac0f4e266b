// Builds the Graph IR node by node while the program is elaborated. Every node
// goes through its op's zod schema and shape rule here, so a shape error is
// caught at the expression that caused it.

import { NncError } from "../core/diagnostics.js";
import type { Span } from "../core/span.js";
import { type DType, formatType, numel, type TensorType } from "../core/types.js";
import type { Graph, GraphNode, GraphParam, InitRule } from "../graph/graph.js";
import { getOp } from "../ops/index.js";
import { OpError } from "../ops/op.js";
import {
  type Ctx,
  charge,
  limits,
  locate,
  pathOf,
  raise,
  traceOf,
  userSite,
  WORK_PER_NODE,
} from "./context.js";
import type { TensorValue } from "./values.js";

interface ParamEntry {
  param: GraphParam;
  span: Span;
}

export class GraphBuilder {
  readonly nodes: GraphNode[] = [];
  readonly graph: Graph;
  private readonly paramsByName = new Map<string, ParamEntry>();
  private readonly scalarConsts = new Map<string, TensorValue>();
  /** For a scan body: outer tensors read inside it, by outer node id, and their inputs here. */
  private readonly captured = new Map<number, TensorValue>();
  readonly captures: TensorValue[] = [];
  /** Trainable elements declared so far, kept as a running sum: each layer call reads it twice. */
  private params = 0;

  /** `parent` is set for the body graph of a scan, which reads the enclosing graph's tensors as inputs. */
  constructor(readonly parent: GraphBuilder | null = null) {
    this.graph = { nodes: this.nodes, inputs: [], params: [], outputs: [] };
  }

  /** A builder for a scan body nested in this graph. */
  child(): GraphBuilder {
    return new GraphBuilder(this);
  }

  /** This graph's handle on a tensor of an enclosing graph: an input of the body, made once per tensor. */
  private capture(ctx: Ctx, v: TensorValue, span: Span): TensorValue {
    if (v.owner === this) return v;
    if (this.parent === null) {
      raise(
        ctx,
        "NN9001",
        "internal error: a tensor from another graph reached the top-level graph",
        span,
      );
    }
    const outer = this.parent.capture(ctx, v, span);
    const hit = this.captured.get(outer.node);
    if (hit) return hit;
    const name = `captured${this.captures.length}`;
    const local = this.add(
      ctx,
      "input",
      [],
      { name, dtype: outer.type.dtype, shape: outer.type.shape },
      span,
    );
    this.graph.inputs.push({ name, node: local.node, type: outer.type });
    this.captured.set(outer.node, local);
    this.captures.push(outer);
    return local;
  }

  /** Adds one primitive node; the op's schema and shape rule run here. */
  add(
    ctx: Ctx,
    op: string,
    inputs: TensorValue[],
    attrs: Record<string, unknown>,
    span: Span,
  ): TensorValue {
    inputs = inputs.map((i) => (i.owner === this ? i : this.capture(ctx, i, span)));
    const def = getOp(op);
    const parsed = def.attrs.safeParse(attrs);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` (${issue.path.join(".")})` : "";
      raise(
        ctx,
        "NN4006",
        `${op}: invalid attribute${where}: ${issue?.message ?? "rejected"}`,
        span,
      );
    }
    const checked = parsed.data as Record<string, unknown>;
    let type: TensorType;
    try {
      type = def.infer(
        inputs.map((i) => i.type),
        checked,
      );
    } catch (e) {
      if (e instanceof OpError) raise(ctx, e.code, e.message, span, e.hint);
      throw e;
    }
    return this.push(ctx, op, inputs, checked, type, span);
  }

  private push(
    ctx: Ctx,
    op: string,
    inputs: TensorValue[],
    attrs: Record<string, unknown>,
    type: TensorType,
    span: Span,
  ): TensorValue {
    // Zero-size tensors are refused where they arise: the kernels index and divide by every extent.
    if (type.shape.includes(0)) {
      raise(
        ctx,
        "NN4009",
        `${op} would produce ${formatType(type)}, a tensor with no elements`,
        span,
        "every dimension must be at least 1",
      );
    }
    if (numel(type.shape) > limits.tensorElements) {
      raise(
        ctx,
        "NN5003",
        `${op} would produce ${formatType(type)}: more than ${limits.tensorElements} elements`,
        span,
      );
    }
    charge(ctx, WORK_PER_NODE, span);
    if (this.nodes.length >= limits.graphNodes) {
      raise(ctx, "NN5005", `the graph has more than ${limits.graphNodes} nodes`, span);
    }
    const node: GraphNode = {
      id: this.nodes.length,
      op,
      inputs: inputs.map((i) => i.node),
      attrs,
      type,
      span,
    };
    const trace = traceOf(ctx);
    if (trace.length > 0) node.trace = trace;
    const scope = pathOf(ctx);
    if (scope) node.scope = scope;
    this.nodes.push(node);
    return { k: "tensor", node: node.id, type, owner: this };
  }

  /** A constant; scalars are shared so `x * 0.5` twice makes one node. */
  constant(ctx: Ctx, dtype: DType, shape: number[], value: number[], span: Span): TensorValue {
    const key =
      shape.length === 0 && value.length === 1
        ? `${dtype}:${Object.is(value[0], -0) ? "-0" : value[0]}`
        : null;
    if (key !== null) {
      const hit = this.scalarConsts.get(key);
      if (hit) return hit;
    }
    const t = this.add(ctx, "const", [], { dtype, shape, value }, span);
    if (key !== null) this.scalarConsts.set(key, t);
    return t;
  }

  input(ctx: Ctx, name: string, type: TensorType, span: Span): TensorValue {
    const t = this.add(ctx, "input", [], { name, dtype: type.dtype, shape: type.shape }, span);
    this.graph.inputs.push({ name, node: t.node, type });
    return t;
  }

  /** Declares a parameter under its full state_dict name; a name used twice is an error. */
  param(
    ctx: Ctx,
    name: string,
    type: TensorType,
    kind: "parameter" | "buffer",
    init: InitRule,
    span: Span,
    initArgs?: readonly number[],
  ): TensorValue {
    // Parameters always live in the top-level graph; a scan body reads them as captured inputs.
    if (this.parent !== null)
      return this.capture(
        ctx,
        this.parent.param(ctx, name, type, kind, init, span, initArgs),
        span,
      );
    const prev = this.paramsByName.get(name);
    if (prev) {
      const d = locate(
        ctx,
        ctx.autoNamed ? "NN2009" : "NN2008",
        `parameter \`${name}\` is declared twice`,
        span,
        ctx.autoNamed
          ? "unlabelled layers are named by their position; give the layers distinct labels (`name: layer`)"
          : "give the two layers distinct labels",
      );
      d.notes = [...(d.notes ?? []), { message: "first declared by this call", span: prev.span }];
      throw new NncError(d);
    }
    const t = this.add(ctx, "param", [], { name, dtype: type.dtype, shape: type.shape }, span);
    const param: GraphParam = { name, node: t.node, kind, init, type, span };
    if (initArgs !== undefined) param.initArgs = initArgs;
    this.graph.params.push(param);
    if (kind === "parameter") this.params += numel(type.shape);
    this.paramsByName.set(name, { param, span: userSite(ctx, span) });
    return t;
  }

  /** Trainable parameter elements so far (buffers excluded), PyTorch's count. */
  get paramCount(): number {
    return this.parent !== null ? this.parent.paramCount : this.params;
  }
}
