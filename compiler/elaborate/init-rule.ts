// Reads a `param`'s `init` clause (elaboration of ParamStmt): `init zeros`,
// `init normal(0.02)`, `init const(-2.0)` or a bare number `init -2.0` become the
// InitRule and arguments the seeded initializer (runtime/weights/seeded.ts) draws with.

import type { Expr } from "../../grammar/ast.js";
import { didYouMean } from "../core/diagnostics.js";
import { type InitRule, initRules } from "../graph/graph.js";
import { type Ctx, raise } from "./context.js";
import { describe, type Value } from "./values.js";

/** How many numbers each rule takes: [fewest, most]. */
const arity: Record<InitRule, [number, number]> = {
  uniform: [0, 1],
  norm_weight: [0, 0],
  norm_bias: [0, 0],
  running_mean: [0, 0],
  running_var: [0, 0],
  zeros: [0, 0],
  ones: [0, 0],
  untouched: [0, 0],
  constant: [1, 1],
  normal: [1, 2],
  kaiming: [0, 0],
  xavier: [0, 0],
};

const usage: Partial<Record<InitRule, string>> = {
  uniform: "`uniform` (SPEC's 1/sqrt(fan_in)) or `uniform(bound)`",
  constant: "`const(value)` or a bare number, `init -2.0`",
  normal: "`normal(std)` or `normal(mean, std)`",
};

const aliases: Record<string, InitRule> = { const: "constant" };

export interface ParamInit {
  rule: InitRule;
  args?: number[];
}

/** The rule an `init` expression names; `evaluate` computes an argument's value. */
export function initRuleOf(ctx: Ctx, e: Expr, evaluate: (e: Expr) => Value): ParamInit {
  const number = (arg: Expr): number => {
    const v = evaluate(arg);
    if (v.k !== "int" && v.k !== "float") {
      raise(ctx, "NN3004", `an init rule takes numbers, got ${describe(v)}`, arg.span);
    }
    return v.v;
  };
  let word: string;
  const args: Expr[] = [];
  let span = e.span;
  if (e.kind === "Ident") {
    word = e.name;
  } else if (e.kind === "Call" && e.callee.kind === "Ident") {
    word = e.callee.name;
    span = e.callee.span;
    for (const a of e.args) {
      if (a.name !== null) {
        raise(ctx, "NN3004", `init rules take positional numbers, not \`${a.name.name}=\``, a.span);
      }
      args.push(a.value);
    }
  } else {
    // `init -2.0`, `init 1 / 3`: a constant.
    return { rule: "constant", args: [number(e)] };
  }
  const rule = aliases[word] ?? (initRules as readonly string[]).find((r) => r === word);
  if (rule === undefined) {
    const names = [...initRules, ...Object.keys(aliases)];
    raise(
      ctx,
      "NN3005",
      `unknown init rule \`${word}\`${didYouMean(word, names)}`,
      span,
      `init rules: ${initRules.map((r) => (r === "constant" ? "const" : r)).join(", ")}, or a number`,
    );
  }
  const [lo, hi] = arity[rule];
  if (args.length < lo || args.length > hi) {
    const takes = lo === hi ? `${lo}` : `${lo} or ${hi}`;
    raise(
      ctx,
      "NN3004",
      `init rule \`${word}\` takes ${takes} number${hi === 1 ? "" : "s"}, got ${args.length}`,
      e.span,
      usage[rule],
    );
  }
  const values = args.map(number);
  if (rule === "normal" && values.length === 1) values.unshift(0);
  return values.length === 0 ? { rule } : { rule, args: values };
}
