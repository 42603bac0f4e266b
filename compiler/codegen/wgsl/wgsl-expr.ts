// Rendering Kernel IR expressions as WGSL: index expressions as i32
// arithmetic (plain / and % where the dividend is provably non-negative,
// floor helpers elsewhere), value expressions as WGSL expressions, with a
// `reduce` hoisted into an accumulator loop written to the current block.
// Each scalar function's WGSL comes from its row in the scalar table (ops/scalar.ts).

import {
  type ICond,
  type IExpr,
  rangeOf,
  reduceInit,
  type VExpr,
  type VType,
} from "../../kernels/expr.js";
import { linearize } from "../../kernels/index-maps.js";
import type { Kernel } from "../../kernels/ir.js";
import {
  type BinaryRow,
  binaryTable,
  castWgsl,
  cmpTable,
  type UnaryRow,
  unaryTable,
} from "../../ops/scalar.js";

/** Variable name → the WGSL expression standing for it (tile instances); absent names print as themselves. */
export type Env = ReadonlyMap<string, string>;

/** Lines of statements at one indentation. */
export interface Block {
  lines: string[];
  indent: string;
}

/** Helpers of the emitter itself; the scalar functions' own come from their table rows. */
const ownHelpers: Record<string, string> = {
  nnc_div: `fn nnc_div(a: i32, b: i32) -> i32 {
  let q = a / b;
  return select(q, q - 1, (a % b != 0) && ((a < 0) != (b < 0)));
}`,
  nnc_mod: `fn nnc_mod(a: i32, b: i32) -> i32 {
  let r = a % b;
  return select(r, r + b, (r != 0) && ((r < 0) != (b < 0)));
}`,
  // A call keeps inf/NaN out of constant evaluation, where WGSL rejects them.
  nnc_bits: `fn nnc_bits(b: u32) -> f32 {
  return bitcast<f32>(b);
}`,
};

const scalarRows: (UnaryRow | BinaryRow)[] = [
  ...Object.values(unaryTable),
  ...Object.values(binaryTable),
];

/** Every helper in the order they are written out, with the helpers each calls. */
const helperSource = new Map<string, { source: string; uses: readonly string[] }>([
  ...Object.entries(ownHelpers).map(([name, source]) => [name, { source, uses: [] }] as const),
  ...scalarRows.flatMap(({ helper: h }) =>
    h ? [[h.name, { source: h.source, uses: h.uses ?? [] }] as const] : [],
  ),
]);

export type Helper = string;

export function helperText(names: Iterable<Helper>): string {
  const all = new Set(names);
  for (const name of [...all]) for (const u of helperSource.get(name)?.uses ?? []) all.add(u);
  return [...helperSource]
    .filter(([name]) => all.has(name))
    .map(([, h]) => h.source)
    .join("\n\n");
}

export function wgslType(t: VType): string {
  return t === "bool" ? "bool" : t;
}

/** The storage element type of a binding. */
export function storageType(t: VType): string {
  return t === "bool" ? "u32" : t;
}

/** The shortest decimal that rounds to the same f32, as a WGSL literal. */
function f32Literal(v: number, helpers: Set<Helper>): string {
  const r = Math.fround(v);
  if (!Number.isFinite(r)) {
    helpers.add("nnc_bits");
    if (Number.isNaN(r)) return "nnc_bits(0x7fc00000u)";
    return r > 0 ? "nnc_bits(0x7f800000u)" : "nnc_bits(0xff800000u)";
  }
  if (Object.is(r, -0)) return "(-0.0f)";
  let s = String(r);
  for (let p = 1; p <= 9; p++) {
    const t = r.toPrecision(p);
    if (Math.fround(Number(t)) === r) {
      s = t;
      break;
    }
  }
  s = s.replace("e+", "e");
  if (!/[.e]/.test(s)) s += ".0";
  return r < 0 ? `(${s}f)` : `${s}f`;
}

export function literal(v: number, t: VType, helpers: Set<Helper>): string {
  if (t === "bool") return v !== 0 ? "true" : "false";
  if (t === "i32") return v < 0 ? `i32(${v})` : `${v}i`;
  return f32Literal(v, helpers);
}

/**
 * Iterations of a reduction nest the driver may unroll whole. Lavapipe (NIR)
 * fully unrolls loops of a small constant count, and LLVM's time at the
 * first dispatch grows with the unrolled loads: global average pooling over
 * 7×7 took 0.8–1 s to JIT unrolled, 0.07–0.12 s as a loop.
 */
const UNROLLED_AT_MOST = 16;

/**
 * `n` as a loop bound the shader compiler cannot see through (the output is
 * never empty), so it does not unroll the loop: on a CPU adapter every memory
 * access in unrolled copies is a loop over SIMD lanes (a scan's 5-step × 8-term
 * loop nest: 16 s to compile instead of 3 s on lavapipe).
 */
export const opaqueCount = (n: number) => `select(${n}, 0, arrayLength(&out) == 0u)`;

export class ExprWriter {
  readonly helpers = new Set<Helper>();
  /** Expressions already computed elsewhere (the tiled emitter's accumulators). */
  readonly replaced = new Map<VExpr, string>();
  private counter = 0;

  constructor(
    readonly kernel: Kernel,
    /** Bindings declared as array<vec4<f32>>. */
    readonly vec4: ReadonlySet<number> = new Set(),
  ) {}

  fresh(prefix: string): string {
    return `${prefix}${this.counter++}`;
  }

  bindingName(b: number): string {
    return this.kernel.bindings[b]!.role === "write" ? "out" : `in${b}`;
  }

  i(e: IExpr, env: Env, block?: Block): string {
    switch (e.op) {
      case "const":
        return e.value < 0 ? `(${e.value})` : String(e.value);
      case "var":
        return env.get(e.name) ?? e.name;
      case "value":
        return this.v(e.v, env, block ?? { lines: [], indent: "" });
      case "select":
        return `select(${this.i(e.b, env, block)}, ${this.i(e.a, env, block)}, ${this.cond(e.cond, env, block)})`;
      case "min":
      case "max":
        return `${e.op}(${this.i(e.a, env, block)}, ${this.i(e.b, env, block)})`;
      case "div":
      case "mod": {
        const a = this.i(e.a, env, block);
        const b = this.i(e.b, env, block);
        const plain = rangeOf(e.a)[0] >= 0 && e.b.op === "const" && e.b.value > 0;
        if (plain) return `(${a} ${e.op === "div" ? "/" : "%"} ${b})`;
        const h = e.op === "div" ? "nnc_div" : "nnc_mod";
        this.helpers.add(h);
        return `${h}(${a}, ${b})`;
      }
      default: {
        const sym = { add: "+", sub: "-", mul: "*" }[e.op];
        return `(${this.i(e.a, env, block)} ${sym} ${this.i(e.b, env, block)})`;
      }
    }
  }

  cond(c: ICond, env: Env, block?: Block): string {
    switch (c.op) {
      case "bool":
        return String(c.value);
      // & and | rather than && and ||: no short-circuit branches, which cost a
      // SIMD-across-invocations adapter (lavapipe) a masked path each.
      case "and":
        return `(${this.cond(c.a, env, block)} & ${this.cond(c.b, env, block)})`;
      case "or":
        return `(${this.cond(c.a, env, block)} | ${this.cond(c.b, env, block)})`;
      default:
        return `(${this.i(c.a, env, block)} ${cmpTable[c.op].wgsl} ${this.i(c.b, env, block)})`;
    }
  }

  /** The flat element index of a load. */
  flat(binding: number, index: IExpr[]): IExpr {
    return linearize(index, this.kernel.bindings[binding]!.shape);
  }

  /** A scalar element of a binding at a flat index (WGSL text). */
  element(binding: number, flat: string): string {
    const name = this.bindingName(binding);
    const b = this.kernel.bindings[binding]!;
    const raw = this.vec4.has(binding)
      ? `${name}[u32(${flat}) >> 2u][u32(${flat}) & 3u]`
      : `${name}[${flat}]`;
    return b.dtype === "bool" ? `(${raw} != 0u)` : raw;
  }

  v(e: VExpr, env: Env, block: Block): string {
    const hit = this.replaced.get(e);
    if (hit !== undefined) return hit;
    switch (e.op) {
      case "const":
        return literal(e.value, e.dtype, this.helpers);
      case "load":
        return this.element(e.binding, this.i(this.flat(e.binding, e.index), env, block));
      case "index":
        return e.dtype === "i32"
          ? this.i(e.index, env, block)
          : `${wgslType(e.dtype)}(${this.i(e.index, env, block)})`;
      case "test":
        return this.cond(e.cond, env, block);
      case "unary": {
        const row: UnaryRow = unaryTable[e.fn];
        if (row.helper) this.helpers.add(row.helper.name);
        return row.wgsl(this.v(e.x, env, block), e.dtype);
      }
      case "binary": {
        const row: BinaryRow = binaryTable[e.fn];
        if (row.helper) this.helpers.add(row.helper.name);
        return row.wgsl(this.v(e.a, env, block), this.v(e.b, env, block));
      }
      case "cmp": {
        let a = this.v(e.a, env, block);
        let b = this.v(e.b, env, block);
        if (e.a.dtype === "bool" && e.fn !== "eq" && e.fn !== "ne") {
          a = `i32(${a})`;
          b = `i32(${b})`;
        }
        return `(${a} ${cmpTable[e.fn].wgsl} ${b})`;
      }
      case "select":
        return `select(${this.v(e.b, env, block)}, ${this.v(e.a, env, block)}, ${this.v(e.cond, env, block)})`;
      case "cast":
        return castWgsl(this.v(e.x, env, block), e.x.dtype, e.dtype);
      case "reduce":
        return this.reduce(e, env, block);
    }
  }

  /** An accumulator loop over the reduce's variables; returns the accumulator's name. */
  private reduce(e: Extract<VExpr, { op: "reduce" }>, env: Env, block: Block): string {
    const acc = this.fresh("acc");
    const t = wgslType(e.dtype);
    block.lines.push(
      `${block.indent}var ${acc}: ${t} = ${literal(reduceInit(e.kind, e.dtype), e.dtype, this.helpers)};`,
    );
    let indent = block.indent;
    const total = e.vars.reduce((n, v) => n * v.extent, 1);
    for (const [d, v] of e.vars.entries()) {
      const bound = d === 0 && total > UNROLLED_AT_MOST ? opaqueCount(v.extent) : v.extent;
      block.lines.push(
        `${indent}for (var ${v.name}: i32 = 0; ${v.name} < ${bound}; ${v.name}++) {`,
      );
      indent += "  ";
    }
    const inner: Block = { lines: block.lines, indent };
    const x = this.v(e.body, env, inner);
    if (e.kind === "sum") {
      block.lines.push(`${indent}${acc} += ${x};`);
    } else {
      const tmp = this.fresh("x");
      block.lines.push(`${indent}let ${tmp} = ${x};`);
      // NaN wins and stays, like torch.amax (x != x only for NaN).
      block.lines.push(
        `${indent}${acc} = select(${acc}, ${tmp}, ${tmp} > ${acc} || ${tmp} != ${tmp});`,
      );
    }
    for (let d = e.vars.length - 1; d >= 0; d--) {
      indent = indent.slice(2);
      block.lines.push(`${indent}}`);
    }
    return acc;
  }
}
