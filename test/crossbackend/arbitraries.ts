// Shapes for the cross-backend properties: small, mostly odd sizes (not
// multiples of the 4×4 / 4×8 register tiles or of a workgroup), broadcast
// pairs and axis sets. Each generator maps plain numbers to a shape, so a
// shrunk counterexample reads as the shape it built.

import fc from "fast-check";

/** A dim in [1, max]. */
export const dim = (max = 9) => fc.integer({ min: 1, max });

/** A shape of rank in [minRank, maxRank], dims in [1, maxDim]. */
export const shape = (minRank: number, maxRank: number, maxDim = 9) =>
  fc.array(dim(maxDim), { minLength: minRank, maxLength: maxRank });

/**
 * An operand shape that broadcasts to `out`: `drop` leading dims removed and
 * the dims flagged in `ones` set to 1.
 */
export function operandOf(out: number[], drop: number, ones: boolean[]): number[] {
  return out.slice(Math.min(drop, out.length)).map((d, i) => (ones[i] ? 1 : d));
}

/** Result shape plus operand shapes broadcasting to it, `count` of them. */
export const broadcastShapes = (count: number, maxRank = 4, maxDim = 7) =>
  fc
    .record({
      out: shape(0, maxRank, maxDim),
      operands: fc.array(
        fc.record({
          drop: fc.nat(maxRank),
          ones: fc.array(fc.boolean(), { minLength: maxRank, maxLength: maxRank }),
        }),
        { minLength: count, maxLength: count },
      ),
    })
    .map(({ out, operands }) => operands.map((o) => operandOf(out, o.drop, o.ones)));

/** A non-empty, sorted set of axes of a rank-`rank` tensor, from a bit mask (0 → the last axis). */
export function axesOf(rank: number, mask: number): number[] {
  const axes = [...Array(rank).keys()].filter((a) => (mask >> a) & 1);
  return axes.length > 0 ? axes : [rank - 1];
}
