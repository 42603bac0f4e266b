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

/**
 * Checks `loaded` against the params and returns the tensors by param name, each in its
 * param's dtype. Throws one NncError with a diagnostic per missing (NN6003), unexpected
 * (NN6004), mis-shaped (NN6005) or unconvertible (NN6006) weight. `source` names the
 * file (or other origin) in every message.
 */
export function bindWeights(
  params: readonly GraphParam[],
  loaded: ReadonlyMap<string, Tensor>,
  source: string,
): Map<string, Tensor> {
  const missing: Diagnostic[] = [];
  const unexpected: Diagnostic[] = [];
  const misShaped: Diagnostic[] = [];
  const wrongDtype: Diagnostic[] = [];
  const bound = new Map<string, Tensor>();
  const wanted = new Set(params.map((p) => p.name));

  const missingNames: string[] = [];
  for (const p of params) {
    const t = loaded.get(p.name);
    if (t === undefined) {
      missingNames.push(p.name);
      missing.push(
        diagnostic(
          "NN6003",
          `${source}: missing weight \`${p.name}\` (${formatType(p.type)})`,
          p.span,
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

  const problems = [...missing, ...unexpected, ...misShaped, ...wrongDtype];
  if (problems.length > 0) throw new NncError(problems);
  return bound;
}
