// Elaborating an entry point: bind its hyperparameters from --arg values, make
// graph inputs of its tensor inputs at concrete shapes, apply it, and name the
// outputs. A model, a def or a layer can each be the entry; parameters are
// named from the root (no prefix), like a bare PyTorch module's state_dict.

import type { CallableDecl } from "../../grammar/ast.js";
import { diagnostic, didYouMean, NncError, type SourceMap } from "../core/diagnostics.js";
import { type DType, isDType, type TensorType } from "../core/types.js";
import { BUFFER_OUTPUT, type Graph } from "../graph/graph.js";
import { GraphBuilder } from "./builder.js";
import { RNG_SEED, RNG_STEP } from "./builtins/random.js";
import { applyCallable, coerce, declInputs, paramType } from "./calls.js";
import { type LayerRecord, rootCtx, type Session } from "./context.js";
import { evalArg } from "./expressions.js";
import { type ModuleScope, Scope } from "./scope.js";
import { describe, floatV, intV, type Value } from "./values.js";

/** An --arg value as the user wrote it, or a typed value from the API. */
export type ArgInput = string | number | boolean;

export interface InputSpec {
  shape: number[];
  dtype?: DType;
}

export interface Elaborated {
  graph: Graph;
  layers: LayerRecord[];
  /** Symbolic input dims that no given shape bound, set to 1: `N=1`. */
  defaultedDims: string[];
  entry: CallableDecl;
}

export function pickEntry(module: ModuleScope, name: string | undefined): CallableDecl {
  const all = [...module.decls.values()];
  if (name !== undefined) {
    const d = module.decls.get(name);
    if (d) return d;
    throw new NncError(
      diagnostic(
        "NN2006",
        `\`${module.file}\` has no model, def or layer \`${name}\`${didYouMean(name, module.decls.keys())}`,
        undefined,
        {
          hint:
            all.length > 0 ? `entries here: ${all.map((d) => d.name.name).join(", ")}` : undefined,
        },
      ),
    );
  }
  const models = all.filter((d) => d.flavor === "model");
  if (models.length === 1) return models[0]!;
  if (all.length === 1) return all[0]!;
  throw new NncError(
    diagnostic(
      "NN2006",
      all.length === 0
        ? `\`${module.file}\` declares no model, def or layer to run`
        : `\`${module.file}\` has ${models.length > 1 ? `${models.length} models` : `${all.length} declarations`}; choose one with --entry`,
      undefined,
      all.length > 0
        ? {
            hint: `entries: ${(models.length > 1 ? models : all).map((d) => d.name.name).join(", ")}`,
          }
        : {},
    ),
  );
}

/** Parses `--arg k=v` text: ints, floats, booleans; other text is a word or a string. */
export function parseArgText(text: string): Value {
  if (/^[-+]?\d+$/.test(text)) return intV(Number(text));
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+)([eE][-+]?\d+)?$/.test(text)) return floatV(Number(text));
  if (text === "true" || text === "false") return { k: "bool", v: text === "true" };
  return { k: "word", v: text };
}

function argValue(a: ArgInput): Value {
  if (typeof a === "string") return parseArgText(a);
  if (typeof a === "boolean") return { k: "bool", v: a };
  return Number.isInteger(a) ? intV(a) : floatV(a);
}

export function elaborateEntry(
  module: ModuleScope,
  decl: CallableDecl,
  args: Record<string, ArgInput>,
  inputs: Record<string, InputSpec>,
  sources: SourceMap,
  stdlibFiles: Set<string>,
  mode: Mode = "eval",
): Elaborated {
  const session: Session = {
    builder: new GraphBuilder(),
    sources,
    stdlibFiles,
    layers: [],
    work: 0,
    training: mode === "train",
    updates: new Map(),
    draws: 0,
  };
  const ctx = rootCtx(session);
  const owner = decl.name.name;

  // Hyperparameters from --arg, checked against the declared types.
  const hyperNames = decl.hyper.map((h) => h.name.name);
  const hyper = new Map<string, Value>();
  for (const [k, raw] of Object.entries(args)) {
    const h = decl.hyper.find((x) => x.name.name === k);
    if (!h) {
      throw new NncError(
        diagnostic(
          "NN3001",
          `--arg ${k}: \`${owner}\` has no hyperparameter \`${k}\`${didYouMean(k, hyperNames)}`,
          undefined,
          {
            hint:
              hyperNames.length > 0
                ? `its hyperparameters: ${hyperNames.join(", ")}`
                : `\`${owner}\` takes no hyperparameters`,
          },
        ),
      );
    }
    let v = argValue(raw);
    const t = paramType(ctx, h.type);
    if (t.kind === "string" && v.k === "word") v = { k: "str", v: v.v };
    if (t.kind === "layer" && v.k === "word") {
      const target = module.decls.get(v.v) ?? module.prelude?.decls.get(v.v);
      if (target)
        v = {
          k: "callable",
          callee: { kind: "decl", decl: target, scope: module },
          hyper: null,
          boundInputs: [],
          label: null,
          span: target.name.span,
        };
    }
    hyper.set(
      k,
      coerce(ctx, new Scope(module), { name: k, type: t }, v, null, h.name.span, `\`${owner}\``),
    );
  }
  for (const h of decl.hyper) {
    if (!hyper.has(h.name.name) && h.default === null) {
      throw new NncError(
        diagnostic(
          "NN3002",
          `\`${owner}\` needs its \`${h.name.name}\` hyperparameter: pass --arg ${h.name.name}=VALUE`,
          h.name.span,
        ),
      );
    }
  }
  // Defaults come from the declaration, evaluated in order with the given values in scope.
  const bound = new Map<string, Value>();
  const s = new Scope(module);
  for (const h of decl.hyper) {
    const given = hyper.get(h.name.name);
    const v =
      given ??
      coerce(
        ctx,
        s,
        { name: h.name.name, type: paramType(ctx, h.type) },
        evalArg(ctx, s, h.default!),
        h.default!,
        h.default!.span,
        `\`${owner}\``,
      );
    bound.set(h.name.name, v);
    s.define(h.name.name, v);
  }

  // Tensor inputs at concrete shapes.
  const params = declInputs(decl);
  const known = params.map((p) => p.name.name);
  for (const name of Object.keys(inputs)) {
    // Train mode's RNG inputs are the graph's, not the entry's: random_bits declares them.
    if (mode === "train" && (name === RNG_SEED || name === RNG_STEP)) continue;
    if (!known.includes(name)) {
      throw new NncError(
        diagnostic(
          "NN6009",
          `\`${owner}\` has no input \`${name}\`${didYouMean(name, known)}`,
          undefined,
          { hint: `its inputs: ${known.join(", ")}` },
        ),
      );
    }
  }
  const symbols = new Map<string, number>();
  for (const p of params) {
    const given = inputs[p.name.name];
    const dims = p.type?.kind === "TensorType" ? p.type.dims : null;
    if (given && dims && dims.length === given.shape.length) {
      dims.forEach((d, i) => {
        if (d.kind === "DimName" && !symbols.has(d.name)) symbols.set(d.name, given.shape[i]!);
      });
    }
  }
  // `T = 64` in any input's type is T's size when no given shape binds it.
  const declaredDefaults = new Map<string, number>();
  for (const p of params) {
    const dims = p.type?.kind === "TensorType" ? (p.type.dims ?? []) : [];
    for (const d of dims) {
      if (d.kind === "DimName" && d.default !== undefined && !declaredDefaults.has(d.name))
        declaredDefaults.set(d.name, d.default);
    }
  }
  const defaulted: string[] = [];
  const named = new Map<string, Value>();
  for (const p of params) {
    const given = inputs[p.name.name];
    let type: TensorType;
    if (p.type?.kind === "RecordType") {
      throw new NncError(
        diagnostic(
          "NN4004",
          `entry input \`${p.name.name}\` is a record; an entry takes tensors`,
          p.span,
        ),
      );
    }
    const declared = p.type?.kind === "TensorType" ? p.type : null;
    if (declared && !isDType(declared.dtype.name)) {
      throw new NncError(
        diagnostic(
          "NN3017",
          `unknown element type \`${declared.dtype.name}\`${didYouMean(declared.dtype.name, ["f32", "i32"])}`,
          declared.dtype.span,
        ),
      );
    }
    const dtype: DType = given?.dtype ?? (declared?.dtype.name as DType | undefined) ?? "f32";
    if (given) {
      type = { dtype, shape: given.shape };
    } else if (p.default !== null) {
      continue;
    } else if (declared?.dims?.every((d) => d.kind !== "DimAny")) {
      const shape = declared.dims.map((d) => {
        if (d.kind === "DimInt") return d.value;
        const { name } = d as { name: string };
        const declaredDefault = declaredDefaults.get(name);
        if (!symbols.has(name)) {
          symbols.set(name, declaredDefault ?? 1);
          if (declaredDefault === undefined) defaulted.push(`${name}=1`);
        }
        return symbols.get(name)!;
      });
      type = { dtype, shape };
    } else {
      throw new NncError(
        diagnostic(
          "NN6009",
          `input \`${p.name.name}\` of \`${owner}\` has no fixed shape; give one with --shape ${p.name.name}=DIMS (or --input)`,
          p.span,
        ),
      );
    }
    named.set(p.name.name, session.builder.input(ctx, p.name.name, type, p.span));
  }

  const callable: Value = {
    k: "callable",
    callee: { kind: "decl", decl, scope: module },
    hyper: bound,
    boundInputs: [],
    label: null,
    span: decl.name.span,
  };
  let result: Value;
  try {
    result = applyCallable(
      ctx,
      callable as Extract<Value, { k: "callable" }>,
      [],
      named,
      decl.name.span,
      null,
    );
  } catch (e) {
    // A model run at N=1, T=1 because no shape was given fails in ways that hide why.
    if (e instanceof NncError && defaulted.length > 0) {
      const first = e.diagnostics[0]!;
      first.notes = [...(first.notes ?? []), { message: unboundDimsNote(defaulted) }];
    }
    throw e;
  }
  nameOutputs(session, result, decl);
  return {
    graph: session.builder.graph,
    layers: session.layers,
    defaultedDims: defaulted,
    entry: decl,
  };
}

function nameOutputs(session: Session, result: Value, decl: CallableDecl): void {
  const outs = session.builder.graph.outputs;
  const add = (name: string, v: Value): void => {
    if (v.k === "tensor") outs.push({ name, node: v.node });
    else if (v.k === "record") for (const [k, x] of v.fields) add(name ? `${name}.${k}` : k, x);
    else {
      throw new NncError(
        diagnostic(
          "NN3004",
          `\`${decl.name.name}\` returns ${describe(v)}; an entry returns a tensor or a record of tensors`,
          decl.span,
        ),
      );
    }
  };
  add(result.k === "tensor" ? "output" : "", result);
  // Train mode: each updated buffer's new value, named by its state_dict path.
  for (const [path, v] of session.updates)
    outs.push({ name: `${BUFFER_OUTPUT}${path}`, node: v.node });
}

/** The compile mode: eval is the inference function, train uses batch statistics and updates buffers. */
export type Mode = "eval" | "train";

/** The note for symbolic input dims no shape bound: which value was used, how to choose. */
export function unboundDimsNote(defaulted: readonly string[]): string {
  const name = defaulted[0]!.split("=")[0];
  return `no shape bound the input dims ${defaulted.join(", ")}, so they default to 1; give shapes with --input NAME=seeded:DIMS (or --shape NAME=DIMS), or declare a default in the input's type, e.g. \`f32[${name} = 8, ...]\``;
}
