// The .nn writer's state for `nnc import`: names given to ONNX values, the
// weights collected under .nn parameter names, weights and constants declared
// where an operator first reads them, and the literal forms of numbers.

import { diagnostic, NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import type { ImportedModel, Val } from "./import.js";

/** An identifier from any ONNX name: `layer1.0.conv1` → `layer1_0_conv1`. */
export function ident(name: string): string {
  const s = name.replace(/[^A-Za-z0-9_]/g, "_").replace(/^_+|_+$/g, "");
  return /^[A-Za-z]/.test(s) ? s : `v${s}`;
}

/** The shortest decimal that reads back as the same float32 (1e-5, not 0.000009999999747378752). */
export function num(x: number): string {
  if (x === Number.POSITIVE_INFINITY) return "inf";
  if (x === Number.NEGATIVE_INFINITY) return "(-inf)";
  if (Number.isNaN(x)) throw unsupported("a constant", "NaN has no .nn literal");
  if (Number.isInteger(x)) return `${x}.0`;
  for (let p = 1; p < 10; p++) {
    const s = String(Number(x.toPrecision(p)));
    if (Math.fround(Number(s)) === Math.fround(x)) return s;
  }
  return String(x);
}
export const list = (xs: readonly number[]) => `[${xs.join(", ")}]`;
/** A window size: an int when both dims agree. */
export const pairText = (xs: readonly number[]) =>
  xs.length === 2 && xs[0] === xs[1] ? String(xs[0]) : list(xs);

/** Keyword arguments, leaving out those at the layer's default. */
export function kwargs(pairs: [string, readonly number[] | number | boolean, string][]): string {
  return pairs
    .map(([k, v, dflt]) => {
      const text = typeof v === "object" ? pairText(v) : String(v);
      return text === dflt ? "" : `, ${k}=${text}`;
    })
    .join("");
}

export class Writer {
  readonly lines: string[] = [];
  readonly names = new Map<string, string>();
  readonly weights = new Map<string, Tensor>();
  private readonly used = new Set<string>();

  constructor(readonly m: ImportedModel) {}

  fresh(hint: string): string {
    let name = ident(hint);
    for (let k = 2; this.used.has(name); k++) name = `${ident(hint)}_${k}`;
    this.used.add(name);
    return name;
  }

  val(name: string): Val {
    return this.m.values.get(name)!;
  }

  /** Values written only where first read: work on weights alone. */
  readonly pending = new Map<string, () => void>();
  /** Ranks of the `tensorR` helper layers the source needs. */
  readonly tensorRanks = new Set<number>();
  /** A tensor any helper layer may be applied to (the model's first input). */
  anchor = "";

  /** An operand: a named value, a weight, or a scalar constant as a literal. */
  ref(name: string, where: string): string {
    const bound = this.names.get(name);
    if (bound) return bound;
    const pending = this.pending.get(name);
    if (pending) {
      this.pending.delete(name);
      pending();
      return this.ref(name, where);
    }
    const v = this.val(name);
    if (v?.param !== undefined && v.value) return this.tensorParam(name, v.value);
    if (v?.value && v.value.data.length === 1 && v.value.dtype === "f32")
      return num(Number(v.value.data[0]));
    if (v?.value && v.value.dtype !== "i64") return this.constTensor(name, v.value);
    throw unsupported(where, `operand \`${name}\` is a constant tensor of a type .nn cannot hold`);
  }

  /**
   * A constant tensor (a mask, an index table): .nn has no literal for one, so it is
   * stored with the weights, as f32, under `constants.NAME.value`, and cast back.
   */
  private constTensor(name: string, t: Tensor): string {
    const label = this.fresh(`const_${name}`);
    const f32: Tensor = {
      dtype: "f32",
      shape: [...t.shape],
      data: Float32Array.from(t.data as ArrayLike<number>),
    };
    this.weights.set(`${label}.value`, f32);
    this.tensorRanks.add(t.shape.length);
    const dims = t.shape.map((d) => `, ${d}`).join("");
    const decl = `${this.anchor} -> ${label}: tensor${t.shape.length}("value"${dims})`;
    const expr =
      t.dtype === "bool" ? `(${decl}) > 0.5` : t.dtype === "i32" ? `cast(${decl}, i32)` : decl;
    this.lines.push(`  let ${label} = ${expr}`);
    this.names.set(name, label);
    return label;
  }

  /** An initializer read by an operator: a `tensorR` layer call labelled from its name. */
  private tensorParam(name: string, t: Tensor): string {
    const dot = name.lastIndexOf(".");
    const leaf = dot > 0 ? ident(name.slice(dot + 1)) : "value";
    const label = this.fresh(dot > 0 ? name.slice(0, dot) : name);
    this.weights.set(`${label}.${leaf}`, t);
    this.tensorRanks.add(t.shape.length);
    const dims = t.shape.map((d) => `, ${d}`).join("");
    this.lines.push(
      `  let ${label} = ${this.anchor} -> ${label}: tensor${t.shape.length}("${leaf}"${dims})`,
    );
    this.names.set(name, label);
    return label;
  }

  /** A tensor computed from initializers alone (an RNN's re-cut gates): its value. */
  weightValue(name: string, where: string): Tensor {
    const v = this.val(name);
    if (!v?.value) throw unsupported(where, `\`${name}\` is not computed from initializers alone`);
    return v.value;
  }

  /** The initializer `name` (a weight); stored under the layer's param name when `param` is given. */
  weight(name: string, param: string | undefined, where: string): Tensor {
    const v = this.val(name);
    if (!v?.value || v.param === undefined)
      throw unsupported(where, `\`${name}\` is not an initializer`);
    if (param !== undefined) this.weights.set(param, v.value);
    return v.value;
  }
}

export function unsupported(where: string, why: string): NncError {
  return new NncError(
    diagnostic("NN8202", `${where}: cannot be written as .nn yet (${why})`, undefined, {
      hint: "`nnc run MODEL.onnx` runs it directly",
    }),
  );
}
