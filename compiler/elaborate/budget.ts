// Bounds on the values elaboration builds: strings are measured before they
// are made, and a list shown in a template is measured without being printed,
// so a runaway program gets NN5009 instead of exhausting V8's heap.

import type { Span } from "../core/span.js";
import { type Ctx, charge, limits, raise } from "./context.js";
import { show, type Value } from "./values.js";

/** A string of `length` characters made by `make`, or NN5009 before it is made when too long. */
export function boundedString(ctx: Ctx, length: number, span: Span, make: () => string): string {
  if (length > limits.stringLength) {
    raise(
      ctx,
      "NN5009",
      `the string would be ${length} characters, more than ${limits.stringLength}`,
      span,
    );
  }
  charge(ctx, Math.ceil(length / 64), span);
  return make();
}

/** How long show(v) is, counted only up to `cap` (then any number above it). */
export function shownLength(v: Value, cap: number): number {
  if (v.k === "list") {
    let n = 2;
    for (const x of v.items) {
      n += 2 + shownLength(x, cap - n);
      if (n > cap) return n;
    }
    return n;
  }
  if (v.k === "record") {
    let n = 2;
    for (const [k, x] of v.fields) {
      n += k.length + 4 + shownLength(x, cap - n);
      if (n > cap) return n;
    }
    return n;
  }
  return show(v).length;
}
