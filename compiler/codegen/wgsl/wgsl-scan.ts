// WGSL for a fused scan step (scan-fuse.ts). One invocation computes a tile
// of the step's element space — a vec4 of the innermost dim, `tm` rows of the
// next — and stores every output there:
//
//   1. the reductions (the state-side matrix-vector products h·W_hhᵀ) in one
//      loop nest per range, accumulators in registers; a factor that does not
//      depend on the columns (h[b, k]) is one scalar per row, a factor
//      contiguous along them (W_hhᵀ[k, n…n+3]) one vec4 load shared by the
//      tile's rows. The state is the initial one at step 0 and the previous
//      row of the result later: the loops are specialised for both (a uniform
//      branch) instead of selecting inside them.
//   2. the epilogue (gates, state update, every store) element by element, in
//      loops over the tile whose bounds the shader compiler cannot see: on a
//      CPU adapter (lavapipe) every memory access in unrolled code is a loop
//      over SIMD lanes that LLVM compiles slowly, so the epilogue's loads and
//      stores exist once in the code.
//
// A persistent kernel wraps it all in a loop over the steps in one workgroup,
// its invocations striding over the tiles, a storage barrier between steps.

import {
  type ICond,
  type IExpr,
  iadd,
  ic,
  imul,
  ivar,
  linearTerms,
  printV,
  rangeOf,
  reduceInit,
  substV,
  type VExpr,
  vbinary,
  vcast,
  vcmp,
  vselect,
  vunary,
} from "../../kernels/expr.js";
import { type Kernel, STEP_VAR } from "../../kernels/ir.js";
import { reduceKey, SMALL_STEP_MACS, stepMacs } from "../../kernels/scan-fuse.js";
import { reducesOf, varsOf } from "../../kernels/schedule.js";
import { alignedAlong } from "../../kernels/vectorize.js";
import {
  type Block,
  type Env,
  ExprWriter,
  helperText,
  literal,
  opaqueCount,
  storageType,
} from "./wgsl-expr.js";
import { invocationPrologue, splitIndex } from "./wgsl-invocation.js";
import { readsStepUniform, STEP_LINE, stepUniformDecl } from "./wgsl-step.js";

/**
 * Write bindings other than the last are `out<b>`. In a persistent kernel with
 * its state in workgroup memory, reads of the primary output (the previous
 * step's state) come from `nnc_state` instead.
 */
class ScanWriter extends ExprWriter {
  /** State columns per row, when the state lives in workgroup memory. */
  stateColumns = 0;

  override bindingName(b: number): string {
    const binding = this.kernel.bindings[b]!;
    if (binding.role === "read") return `in${b}`;
    return b === this.kernel.bindings.length - 1 ? "out" : `out${b}`;
  }

  /** Whether a load reads the state from workgroup memory. */
  readsState(e: VExpr): boolean {
    return (
      this.stateColumns > 0 && e.op === "load" && e.binding === this.kernel.bindings.length - 1
    );
  }

  override v(e: VExpr, env: Env, block: Block): string {
    if (this.readsState(e) && !this.replaced.has(e)) {
      const load = e as Extract<VExpr, { op: "load" }>;
      // The row is the previous step's: its half of the double buffer.
      const col = this.i(load.index[load.index.length - 1]!, env, block);
      return `nnc_state[((step + 1) % 2) * ${this.stateColumns} + ${col}]`;
    }
    return super.v(e, env, block);
  }
}

interface Store {
  binding: number;
  index: IExpr[];
  value: VExpr;
  when?: ICond;
}

type Reduce = Extract<VExpr, { op: "reduce" }>;

function isFirstTest(e: VExpr): boolean {
  if (e.op !== "test" || e.cond.op !== "eq") return false;
  const { a, b } = e.cond;
  return a.op === "var" && a.name === STEP_VAR && b.op === "const" && b.value === 0;
}

/** The expression with every `select(step == 0, …)` decided (and `step` = 0 on the first). */
function specialize(e: VExpr, first: boolean): VExpr {
  const go = (x: VExpr): VExpr => {
    switch (x.op) {
      case "select":
        if (isFirstTest(x.cond)) return go(first ? x.a : x.b);
        return vselect(go(x.cond), go(x.a), go(x.b));
      case "unary":
        return vunary(x.fn, go(x.x));
      case "cast":
        return vcast(go(x.x), x.dtype);
      case "binary":
        return vbinary(x.fn, go(x.a), go(x.b));
      case "cmp":
        return vcmp(x.fn, go(x.a), go(x.b));
      case "reduce":
        return { ...x, body: go(x.body) };
      default:
        return x;
    }
  };
  const out = go(e);
  return first ? substV(out, new Map([[STEP_VAR, ic(0)]])) : out;
}

function readsFirst(e: VExpr): boolean {
  if (e.op === "select" && isFirstTest(e.cond)) return true;
  return childrenOf(e).some(readsFirst);
}

/** The column of a store of the state (primary output, a state column), when the state lives in workgroup memory. */
function stateStore(w: ScanWriter, st: Store, _n?: string): IExpr | undefined {
  if (w.stateColumns === 0 || st.binding !== w.kernel.bindings.length - 1) return undefined;
  const col = st.index[st.index.length - 1]!;
  return rangeOf(col)[1] < w.stateColumns ? col : undefined;
}

function childrenOf(e: VExpr): VExpr[] {
  switch (e.op) {
    case "unary":
    case "cast":
      return [e.x];
    case "binary":
    case "cmp":
      return [e.a, e.b];
    case "select":
      return [e.cond, e.a, e.b];
    case "reduce":
      return [e.body];
    default:
      return [];
  }
}

/** `a * b` with one factor independent of `n` and the other a vec4 load along it. */
function vecFactors(
  body: VExpr,
  n: string,
  isVec: (e: VExpr) => boolean,
): { scalar: VExpr; vec: Extract<VExpr, { op: "load" }> } | undefined {
  if (body.op !== "binary" || body.fn !== "mul" || body.dtype !== "f32") return undefined;
  if (!varsOf(body.a).has(n) && isVec(body.b)) return { scalar: body.a, vec: body.b as never };
  if (!varsOf(body.b).has(n) && isVec(body.a)) return { scalar: body.b, vec: body.a as never };
  return undefined;
}

/** Subexpressions that occur more than once across the values (by text), innermost first. */
function sharedSubtrees(values: VExpr[]): VExpr[][] {
  const byKey = new Map<string, VExpr[]>();
  const order: string[] = [];
  const visit = (e: VExpr) => {
    if (e.op === "const" || e.op === "load" || e.op === "index" || e.op === "test") return;
    if (e.op === "reduce") return;
    for (const c of childrenOf(e)) visit(c);
    const key = printV(e);
    const list = byKey.get(key);
    if (list) list.push(e);
    else {
      byKey.set(key, [e]);
      order.push(key);
    }
  };
  for (const v of values) visit(v);
  return order.map((k) => byKey.get(k)!).filter((l) => l.length > 1);
}

export function emitScanKernel(k: Kernel): string {
  const stores: Store[] = [
    { binding: k.bindings.length - 1, index: k.store, value: k.body },
    ...(k.stores ?? []),
  ];
  const s = k.schedule;
  const tiled = s.kind === "tiled";
  const mDim = tiled ? s.m : null;
  const nDim = tiled ? s.n : null;
  const TM = tiled ? s.tm : 1;
  const TN = tiled ? s.tn : 1;
  const mVar = mDim === null ? undefined : k.space[mDim]!;
  const nVar = nDim === null ? undefined : k.space[nDim]!;

  // The reductions, by identity up to their variables' names.
  const reduces = new Map<string, { id: number; rep: Reduce; all: VExpr[] }>();
  for (const st of stores) {
    for (const r of reducesOf(st.value)) {
      const key = reduceKey(r);
      const hit = reduces.get(key);
      if (hit) hit.all.push(r);
      else reduces.set(key, { id: reduces.size, rep: r, all: [r] });
    }
  }

  // Bindings read (and written) four columns at a time.
  const probe = new ScanWriter(k);
  const vec4 = nVar && TN === 4 ? vectorBindings(probe, stores, nVar.name) : new Set<number>();
  const w = new ScanWriter(k, vec4);
  w.stateColumns = k.loop?.persistent ? (k.loop.state ?? 0) : 0;
  const lines: string[] = [];

  const tileName = (d: number) =>
    d === mDim || d === nDim ? `${k.space[d]!.name}_t` : k.space[d]!.name;
  const tileExtent = (d: number) =>
    d === mDim
      ? Math.ceil(k.space[d]!.extent / TM)
      : d === nDim
        ? Math.ceil(k.space[d]!.extent / TN)
        : k.space[d]!.extent;

  /** The loops of every reduction for the tile's rows, the state read as at step 0 or later. */
  const reductionLoops = (first: boolean | undefined, indent: string): string[] => {
    const out: string[] = [];
    const groups = new Map<string, { id: number; rep: Reduce }[]>();
    for (const r of reduces.values()) {
      const sig = r.rep.vars.map((v) => v.extent).join(",");
      groups.set(sig, [...(groups.get(sig) ?? []), r]);
    }
    const env = (i: number, l: number): Env => {
      const e = new Map<string, string>();
      if (mVar) e.set(mVar.name, `${mVar.name}_${i}`);
      if (nVar) e.set(nVar.name, l === 0 ? "n0" : `(n0 + ${l})`);
      return e;
    };
    let L = 0;
    for (const group of groups.values()) {
      const loop = L++;
      const vars = group[0]!.rep.vars;
      let ind = indent;
      vars.forEach((v, d) => {
        const r = `r${loop}_${d}`;
        out.push(`${ind}for (var ${r}: i32 = 0; ${r} < ${opaqueCount(v.extent)}; ${r}++) {`);
        ind += "  ";
      });
      const block: Block = { lines: out, indent: ind };
      const lets = new Map<string, string>();
      const bind = (text: string) => {
        if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(text)) return text;
        let name = lets.get(text);
        if (!name) {
          name = `f${loop}_${lets.size}`;
          lets.set(text, name);
          out.push(`${ind}let ${name} = ${text};`);
        }
        return name;
      };
      for (const r of group) {
        const renamed = new Map(
          r.rep.vars.map((v, d): [string, IExpr] => [
            v.name,
            { op: "var", name: `r${loop}_${d}`, extent: v.extent },
          ]),
        );
        const body = substV(
          first === undefined ? r.rep.body : specialize(r.rep.body, first),
          renamed,
        );
        const isVec = (e: VExpr) =>
          e.op === "load" &&
          vec4.has(e.binding) &&
          alignedAlong(w.flat(e.binding, e.index), nVar!.name);
        const f = nVar && TN === 4 ? vecFactors(body, nVar.name, isVec) : undefined;
        for (let i = 0; i < TM; i++) {
          let x: string;
          if (TN === 1) x = bind(w.v(body, env(i, 0), block));
          else if (f) {
            const sc = bind(w.v(f.scalar, env(i, 0), block));
            const at = w.i(vec4Index(w.flat(f.vec.binding, f.vec.index), nVar!), env(i, 0), block);
            x = `${sc} * ${bind(`${w.bindingName(f.vec.binding)}[${at}]`)}`;
          } else {
            x = `vec4<f32>(${[0, 1, 2, 3].map((l) => bind(w.v(body, env(i, l), block))).join(", ")})`;
          }
          const acc = `acc${r.id}_${i}`;
          if (r.rep.kind === "sum") out.push(`${ind}${acc} += ${x};`);
          else {
            const tmp = bind(x);
            out.push(`${ind}${acc} = select(${acc}, ${tmp}, ${tmp} > ${acc} || ${tmp} != ${tmp});`);
          }
        }
      }
      for (let d = vars.length - 1; d >= 0; d--) {
        ind = ind.slice(2);
        out.push(`${ind}}`);
      }
    }
    return out;
  };

  /** The tile: reductions, then the epilogue element by element. */
  const compute = (indent: string): string[] => {
    const out = splitIndex(
      w,
      k.space.map((_, d) => tileName(d)),
      k.space.map((_, d) => tileExtent(d)),
      k.threads,
    ).map((l) => indent + l.trimStart());
    if (mVar) {
      out.push(`${indent}let m0 = ${mVar.name}_t * ${TM};`);
      for (let i = 0; i < TM; i++)
        out.push(`${indent}let ${mVar.name}_${i} = min(m0 + ${i}, ${mVar.extent - 1});`);
    }
    if (nVar) out.push(`${indent}let n0 = ${nVar.name}_t * ${TN};`);
    const elem = TN === 4 ? "vec4<f32>" : undefined;
    for (const r of reduces.values()) {
      const t = elem ?? r.rep.dtype;
      const init = literal(reduceInit(r.rep.kind, r.rep.dtype), r.rep.dtype, w.helpers);
      for (let i = 0; i < TM; i++) out.push(`${indent}var acc${r.id}_${i} = ${t}(${init});`);
    }
    // Small steps select the state inside the loop: one copy of it compiles faster.
    const big =
      stepMacs(
        k.space,
        stores.map((st) => st.value),
      ) >= SMALL_STEP_MACS;
    if (big && [...reduces.values()].some((r) => readsFirst(r.rep))) {
      out.push(`${indent}if (step == 0) {`, ...reductionLoops(true, `${indent}  `));
      out.push(`${indent}} else {`, ...reductionLoops(false, `${indent}  `), `${indent}}`);
    } else {
      out.push(...reductionLoops(undefined, indent));
    }

    // The epilogue, row by row in straight-line code: every output of the row's
    // columns as one vector expression (on a CPU adapter, memory accesses in loops
    // compile several times slower), shared subexpressions bound once.
    const lw = nVar && TN === 4 ? new LaneWriter(w, nVar, vec4, out) : undefined;
    for (let i = 0; i < TM; i++) {
      const env = (l: number): Env => {
        const e = new Map<string, string>();
        if (mVar) e.set(mVar.name, `${mVar.name}_${i}`);
        if (nVar) e.set(nVar.name, l === 0 ? "n0" : `(n0 + ${l})`);
        return e;
      };
      const rowStores: string[] = [];
      const block: Block = { lines: out, indent };
      const acc = new Map<VExpr, string>();
      for (const r of reduces.values()) for (const inst of r.all) acc.set(inst, `acc${r.id}_${i}`);
      if (lw) {
        lw.start(env, acc, indent);
        for (const st of stores) rowStores.push(...lw.store(st));
      } else {
        for (const [inst, name] of acc) w.replaced.set(inst, name);
        const en = env(0);
        for (const sub of sharedSubtrees(stores.map((st) => st.value))) {
          const name = w.fresh("e");
          out.push(`${indent}let ${name} = ${w.v(sub[0]!, en, block)};`);
          for (const inst of sub) w.replaced.set(inst, name);
        }
        for (const st of stores) {
          const b = k.bindings[st.binding]!;
          const value = w.v(st.value, en, block);
          const at = w.i(w.flat(st.binding, st.index), en, block);
          const text = `${w.bindingName(st.binding)}[${at}] = ${b.dtype === "bool" ? `select(0u, 1u, ${value})` : value};`;
          rowStores.push(st.when ? `if (${w.cond(st.when, en, block)}) { ${text} }` : text);
          const state = stateStore(w, st);
          if (state)
            rowStores.push(
              `nnc_state[(step % 2) * ${w.stateColumns} + ${w.i(state, en, block)}] = ${value};`,
            );
        }
        w.replaced.clear();
      }
      // Rows past the edge (clamped above) compute but do not store.
      const edge = mVar && mVar.extent % TM !== 0 && i > 0;
      if (edge)
        out.push(
          `${indent}if (m0 + ${i} < ${mVar!.extent}) {`,
          ...rowStores.map((x) => `${indent}  ${x}`),
          `${indent}}`,
        );
      else out.push(...rowStores.map((x) => `${indent}${x}`));
    }
    return out;
  };

  if (k.loop?.persistent) {
    const W = k.workgroup[0] * k.workgroup[1] * k.workgroup[2];
    lines.push(`  for (var step: i32 = 0; step < ${opaqueCount(k.loop.steps)}; step++) {`);
    if (k.threads <= W) {
      // One tile per invocation: no loop around the tile (a divergent loop costs a CPU adapter).
      lines.push("    let gid = i32(lid);", `    if (gid < ${k.threads}) {`);
    } else {
      lines.push(`    for (var gid: i32 = i32(lid); gid < ${k.threads}; gid += ${W}) {`);
    }
    lines.push(...compute("      "));
    lines.push("    }");
    // Every invocation's state of step t is written before any reads it at step t + 1
    // (in workgroup memory, or in the previous row of the result).
    lines.push(w.stateColumns > 0 ? "    workgroupBarrier();" : "    storageBarrier();");
    lines.push("  }");
  } else {
    if (readsStepUniform(k)) lines.push(STEP_LINE);
    lines.push(...invocationPrologue(k));
    lines.push(...compute("  "));
  }

  const decls = k.bindings.map((b, i) => {
    const access = b.role === "read" ? "read" : "read_write";
    const elem = vec4.has(i) ? "vec4<f32>" : storageType(b.dtype);
    return `@group(0) @binding(${i}) var<storage, ${access}> ${w.bindingName(i)}: array<${elem}>;`;
  });
  if (readsStepUniform(k)) decls.push(...stepUniformDecl(k.bindings.length));
  if (w.stateColumns > 0)
    decls.push(`var<workgroup> nnc_state: array<f32, ${2 * w.stateColumns}>;`);
  const helpers = helperText(w.helpers);
  const scan = k.sources[0];
  const what = k.loop?.persistent ? "all steps of" : "one step of";
  return [
    `// ${k.name}: ${what} %${scan?.node} scan${scan?.at ? ` @ ${scan.at}` : ""}, fused`,
    ...decls,
    ...(helpers ? ["", helpers] : []),
    "",
    `@compute @workgroup_size(${k.workgroup.join(", ")})`,
    "fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {",
    ...lines,
    "}",
    "",
  ].join("\n");
}

/**
 * The vec4 element of an index aligned along the columns (alignedAlong): the
 * flat index over 4 with the column as 4·n_t, so no division (a signed one
 * costs every lane of every load on a CPU adapter).
 */
function vec4Index(flat: IExpr, n: { name: string; extent: number }): IExpr {
  const { terms, c } = linearTerms(flat);
  let at: IExpr = ic(c / 4);
  for (const t of terms) {
    const unit = t.atom.op === "var" && t.atom.name === n.name;
    at = iadd(at, unit ? ivar(`${n.name}_t`, Math.ceil(n.extent / 4)) : imul(t.atom, t.coef / 4));
  }
  return at;
}

/**
 * f32 bindings of 4-aligned size accessed four columns at a time somewhere (a
 * reduction factor or an epilogue load aligned along the columns) whose every
 * store is such a vec4 too; their other accesses index single elements.
 */
function vectorBindings(w: ExprWriter, stores: Store[], n: string): Set<number> {
  const aligned = new Set<number>();
  const scalarStore = new Set<number>();
  const fits = (b: number) => {
    const binding = w.kernel.bindings[b]!;
    return binding.dtype === "f32" && binding.shape.reduce((a, d) => a * d, 1) % 4 === 0;
  };
  const visit = (e: VExpr) => {
    if (e.op === "load") {
      if (fits(e.binding) && alignedAlong(w.flat(e.binding, e.index), n)) aligned.add(e.binding);
      return;
    }
    for (const c of childrenOf(e)) visit(c);
  };
  for (const st of stores) {
    visit(st.value);
    const whenOk = !st.when || !varsOf(st.when).has(n);
    if (fits(st.binding) && whenOk && alignedAlong(w.flat(st.binding, st.index), n))
      aligned.add(st.binding);
    else scalarStore.add(st.binding);
  }
  for (const b of scalarStore) aligned.delete(b);
  return aligned;
}

/**
 * Prints value expressions over the four columns n0 … n0+3 at once: vec4
 * where a value varies along the columns, scalar where it does not. Aligned
 * loads of vec4 bindings read one vec4; what has no vector form is built lane
 * by lane. Every intermediate is a `let`, identical ones bound once (across
 * the rows of a tile too, when they do not depend on the row).
 */
class LaneWriter {
  private readonly lets = new Map<string, string>();
  private env: (l: number) => Env = () => new Map();
  private acc: ReadonlyMap<VExpr, string> = new Map();
  private indent = "";

  readonly n: string;

  constructor(
    readonly w: ExprWriter,
    readonly nVar: { name: string; extent: number },
    readonly vec4: ReadonlySet<number>,
    readonly lines: string[],
  ) {
    this.n = nVar.name;
  }

  /** The next row: its variables and accumulators. */
  start(env: (l: number) => Env, acc: ReadonlyMap<VExpr, string>, indent: string): void {
    this.env = env;
    this.acc = acc;
    this.indent = indent;
  }

  private get block(): Block {
    return { lines: this.lines, indent: this.indent };
  }

  private bind(text: string): string {
    if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(text) || /^\(?-?[0-9.]+f?\)?$/.test(text)) return text;
    let name = this.lets.get(text);
    if (!name) {
      name = this.w.fresh("v");
      this.lets.set(text, name);
      this.lines.push(`${this.indent}let ${name} = ${text};`);
    }
    return name;
  }

  private varies(e: VExpr): boolean {
    if (this.acc.has(e)) return true;
    if (e.op === "reduce") return true;
    if (e.op === "load" || e.op === "index" || e.op === "test") return varsOf(e).has(this.n);
    return childrenOf(e).some((c) => this.varies(c));
  }

  private splat(x: { text: string; vec: boolean }, t: string): string {
    return x.vec ? x.text : `vec4<${t}>(${x.text})`;
  }

  private perLane(e: VExpr): { text: string; vec: boolean } {
    const parts = [0, 1, 2, 3].map((l) => this.w.v(e, this.env(l), this.block));
    return { text: this.bind(`vec4<${e.dtype}>(${parts.join(", ")})`), vec: true };
  }

  v(e: VExpr): { text: string; vec: boolean } {
    const a = this.acc.get(e);
    if (a !== undefined) return { text: a, vec: true };
    if (!this.varies(e))
      return { text: this.bind(this.w.v(e, this.env(0), this.block)), vec: false };
    switch (e.op) {
      case "load": {
        const flat = this.w.flat(e.binding, e.index);
        if ((this.w as ScanWriter).readsState(e)) return this.perLane(e);
        if (!this.vec4.has(e.binding) || !alignedAlong(flat, this.n)) return this.perLane(e);
        const at = this.w.i(vec4Index(flat, this.nVar), this.env(0), this.block);
        return { text: this.bind(`${this.w.bindingName(e.binding)}[${at}]`), vec: true };
      }
      case "unary": {
        const x = this.v(e.x);
        const t = e.dtype;
        const f: Partial<Record<string, (x: string) => string>> = {
          neg: (x) => `(-${x})`,
          not: (x) => `(!${x})`,
          abs: (x) => `abs(${x})`,
          exp: (x) => `exp(${x})`,
          log: (x) => `log(${x})`,
          sqrt: (x) => `sqrt(${x})`,
          rsqrt: (x) => `inverseSqrt(${x})`,
          floor: (x) => `floor(${x})`,
          ceil: (x) => `ceil(${x})`,
          relu: (x) => `max(${x}, vec4<${t}>(${t === "i32" ? "0i" : "0.0f"}))`,
          tanh: (x) => `tanh(clamp(${x}, vec4<f32>(-15.0f), vec4<f32>(15.0f)))`,
          sigmoid: (x) => `(1.0f / (1.0f + exp(-${x})))`,
        };
        const g = f[e.fn];
        return g ? { text: this.bind(g(this.splat(x, t))), vec: true } : this.perLane(e);
      }
      case "binary": {
        const t = e.dtype;
        if (e.fn === "add" || e.fn === "sub" || e.fn === "mul" || e.fn === "div") {
          const a = this.v(e.a);
          const b = this.v(e.b);
          const sym = { add: "+", sub: "-", mul: "*", div: "/" }[e.fn];
          return { text: this.bind(`(${a.text} ${sym} ${b.text})`), vec: true };
        }
        if (e.fn === "max" || e.fn === "min") {
          const a = this.v(e.a);
          const b = this.v(e.b);
          return {
            text: this.bind(`${e.fn}(${this.splat(a, t)}, ${this.splat(b, t)})`),
            vec: true,
          };
        }
        if (e.fn === "and" || e.fn === "or") {
          const a = this.v(e.a);
          const b = this.v(e.b);
          const sym = e.fn === "and" ? "&" : "|";
          return { text: this.bind(`(${this.splat(a, t)} ${sym} ${this.splat(b, t)})`), vec: true };
        }
        return this.perLane(e);
      }
      case "cmp": {
        if (e.a.dtype === "bool" && e.fn !== "eq" && e.fn !== "ne") return this.perLane(e);
        const a = this.v(e.a);
        const b = this.v(e.b);
        const sym = { eq: "==", ne: "!=", lt: "<", le: "<=", gt: ">", ge: ">=" }[e.fn];
        const text = `(${this.splat(a, e.a.dtype)} ${sym} ${this.splat(b, e.b.dtype)})`;
        return { text: this.bind(text), vec: true };
      }
      case "select": {
        const c = this.v(e.cond);
        const a = this.v(e.a);
        const b = this.v(e.b);
        const t = e.dtype;
        return {
          text: this.bind(`select(${this.splat(b, t)}, ${this.splat(a, t)}, ${c.text})`),
          vec: true,
        };
      }
      case "cast": {
        const x = this.v(e.x);
        if (e.dtype === "bool") {
          const zero = e.x.dtype === "f32" ? "0.0f" : e.x.dtype === "i32" ? "0i" : "false";
          const text = `(${this.splat(x, e.x.dtype)} != vec4<${e.x.dtype}>(${zero}))`;
          return { text: this.bind(text), vec: true };
        }
        return { text: this.bind(`vec4<${e.dtype}>(${this.splat(x, e.x.dtype)})`), vec: true };
      }
      default:
        return this.perLane(e);
    }
  }

  /** The statements storing four columns of `st`: one vec4 where aligned, else lane by lane. */
  store(st: Store): string[] {
    const w = this.w;
    const b = w.kernel.bindings[st.binding]!;
    const name = w.bindingName(st.binding);
    const flat = w.flat(st.binding, st.index);
    const x = this.v(st.value);
    const state = stateStore(w as ScanWriter, st, this.n);
    if (state) {
      const lanes = [0, 1, 2, 3].map((l) => {
        const en = this.env(l);
        const col = w.i(state, en, this.block);
        return `nnc_state[(step % 2) * ${(w as ScanWriter).stateColumns} + ${col}] = ${x.vec ? `${x.text}[${l}]` : x.text};`;
      });
      return [...this.globalStore(st, name, flat, x, b.dtype), ...lanes];
    }
    return this.globalStore(st, name, flat, x, b.dtype);
  }

  private globalStore(
    st: Store,
    name: string,
    flat: IExpr,
    x: { text: string; vec: boolean },
    dtype: string,
  ): string[] {
    const w = this.w;
    const b = { dtype };
    const uniformWhen = !st.when || !varsOf(st.when).has(this.n);
    if (this.vec4.has(st.binding) && uniformWhen && alignedAlong(flat, this.n)) {
      const text = `${name}[${w.i(vec4Index(flat, this.nVar), this.env(0), this.block)}] = ${this.splat(x, "f32")};`;
      return [st.when ? `if (${w.cond(st.when, this.env(0), this.block)}) { ${text} }` : text];
    }
    return [0, 1, 2, 3].map((l) => {
      const en = this.env(l);
      const value = x.vec ? `${x.text}[${l}]` : x.text;
      const text = `${name}[${w.i(flat, en, this.block)}] = ${b.dtype === "bool" ? `select(0u, 1u, ${value})` : value};`;
      return st.when ? `if (${w.cond(st.when, en, this.block)}) { ${text} }` : text;
    });
  }
}
