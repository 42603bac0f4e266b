// A host interpreter of the Kernel IR: every kernel evaluated element by
// element, each scalar function rounded to its type as the CPU reference ops
// and the GPU round it (ops/scalar.ts); sums accumulate in float64.
// It checks lowering against the Graph IR interpreter without a GPU; the
// WGSL emitter is then checked against it. Loads outside a binding throw:
// a correct lowering only reads out of range on a branch it does not take.

import { allocData, type Tensor } from "../core/tensor.js";
import { numel, stridesOf } from "../core/types.js";
import { castScalar, cmpTable, evalBinary, evalCmp, evalUnary } from "../ops/scalar.js";
import type { ICond, IExpr, VExpr } from "./expr.js";
import { reduceInit } from "./expr.js";
import { type Kernel, type KernelProgram, STEP_VAR } from "./ir.js";
import { freeVars } from "./schedule.js";

type Env = number[];
type Fn = (env: Env) => number;
type Arrays = ArrayLike<number>[];

/** Variable name → slot in the environment array. */
class Slots {
  readonly slots = new Map<string, number>();
  of(name: string): number {
    let s = this.slots.get(name);
    if (s === undefined) {
      s = this.slots.size;
      this.slots.set(name, s);
    }
    return s;
  }
}

function compileI(e: IExpr, s: Slots, data: Arrays, k: Kernel): Fn {
  switch (e.op) {
    case "const": {
      const v = e.value;
      return () => v;
    }
    case "var": {
      const slot = s.of(e.name);
      return (env) => env[slot]!;
    }
    case "value":
      return compileV(e.v, s, data, k);
    case "select": {
      const c = compileC(e.cond, s, data, k);
      const a = compileI(e.a, s, data, k);
      const b = compileI(e.b, s, data, k);
      return (env) => (c(env) ? a(env) : b(env));
    }
  }
  const a = compileI(e.a, s, data, k);
  const b = compileI(e.b, s, data, k);
  switch (e.op) {
    case "add":
      return (env) => a(env) + b(env);
    case "sub":
      return (env) => a(env) - b(env);
    case "mul":
      return (env) => a(env) * b(env);
    case "div":
      return (env) => Math.floor(a(env) / b(env));
    case "mod":
      return (env) => {
        const d = b(env);
        return ((a(env) % d) + d) % d;
      };
    case "min":
      return (env) => Math.min(a(env), b(env));
    case "max":
      return (env) => Math.max(a(env), b(env));
  }
}

function compileC(c: ICond, s: Slots, data: Arrays, k: Kernel): (env: Env) => boolean {
  if (c.op === "bool") {
    const v = c.value;
    return () => v;
  }
  if (c.op === "and" || c.op === "or") {
    const a = compileC(c.a, s, data, k);
    const b = compileC(c.b, s, data, k);
    return c.op === "and" ? (env) => a(env) && b(env) : (env) => a(env) || b(env);
  }
  const cmp = c as Extract<ICond, { a: IExpr }>;
  const a = compileI(cmp.a, s, data, k);
  const b = compileI(cmp.b, s, data, k);
  const test = cmpTable[cmp.op].f;
  return (env) => test(a(env), b(env));
}

function compileV(e: VExpr, s: Slots, data: Arrays, k: Kernel): Fn {
  switch (e.op) {
    case "const": {
      const v = e.value;
      return () => v;
    }
    case "load": {
      const binding = k.bindings[e.binding]!;
      const strides = stridesOf(binding.shape);
      const idx = e.index.map((i) => compileI(i, s, data, k));
      const size = numel(binding.shape);
      const arr = data[e.binding]!;
      return (env) => {
        let flat = 0;
        for (let d = 0; d < idx.length; d++) {
          const i = idx[d]!(env);
          if (i < 0 || i >= binding.shape[d]!) {
            throw new Error(`${k.name}: in${e.binding} read out of range at dim ${d}: ${i}`);
          }
          flat += i * strides[d]!;
        }
        if (flat >= size) throw new Error(`${k.name}: in${e.binding} read out of range`);
        return arr[flat]!;
      };
    }
    case "index":
      return compileI(e.index, s, data, k);
    case "test": {
      const c = compileC(e.cond, s, data, k);
      return (env) => (c(env) ? 1 : 0);
    }
    case "unary": {
      const x = compileV(e.x, s, data, k);
      const { fn, dtype } = e;
      return (env) => evalUnary(fn, x(env), dtype);
    }
    case "binary": {
      const a = compileV(e.a, s, data, k);
      const b = compileV(e.b, s, data, k);
      const { fn, dtype } = e;
      return (env) => evalBinary(fn, a(env), b(env), dtype);
    }
    case "cmp": {
      const a = compileV(e.a, s, data, k);
      const b = compileV(e.b, s, data, k);
      const fn = e.fn;
      return (env) => evalCmp(fn, a(env), b(env));
    }
    case "select": {
      const c = compileV(e.cond, s, data, k);
      const a = compileV(e.a, s, data, k);
      const b = compileV(e.b, s, data, k);
      return (env) => (c(env) !== 0 ? a(env) : b(env));
    }
    case "cast": {
      const x = compileV(e.x, s, data, k);
      const from = e.x.dtype;
      const to = e.dtype;
      return (env) => castScalar(x(env), from, to);
    }
    case "reduce": {
      const body = compileV(e.body, s, data, k);
      const slots = e.vars.map((v) => s.of(v.name));
      const extents = e.vars.map((v) => v.extent);
      const init = reduceInit(e.kind, e.dtype);
      const sum = e.kind === "sum";
      // A reduce read again at the same free indices (softmax's max inside its sum) is not redone.
      const free = [...freeVars(e)].map((name) => s.of(name));
      let lastKey: string | undefined;
      let last = 0;
      return (env) => {
        const key = free.map((f) => env[f]).join(",");
        if (key === lastKey) return last;
        let acc = init;
        const loop = (d: number) => {
          if (d === slots.length) {
            const x = body(env);
            if (sum) acc += x;
            else if (x > acc || Number.isNaN(x)) acc = x;
            return;
          }
          for (let i = 0; i < extents[d]!; i++) {
            env[slots[d]!] = i;
            loop(d + 1);
          }
        };
        loop(0);
        lastKey = key;
        last = acc;
        return acc;
      };
    }
  }
}

/**
 * Runs one kernel over its whole iteration space, writing its output array
 * (and, for a fused scan step, its other stores); `step` is a loop kernel's step.
 */
export function runKernel(
  k: Kernel,
  data: Arrays,
  out: { [i: number]: number },
  step?: number,
): void {
  const s = new Slots();
  const body = compileV(k.body, s, data, k);
  const write = k.bindings[k.bindings.length - 1]!;
  const strides = stridesOf(write.shape);
  const store = k.store.map((e) => compileI(e, s, data, k));
  const extra = (k.stores ?? []).map((st) => ({
    target: data[st.binding] as unknown as { [i: number]: number },
    strides: stridesOf(k.bindings[st.binding]!.shape),
    index: st.index.map((e) => compileI(e, s, data, k)),
    value: compileV(st.value, s, data, k),
    when: st.when ? compileC(st.when, s, data, k) : undefined,
    i32: k.bindings[st.binding]!.dtype === "i32",
  }));
  const space = k.space.map((v) => ({ slot: s.of(v.name), extent: v.extent }));
  const stepSlot = s.of(STEP_VAR);
  const env: Env = new Array<number>(s.slots.size + 64).fill(0);
  env[stepSlot] = step ?? 0;
  const total = numel(k.space.map((v) => v.extent));
  for (let flat = 0; flat < total; flat++) {
    let rest = flat;
    for (let d = space.length - 1; d >= 0; d--) {
      env[space[d]!.slot] = rest % space[d]!.extent;
      rest = Math.floor(rest / space[d]!.extent);
    }
    let o = 0;
    for (let d = 0; d < store.length; d++) o += store[d]!(env) * strides[d]!;
    // Every value first, then the stores: an invocation may read what it overwrites.
    const v = body(env);
    const more = extra.map((x) => (x.when && !x.when(env) ? undefined : x.value(env)));
    out[o] = write.dtype === "i32" ? castScalar(v, "i32", "i32") : v;
    extra.forEach((x, i) => {
      const val = more[i];
      if (val === undefined) return;
      let at = 0;
      for (let d = 0; d < x.index.length; d++) at += x.index[d]!(env) * x.strides[d]!;
      x.target[at] = x.i32 ? castScalar(val, "i32", "i32") : val;
    });
  }
}

/** Runs a program on host tensors; returns its outputs by name. */
export function interpretProgram(
  program: KernelProgram,
  inputs: Map<string, Tensor>,
  params: Map<string, Tensor>,
): Map<string, Tensor> {
  const values = program.buffers.map((b) => {
    const n = numel(b.shape);
    const src = b.source;
    let t: Tensor | undefined;
    if (src.kind === "input") t = inputs.get(src.name);
    if (src.kind === "param") t = params.get(src.name);
    if ((src.kind === "input" || src.kind === "param") && t === undefined) {
      throw new Error(`interpretProgram: ${src.kind} \`${src.name}\` was not supplied`);
    }
    const data = allocData(b.dtype, n);
    if (t) {
      data.set(t.data as never);
    } else if (src.kind === "const") {
      src.values.forEach((v, i) => {
        (data as Float32Array)[i] = v;
      });
    }
    return data;
  });
  const run = (k: Kernel, step?: number) => {
    const reads = k.bindings.map((b) => values[b.buffer] as ArrayLike<number>);
    const write = k.bindings[k.bindings.length - 1]!;
    runKernel(k, reads, values[write.buffer] as unknown as { [i: number]: number }, step);
  };
  const ks = program.kernels;
  for (let i = 0; i < ks.length; ) {
    const loop = ks[i]!.loop;
    if (!loop) {
      run(ks[i++]!);
      continue;
    }
    // A recurrence: its kernels in order, once per step (a persistent kernel means the same).
    let j = i;
    while (j < ks.length && ks[j]!.loop?.id === loop.id) j++;
    for (let step = 0; step < loop.steps; step++) for (let q = i; q < j; q++) run(ks[q]!, step);
    i = j;
  }
  return new Map(
    program.outputs.map((o) => {
      const b = program.buffers[o.buffer]!;
      return [o.name, { dtype: b.dtype, shape: [...b.shape], data: values[o.buffer]! }];
    }),
  );
}
