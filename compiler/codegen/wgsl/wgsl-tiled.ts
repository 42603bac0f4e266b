// Register-tiled contractions (matmul, conv as implicit GEMM): the body is
// epilogue(sum[k…](a * b)). One invocation computes a TM × TN tile of the
// space (rows along dim m, columns along dim n, columns in vec4s); per step
// of k it evaluates the factor that does not depend on n once per row and
// the other once per column, so each load serves a whole row or column of
// the tile. No workgroup memory: on a CPU adapter (lavapipe) barriers cost
// more than they save. Loads go vec4 where the flat index is aligned along
// n, along m (4 rows in one load: a conv weight in HWIO layout), or along
// the innermost k (then k is unrolled by 4); rows and columns past the edge
// clamp their index and skip the store.

import type { VExpr } from "../../kernels/expr.js";
import type { Kernel } from "../../kernels/ir.js";
import { alignedAlong, tiledLoads, tileFactors } from "../../kernels/vectorize.js";
import { type Env, ExprWriter, opaqueCount } from "./wgsl-expr.js";
import { invocationPrologue, splitIndex } from "./wgsl-invocation.js";

const lane = ["x", "y", "z", "w"];

export function emitTiledMain(k: Kernel): { writer: ExprWriter; lines: string[] } {
  const f = tileFactors(k);
  if (f === undefined) throw new Error(`${k.name}: not a tiled contraction`);
  const { s, r, mVar, nVar, R, C, kv, rPerI, cPerI, cDepN } = f;
  const M = mVar?.extent ?? 1;
  const N = nVar.extent;
  const TM = s.tm;
  const TN = s.tn;
  const groups = TN / 4;

  const { nVec, mVec, rK, cK, U, slide } = tiledLoads(k);
  const probe = new ExprWriter(k);
  const outIdx = k.bindings.length - 1;
  const outF32 = k.bindings[outIdx]!.dtype === "f32";
  const outVec =
    outF32 &&
    N % 4 === 0 &&
    numelOf(k.bindings[outIdx]!.shape) % 4 === 0 &&
    alignedAlong(probe.flat(outIdx, k.store), nVar.name);
  const vec4 = new Set<number>();
  if ((rK || mVec) && R.op === "load") vec4.add(R.binding);
  if ((nVec || cK) && C.op === "load") vec4.add(C.binding);
  if (outVec) vec4.add(outIdx);
  const w = new ExprWriter(k, vec4);

  const lines = [...invocationPrologue(k)];
  const tileName = (d: number) =>
    d === s.m ? `${mVar!.name}_t` : d === s.n ? `${nVar.name}_t` : k.space[d]!.name;
  const tileExtent = (d: number) =>
    d === s.m ? Math.ceil(M / TM) : d === s.n ? Math.ceil(N / TN) : k.space[d]!.extent;
  lines.push(
    ...splitIndex(
      w,
      k.space.map((_, d) => tileName(d)),
      k.space.map((_, d) => tileExtent(d)),
      k.threads,
    ),
  );
  const m0 = "m0";
  const n0 = "n0";
  lines.push(`  let ${m0} = ${mVar ? `${mVar.name}_t * ${TM}` : "0"};`);
  lines.push(`  let ${n0} = ${nVar.name}_t * ${TN};`);
  const mName = (i: number) => `${mVar!.name}_${i}`;
  const nName = (j: number) => `${nVar.name}_${j}`;
  for (let i = 0; mVar && i < TM; i++) {
    lines.push(
      `  let ${mName(i)} = ${M % TM === 0 ? `${m0} + ${i}` : `min(${m0} + ${i}, ${M - 1})`};`,
    );
  }
  for (let j = 0; j < TN; j++) {
    lines.push(
      `  let ${nName(j)} = ${N % TN === 0 ? `${n0} + ${j}` : `min(${n0} + ${j}, ${N - 1})`};`,
    );
  }
  const env = (i: number, j: number | "vec", rr = 0, g = 0): Env => {
    const e = new Map<string, string>();
    if (mVar) e.set(mVar.name, mName(i));
    e.set(nVar.name, j === "vec" ? `min(${n0} + ${4 * g}, ${N - 4})` : nName(j));
    if (rr > 0) e.set(kv.name, `(${kv.name} + ${rr})`);
    return e;
  };
  const rows = TM;
  const acc = (i: number, g: number) => `acc_${i}_${g}`;
  for (let i = 0; i < rows; i++) {
    for (let g = 0; g < groups; g++) lines.push(`  var ${acc(i, g)} = vec4<f32>(0.0f);`);
  }

  // A sliding window (a stride-1 conv along n): the column factor reads
  // n + r only, so with r unrolled innermost the TN + R − 1 values a row of
  // the tile needs are loaded once and shared by every r.
  const loops = slide ? r.vars.filter((v) => v !== slide.v) : r.vars;

  // The reduction loops; the innermost steps by U.
  let indent = "  ";
  for (const v of loops) {
    const step = v === kv && U > 1 ? `${v.name} += ${U}` : `${v.name}++`;
    // Short constant loops around a tile's loads are unrolled by lavapipe,
    // multiplying the loads LLVM compiles at the first dispatch (a depthwise
    // 3×3 with a 4×4 tile: 9 s unrolled, 0.6 s rolled; mobilenet_v2's first
    // run 143 → 34 s on a loaded machine, its warm run no slower).
    const bound = opaqueCount(v.extent);
    lines.push(`${indent}for (var ${v.name}: i32 = 0; ${v.name} < ${bound}; ${step}) {`);
    indent += "  ";
  }
  const block = { lines, indent };
  const scalar = (e: VExpr, en: Env) => w.v(e, en, block);
  const vecLoad = (e: VExpr, en: Env) => {
    if (e.op !== "load") throw new Error("vecLoad of a non-load");
    return `${w.bindingName(e.binding)}[${w.i(w.flat(e.binding, e.index), en)} / 4]`;
  };
  const overR = (e: VExpr, i: number, j: number) =>
    `vec4<f32>(${[0, 1, 2, 3].map((rr) => scalar(e, env(i, j, rr))).join(", ")})`;

  if (slide) {
    const R_ = slide.v.extent;
    const last = N + R_ - 2;
    for (let q = 0; q < TN + R_ - 1; q++) {
      const at = N % TN === 0 ? `(${n0} + ${q})` : `min(${n0} + ${q}, ${last})`;
      lines.push(`${indent}let sw_${q} = ${scalar(slide.column, new Map([[slide.p, at]]))};`);
    }
    for (let rv = 0; rv < R_; rv++) {
      const at = (i: number) => new Map(env(i, 0)).set(slide.v.name, String(rv));
      for (let q = 0; mVec && q < rows / 4; q++) {
        lines.push(`${indent}let a_${q}_${rv} = ${vecLoad(R, at(4 * q))};`);
      }
      for (let i = 0; !mVec && i < (rPerI ? rows : 1); i++) {
        lines.push(`${indent}let a_${i}_${rv} = ${scalar(R, at(i))};`);
      }
      const a = (i: number) =>
        mVec ? `a_${i >> 2}_${rv}.${lane[i & 3]}` : `a_${rPerI ? i : 0}_${rv}`;
      for (let i = 0; i < rows; i++) {
        for (let g = 0; g < groups; g++) {
          const b = [0, 1, 2, 3].map((jj) => `sw_${4 * g + jj + rv}`).join(", ");
          lines.push(`${indent}${acc(i, g)} += ${a(i)} * vec4<f32>(${b});`);
        }
      }
    }
  }

  // Row factor: one value (U = 1) or vec4 over the 4 unrolled k (U = 4) per
  // row; with mVec, one vec4 per 4 rows (U = 1).
  const aName = (i: number) => (mVec ? `a_${i >> 2}.${lane[i & 3]}` : `a_${rPerI ? i : 0}`);
  for (let q = 0; !slide && mVec && q < rows / 4; q++) {
    lines.push(`${indent}let a_${q} = ${vecLoad(R, env(4 * q, 0))};`);
  }
  for (let i = 0; !slide && !mVec && i < (rPerI ? rows : 1); i++) {
    const value = U === 1 ? scalar(R, env(i, 0)) : rK ? vecLoad(R, env(i, 0)) : overR(R, i, 0);
    lines.push(`${indent}let ${aName(i)} = ${value};`);
  }
  const ci = (i: number) => (cPerI ? i : 0);
  for (let i = 0; !slide && i < (cPerI ? rows : 1); i++) {
    if (U === 1) {
      // Column factor: a vec4 over 4 columns per group.
      for (let g = 0; g < groups; g++) {
        const value = !cDepN
          ? `vec4<f32>(${scalar(C, env(i, 0))})`
          : nVec
            ? vecLoad(C, env(i, "vec", 0, g))
            : `vec4<f32>(${[0, 1, 2, 3].map((jj) => scalar(C, env(i, 4 * g + jj))).join(", ")})`;
        lines.push(`${indent}let b_${i}_${g} = ${value};`);
      }
    } else if (nVec) {
      for (let g = 0; g < groups; g++) {
        for (let rr = 0; rr < 4; rr++) {
          lines.push(`${indent}let b_${i}_${g}_${rr} = ${vecLoad(C, env(i, "vec", rr, g))};`);
        }
      }
    } else {
      // Per column: a vec4 over the 4 unrolled k.
      for (let j = 0; j < (cDepN ? TN : 1); j++) {
        const value = cK ? vecLoad(C, env(i, j)) : overR(C, i, j);
        lines.push(`${indent}let c_${i}_${j} = ${value};`);
      }
    }
  }
  for (let i = 0; !slide && i < rows; i++) {
    const a = aName(i);
    for (let g = 0; g < groups; g++) {
      const c = ci(i);
      let update: string;
      if (U === 1) update = `${a} * b_${c}_${g}`;
      else if (nVec)
        update = [0, 1, 2, 3].map((rr) => `${a}.${lane[rr]} * b_${c}_${g}_${rr}`).join(" + ");
      else {
        const col = (jj: number) => `c_${c}_${cDepN ? 4 * g + jj : 0}`;
        update = `vec4<f32>(${[0, 1, 2, 3].map((jj) => `dot(${a}, ${col(jj)})`).join(", ")})`;
      }
      lines.push(`${indent}${acc(i, g)} += ${update};`);
    }
  }
  for (let d = loops.length - 1; d >= 0; d--) {
    indent = indent.slice(2);
    lines.push(`${indent}}`);
  }

  // Epilogue and stores, element by element (vec4 stores where aligned). An
  // epilogue (bias, activation, residual) runs as a second pass over the
  // tile: the sums are stored, read back and finished. Computed right after
  // the loop, LLVM (lavapipe) schedules its loads early and keeps them live
  // across the loop beside 16 vec4 accumulators, spilling: 10-20% slower.
  const write = k.bindings[outIdx]!;
  const store = (e: string) => (write.dtype === "bool" ? `select(0u, 1u, ${e})` : e);
  const twoPass = k.body !== r && write.dtype === "f32";
  const pass = (body: VExpr, from: "acc" | "out") => {
    for (let i = 0; i < rows; i++) {
      for (let g = 0; g < groups; g++) {
        const guards: string[] = [];
        if (mVar && M % TM !== 0) guards.push(`${m0} + ${i} < ${M}`);
        const inner: string[] = [];
        const sub = { lines: inner, indent: "    " };
        const element = (jj: number, sum: string) => {
          w.replaced.set(r, sum);
          const value = w.v(body, env(i, 4 * g + jj), sub);
          w.replaced.delete(r);
          return value;
        };
        if (outVec) {
          if (N % TN !== 0) guards.push(`${n0} + ${4 * g} < ${N}`);
          const at = w.i(w.flat(outIdx, k.store), env(i, "vec", 0, g));
          if (from === "out") inner.push(`    let s = out[${at} / 4];`);
          const sum = (jj: number) => `${from === "out" ? "s" : acc(i, g)}.${lane[jj]}`;
          const values = [0, 1, 2, 3].map((jj) => element(jj, sum(jj)));
          inner.push(`    out[${at} / 4] = vec4<f32>(${values.join(", ")});`);
        } else {
          for (let jj = 0; jj < 4; jj++) {
            const at = w.i(w.flat(outIdx, k.store), env(i, 4 * g + jj));
            const sum = from === "out" ? `out[${at}]` : `${acc(i, g)}.${lane[jj]}`;
            const value = element(jj, sum);
            const cond = N % TN !== 0 ? `if (${n0} + ${4 * g + jj} < ${N}) ` : "";
            inner.push(`    ${cond}{ out[${at}] = ${store(value)}; }`);
          }
        }
        if (guards.length > 0) {
          lines.push(`  if (${guards.join(" && ")}) {`, ...inner, "  }");
        } else {
          lines.push("  {", ...inner, "  }");
        }
      }
    }
  };
  /**
   * The epilogue as a loop over the tile's vec4s (the sums parked in a
   * private array), with a trip count the driver cannot see: lavapipe unrolls
   * short constant loops, and LLVM spends most of a kernel's first-dispatch
   * JIT time on an unrolled epilogue's scattered loads and stores (a 4×4 tile
   * with a residual add: 3.4 of 6.2 s; resnet18's first run 42 → 24 s on a
   * loaded machine, warm time unchanged). Not unrolled, it also cannot be
   * scheduled into the main loop, so it needs no second pass over memory.
   */
  const looped = () => {
    const T = rows * groups;
    lines.push(`  var accs: array<vec4<f32>, ${T}>;`);
    for (let i = 0; i < rows; i++) {
      for (let g = 0; g < groups; g++) lines.push(`  accs[${i * groups + g}] = ${acc(i, g)};`);
    }
    lines.push(`  for (var t: i32 = 0; t < ${opaqueCount(T)}; t++) {`);
    lines.push(`    let ti = t / ${groups};`);
    lines.push(`    let n4 = ${n0} + 4 * (t % ${groups});`);
    lines.push("    let sum = accs[t];");
    const mi = M % TM === 0 ? `(${m0} + ti)` : `min(${m0} + ti, ${M - 1})`;
    const at = (jj: number | "vec"): Env => {
      const e = new Map<string, string>();
      if (mVar) e.set(mVar.name, mi);
      const col =
        jj === "vec"
          ? `min(n4, ${N - 4})`
          : N % TN === 0
            ? `(n4 + ${jj})`
            : `min(n4 + ${jj}, ${N - 1})`;
      e.set(nVar.name, col);
      return e;
    };
    const guards: string[] = [];
    if (mVar && M % TM !== 0) guards.push(`${m0} + ti < ${M}`);
    const inner: string[] = [];
    const sub = { lines: inner, indent: "      " };
    const element = (jj: number) => {
      w.replaced.set(r, `sum.${lane[jj]}`);
      const value = w.v(k.body, at(jj), sub);
      w.replaced.delete(r);
      return value;
    };
    if (outVec) {
      if (N % TN !== 0) guards.push(`n4 < ${N}`);
      const flat = w.i(w.flat(outIdx, k.store), at("vec"));
      const values = [0, 1, 2, 3].map(element);
      inner.push(`      out[${flat} / 4] = vec4<f32>(${values.join(", ")});`);
    } else {
      for (let jj = 0; jj < 4; jj++) {
        const flat = w.i(w.flat(outIdx, k.store), at(jj));
        const value = element(jj);
        const cond = N % TN !== 0 ? `if (n4 + ${jj} < ${N}) ` : "";
        inner.push(`      ${cond}{ out[${flat}] = ${store(value)}; }`);
      }
    }
    if (guards.length > 0) lines.push(`    if (${guards.join(" && ")}) {`, ...inner, "    }");
    else lines.push("    {", ...inner, "    }");
    lines.push("  }");
  };
  if (rows * groups > 1) {
    looped();
  } else if (twoPass) {
    pass(r, "acc");
    pass(k.body, "out");
  } else {
    pass(k.body, "acc");
  }
  return { writer: w, lines };
}

function numelOf(shape: number[]): number {
  return shape.reduce((a, d) => a * d, 1);
}
