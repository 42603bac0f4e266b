// Binds loaded tensors (from .safetensors, .npy or the seeded initializer) to a graph's
// params before anything runs: every problem in the file is collected and reported at
// once, so one fix-and-retry round sees them all.

import { closest, type Diagnostic, diagnostic, NncError } from "../../compiler/core/diagnostics.js";
import type { Tensor } from "../../compiler/core/tensor.js";
import { type DType, formatType, sameShape } from "../../compiler/core/types.js";
import type { GraphParam } from "../../compiler/graph/graph.js";

const dims = (shape: readonly number[]) => `[${shape.join(", ")}]`;

/**
 * The loaded tensor in the param's dtype, or undefined when it does not convert.
 * Integers convert between i32 and i64 when every value fits; nothing converts to or
 * from f32 (a float param stored as I64 is a wrong file, not a cast to make).
 */
function convert(t: Tensor, to: DType): Tensor | undefined {
  if (t.dtype === to) return t;
  if (to === "i64" && t.dtype === "i32") {
    return { dtype: "i64", shape: t.shape, data: BigInt64Array.from(t.data as Int32Array, BigInt) };
  }
  if (to === "i32" && t.dtype === "i64") {
    const wide = t.data as BigInt64Array;
    const data = new Int32Array(wide.length);
    for (let i = 0; i < wide.length; i++) {
      const v = wide[i]!;
      if (v < -2147483648n || v > 2147483647n) return undefined;
      data[i] = Number(v);
    }
    return { dtype: "i32", shape: t.shape, data };
  }
  return undefined;
}

/** Listed per kind of problem before the rest are only counted. */
const SHOWN_PER_KIND = 5;

/**
 * State-dict entries inference never reads: PyTorch's batch-norm step counter.
 * A checkpoint without them (saved from a model built with
 * track_running_stats tweaks, or converted) still runs; they are bound as zeros.
 */
const notNeededForInference = (p: GraphParam) =>
  p.kind === "buffer" && p.type.dtype === "i64" && /(^|\.)num_batches_tracked$/.test(p.name);

function zeros(p: GraphParam): Tensor {
  const n = p.type.shape.reduce((a, d) => a * d, 1);
  const data =
    p.type.dtype === "i64"
      ? new BigInt64Array(n)
      : p.type.dtype === "f32"
        ? new Float32Array(n)
        : new Int32Array(n);
  return { dtype: p.type.dtype, shape: [...p.type.shape], data };
}

export interface BindOptions {
  /** Told what was accepted though absent (num_batches_tracked), one line. */
  note?: (message: string) => void;
  /** The user's layer a param belongs to, where its declaration is in the stdlib. */
  trace?: (param: GraphParam) => Diagnostic["trace"];
}

/**
 * Checks `loaded` against the params and returns the tensors by param name, each in its
 * param's dtype. Throws one NncError led by a count of the missing (NN6003), unexpected
 * (NN6004), mis-shaped (NN6005) and unconvertible (NN6006) weights, then the first few
 * of each kind. `source` names the file (or other origin) in every message.
 */
export function bindWeights(
  params: readonly GraphParam[],
  loaded: ReadonlyMap<string, Tensor>,
  source: string,
  options: BindOptions = {},
): Map<string, Tensor> {
  const missing: Diagnostic[] = [];
  const unexpected: Diagnostic[] = [];
  const misShaped: Diagnostic[] = [];
  const wrongDtype: Diagnostic[] = [];
  const bound = new Map<string, Tensor>();
  const wanted = new Set(params.map((p) => p.name));

  const missingNames: string[] = [];
  const defaulted: string[] = [];
  const at = (p: GraphParam) => {
    const trace = options.trace?.(p);
    return trace?.length ? { trace } : {};
  };
  for (const p of params) {
    const t = loaded.get(p.name);
    if (t === undefined && notNeededForInference(p)) {
      defaulted.push(p.name);
      bound.set(p.name, zeros(p));
      continue;
    }
    if (t === undefined) {
      missingNames.push(p.name);
      missing.push(
        diagnostic(
          "NN6003",
          `${source}: missing weight \`${p.name}\` (${formatType(p.type)})`,
          p.span,
          at(p),
        ),
      );
      continue;
    }
    if (!sameShape(t.shape, p.type.shape)) {
      misShaped.push(
        diagnostic(
          "NN6005",
          `${source}: \`${p.name}\`: expected ${dims(p.type.shape)}, file has ${dims(t.shape)}`,
          p.span,
          at(p),
        ),
      );
      continue;
    }
    const converted = convert(t, p.type.dtype);
    if (converted === undefined) {
      wrongDtype.push(
        diagnostic(
          "NN6006",
          t.dtype === "i64" && p.type.dtype === "i32"
            ? `${source}: \`${p.name}\`: expected i32, file has i64 values that do not fit i32`
            : `${source}: \`${p.name}\`: expected ${p.type.dtype}, file has ${t.dtype}`,
          p.span,
          at(p),
        ),
      );
      continue;
    }
    bound.set(p.name, converted);
  }

  for (const name of loaded.keys()) {
    if (wanted.has(name)) continue;
    // A renamed weight is most likely one of the missing ones; fall back to any param.
    const near = closest(name, missingNames) ?? closest(name, wanted);
    unexpected.push(
      diagnostic(
        "NN6004",
        `${source}: unexpected weight \`${name}\` (the model has no such parameter)` +
          (near === undefined ? "" : `; did you mean \`${near}\`?`),
      ),
    );
  }

  const kinds = [missing, unexpected, misShaped, wrongDtype];
  const total = kinds.reduce((a, k) => a + k.length, 0);
  if (total > 0) {
    if (total <= SHOWN_PER_KIND) throw new NncError(kinds.flat());
    const counts = [
      [missing.length, "weights missing"],
      [unexpected.length, "unexpected"],
      [misShaped.length, "of the wrong shape"],
      [wrongDtype.length, "of the wrong dtype"],
    ]
      .filter(([n]) => (n as number) > 0)
      .map(([n, what]) => `${n} ${what}`)
      .join(", ");
    const head = kinds.find((k) => k.length > 0)![0]!;
    const summary = diagnostic(
      head.code,
      `${source} does not fit this model: ${counts} (the first ${SHOWN_PER_KIND} of each follow)`,
      undefined,
      {
        hint:
          missing.length > 0 && unexpected.length > 0
            ? "a checkpoint of another model, or of this one under other layer names (`nnc check --params` lists the names the model expects)"
            : "`nnc check --params` lists every name, shape and dtype the model expects",
      },
    );
    const shown = kinds.flatMap((k) => {
      const first = k.slice(0, SHOWN_PER_KIND);
      if (k.length > SHOWN_PER_KIND) {
        const last = first[first.length - 1]!;
        first[first.length - 1] = {
          ...last,
          notes: [
            ...(last.notes ?? []),
            { message: `… and ${k.length - SHOWN_PER_KIND} more like this` },
          ],
        };
      }
      return first;
    });
    throw new NncError([summary, ...shown]);
  }
  if (defaulted.length > 0)
    options.note?.(
      `${source} has no ${defaulted.length === 1 ? `\`${defaulted[0]}\`` : `num_batches_tracked for ${defaulted.length} batch norms`} (inference does not read it); using 0`,
    );
  return bound;
}

/**
 * Values a trained checkpoint should not hold, one line per tensor: NaN or
 * infinite values anywhere, a negative `running_var` (batch norm would take
 * the square root of a negative variance). They run, silently wrong; the
 * caller prints these as warnings naming the tensor.
 */
export function weightWarnings(bound: ReadonlyMap<string, Tensor>, source: string): string[] {
  const out: string[] = [];
  for (const [name, t] of bound) {
    if (t.dtype !== "f32") continue;
    const xs = t.data as Float32Array;
    let nan = 0;
    let inf = 0;
    let negative = 0;
    for (let i = 0; i < xs.length; i++) {
      const x = xs[i]!;
      if (Number.isNaN(x)) nan++;
      else if (!Number.isFinite(x)) inf++;
      else if (x < 0) negative++;
    }
    const of = `of ${xs.length}`;
    if (nan > 0) out.push(`${source}: \`${name}\` holds ${nan} NaN values (${of})`);
    if (inf > 0) out.push(`${source}: \`${name}\` holds ${inf} infinite values (${of})`);
    if (negative > 0 && /(^|\.)running_var$/.test(name))
      out.push(`${source}: \`${name}\` holds ${negative} negative variances (${of})`);
  }
  return out;
}
