// Zod building blocks shared by the op attribute schemas, so every op spells
// "a pair of positive ints" or "a concrete shape" the same way.

import { z } from "zod";
import { dtypes } from "../core/types.js";

export const nonNegInt = z.number().int().nonnegative();
export const posInt = z.number().int().positive();

/** Any JS number, ±Infinity and NaN included (zod's z.number() rejects the infinities; masks need -inf). */
export const anyNumber = z.custom<number>((v) => typeof v === "number", "expected a number");

/** A concrete shape: non-negative dims, no -1. */
export const shapeAttr = z.array(nonNegInt);

export const dtypeAttr = z.enum(dtypes);

/** [height, width] pairs of conv/pool attributes. */
export function pair<T extends z.ZodType<number>>(item: T) {
  return z.tuple([item, item]);
}

/** Axes lists: non-empty, non-negative, strictly increasing. */
export const axesAttr = z
  .array(nonNegInt)
  .min(1)
  .refine((a) => a.every((v, i) => i === 0 || v > a[i - 1]!), "axes must be sorted and unique");
