// The index-expression simplifier: printed forms stay readable, and every
// rewrite keeps the value (checked exhaustively over small extents).

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  type ICond,
  type IExpr,
  iadd,
  ic,
  icmp,
  idiv,
  imax,
  imin,
  imod,
  imul,
  inBounds,
  isub,
  ivar,
  printCond,
  printI,
  printV,
  vbinary,
  vconst,
  vload,
  vreduce,
  vselect,
  vtest,
} from "../../compiler/kernels/expr.js";
import { delinearize, linearize } from "../../compiler/kernels/index-maps.js";

const i = ivar("i", 6);
const j = ivar("j", 4);
const k = ivar("k", 5);

function evalI(e: IExpr, env: Record<string, number>): number {
  switch (e.op) {
    case "const":
      return e.value;
    case "var":
      return env[e.name]!;
    case "add":
      return evalI(e.a, env) + evalI(e.b, env);
    case "sub":
      return evalI(e.a, env) - evalI(e.b, env);
    case "mul":
      return evalI(e.a, env) * evalI(e.b, env);
    case "div":
      return Math.floor(evalI(e.a, env) / evalI(e.b, env));
    case "mod": {
      const b = evalI(e.b, env);
      return ((evalI(e.a, env) % b) + b) % b;
    }
    case "min":
      return Math.min(evalI(e.a, env), evalI(e.b, env));
    case "max":
      return Math.max(evalI(e.a, env), evalI(e.b, env));
    case "select":
      return evalC(e.cond, env) ? evalI(e.a, env) : evalI(e.b, env);
    case "value":
      throw new Error("no values here");
  }
}

function evalC(c: ICond, env: Record<string, number>): boolean {
  switch (c.op) {
    case "bool":
      return c.value;
    case "and":
      return evalC(c.a, env) && evalC(c.b, env);
    case "or":
      return evalC(c.a, env) || evalC(c.b, env);
    default: {
      const a = evalI(c.a, env);
      const b = evalI(c.b, env);
      return { lt: a < b, le: a <= b, gt: a > b, ge: a >= b, eq: a === b, ne: a !== b }[c.op];
    }
  }
}

function everyPoint(f: (env: Record<string, number>) => void): void {
  for (let a = 0; a < 6; a++)
    for (let b = 0; b < 4; b++) for (let c = 0; c < 5; c++) f({ i: a, j: b, k: c });
}

describe("index expression printing", () => {
  const cases: [IExpr, string][] = [
    [iadd(imul(i, 1), 0), "i"],
    [idiv(imul(i, 7), 7), "i"],
    [imod(imul(i, 8), 4), "0"],
    [idiv(iadd(imul(i, 20), iadd(imul(j, 5), k)), 5), "i * 4 + j"],
    [imod(iadd(imul(i, 20), iadd(imul(j, 5), k)), 20), "j * 5 + k"],
    [idiv(iadd(imul(i, 20), iadd(imul(j, 5), k)), 60), "i / 3"],
    [idiv(j, 4), "0"],
    [imod(k, 5), "k"],
    [isub(iadd(i, 3), 5), "i - 2"],
    [isub(ivar("x", 1), i), "x - i"],
    [imin(i, 10), "i"],
    [imax(i, -1), "i"],
    [imin(i, 3), "min(i, 3)"],
    [
      linearize(delinearize(iadd(imul(i, 20), iadd(imul(j, 5), k)), [6, 4, 5]), [6, 4, 5]),
      "i * 20 + j * 5 + k",
    ],
  ];
  it.each(cases.map(([e, s]) => [s, e] as const))("prints %s", (s, e) => {
    expect(printI(e)).toBe(s);
  });

  it("decides and normalises conditions", () => {
    expect(printCond(inBounds(isub(iadd(i, k), 1), 10))).toBe("i + k >= 1");
    expect(printCond(inBounds(iadd(i, j), 20))).toBe("true");
    expect(printCond(icmp("lt", isub(ivar("z", 2), i), 0))).toBe("z - i < 0");
    expect(printCond(icmp("ge", isub(ic(2), i), 0))).toBe("i <= 2");
  });

  it("folds value expressions", () => {
    const x = vload(0, [i], "f32");
    expect(printV(vbinary("mul", x, vconst(1, "f32")))).toBe("in0[i]");
    expect(printV(vbinary("add", vconst(2, "f32"), vconst(3, "f32")))).toBe("5");
    expect(printV(vselect(vtest(inBounds(i, 6)), x, vconst(0, "f32")))).toBe("in0[i]");
    expect(printV(vreduce("sum", [ivar("r", 1), j], vload(0, [ivar("r", 1), j], "f32")))).toBe(
      "sum[j<4](in0[0, j])",
    );
  });
});

describe("index expression rewrites keep their value", () => {
  const leaf = fc.oneof(
    fc.constantFrom<IExpr>(i, j, k),
    fc.integer({ min: -7, max: 9 }).map((v): IExpr => ({ op: "const", value: v })),
  );
  /** Raw trees (no simplification) paired with the smart-constructor build of the same tree. */
  const tree = fc.letrec<{ t: [IExpr, IExpr] }>((tie) => ({
    t: fc.oneof(
      { depthSize: "small", withCrossShrink: true },
      leaf.map((e): [IExpr, IExpr] => [e, e]),
      fc
        .tuple(fc.constantFrom("add", "sub", "mul", "min", "max"), tie("t"), tie("t"))
        .map(([op, [ra, sa], [rb, sb]]): [IExpr, IExpr] => {
          const raw = { op, a: ra, b: rb } as IExpr;
          const f = { add: iadd, sub: isub, mul: imul, min: imin, max: imax }[op];
          return [raw, f(sa, sb)];
        }),
      fc
        .tuple(fc.constantFrom("div", "mod"), tie("t"), fc.integer({ min: 1, max: 12 }))
        .map(([op, [ra, sa], d]): [IExpr, IExpr] => [
          { op, a: ra, b: { op: "const", value: d } } as IExpr,
          op === "div" ? idiv(sa, d) : imod(sa, d),
        ]),
    ),
  })).t;

  it("over every point of the variables' ranges", () => {
    fc.assert(
      fc.property(tree, ([raw, simple]) => {
        everyPoint((env) => expect(evalI(simple, env) + 0).toBe(evalI(raw, env) + 0));
      }),
      { numRuns: 400 },
    );
  });

  it("conditions too", () => {
    fc.assert(
      fc.property(
        tree,
        tree,
        fc.constantFrom("lt", "le", "gt", "ge", "eq", "ne" as const),
        ([ra, sa], [rb, sb], op) => {
          const raw: ICond = { op, a: ra, b: rb };
          const simple = icmp(op, sa, sb);
          everyPoint((env) => expect(evalC(simple, env)).toBe(evalC(raw, env)));
        },
      ),
      { numRuns: 300 },
    );
  });
});
