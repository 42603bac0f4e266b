// Every example of docs/LANGUAGE.md parses cleanly, and into the shape the
// document describes.

import { describe, expect, it } from "vitest";
import type { CallableDecl, Expr, LetStmt, ParamStmt, Stmt } from "../../grammar/ast.js";
import { parse } from "../../grammar/parser.js";
import { printAst } from "../../grammar/print-ast.js";
import { classify, declarations, layerTier } from "./examples.js";
import { as, errors, parseOk, strip } from "./helpers.js";

function callable(src: string, name: string): CallableDecl {
  const decl = parseOk(src).decls.find((d) => d.kind === "Callable" && d.name.name === name);
  if (decl === undefined || decl.kind !== "Callable") throw new Error(`no ${name}`);
  return decl;
}

function blockOf(decl: CallableDecl): Stmt[] {
  if (decl.body.kind !== "Block") throw new Error("expected a block body");
  return decl.body.stmts;
}

function stageNames(e: Expr): string[] {
  return as(e, "Pipeline").stages.map((s) =>
    s.kind === "Labeled"
      ? `${s.label}:`
      : s.kind === "Call"
        ? `${as(s.callee, "Ident").name}()`
        : s.kind,
  );
}

/** layerTier with the `…` placeholder body of `lstm` filled in. */
const layerTierFilled = layerTier.replace(
  "\n  …\n",
  "\n  scan(lstm_cell(hidden), input, init={h: h0, c: c0}, axis=1, reverse=false)\n",
);

describe("LANGUAGE.md examples", () => {
  it("parses the first look (classify) with its imports and pipeline", () => {
    const m = parseOk(classify, "classify.nn");
    expect(m.imports.map((i) => i.target)).toEqual([
      { kind: "module", name: "rnn" },
      { kind: "module", name: "attention" },
    ]);
    const model = callable(classify, "classify");
    expect(model.flavor).toBe("model");
    expect(model.hyper.map((h) => [h.name.name, strip(h.type), strip(h.default)])).toEqual([
      [
        "vocab",
        { kind: "NamedType", name: { kind: "Ident", name: "int" } },
        { kind: "Number", value: 1000, isInt: true },
      ],
      [
        "classes",
        { kind: "NamedType", name: { kind: "Ident", name: "int" } },
        { kind: "Number", value: 4, isInt: true },
      ],
    ]);
    expect(strip(model.inputs)).toEqual([
      {
        kind: "InputParam",
        name: { kind: "Ident", name: "tokens" },
        type: {
          kind: "TensorType",
          dtype: { kind: "Ident", name: "i32" },
          dims: [
            { kind: "DimName", name: "N" },
            { kind: "DimName", name: "T" },
          ],
        },
        default: null,
      },
    ]);
    const [body] = blockOf(model);
    expect(body!.kind).toBe("ExprStmt");
    const pipeline = (body as { expr: Expr }).expr;
    expect(stageNames(pipeline)).toEqual([
      "Ident",
      "embedding()",
      "lstm()",
      "attention()",
      "mean()",
      "linear()",
      "Ident",
    ]);
    const attention = as(as(pipeline, "Pipeline").stages[3], "Call");
    expect(attention.args.map((a) => [a.name?.name ?? null, strip(a.value)])).toEqual([
      [null, { kind: "Ident", name: "local_p" }],
      ["D", { kind: "Number", value: 10, isInt: true }],
    ]);
  });

  it("parses the declarations example: imports, a point-free def, a block def, a model", () => {
    const m = parseOk(declarations);
    expect(m.imports.map((i) => i.target)).toEqual([
      { kind: "module", name: "resnet" },
      { kind: "file", path: "./blocks.nn" },
    ]);
    expect(
      m.decls.map((d) => (d.kind === "Callable" ? `${d.flavor} ${d.name.name}` : d.kind)),
    ).toEqual(["def conv_bn_relu", "def basic", "model resnet18"]);
    const conv = callable(declarations, "conv_bn_relu");
    expect(conv.inputs).toBeNull();
    expect(conv.hyper.map((h) => h.name.name)).toEqual(["c", "k", "stride"]);
    expect(stageNames(conv.body as Expr)).toEqual(["conv()", "Ident", "Ident"]);
    const pad = as(as(conv.body as Expr, "Pipeline").stages[0], "Call").args[3]!;
    expect(pad.name?.name).toBe("pad");
    expect(as(pad.value, "Binary").op).toBe("/");
  });

  it("parses `basic`: labelled stages, and an if whose then-part is a pipeline", () => {
    const [y, s, out] = blockOf(callable(declarations, "basic")) as [LetStmt, LetStmt, Stmt];
    expect(stageNames(y.value)).toEqual(["Ident", "conv1:", "bn1:", "Ident", "conv2:", "bn2:"]);
    const branch = as(s.value, "If");
    expect(as(branch.cond, "Binary").op).toBe("||");
    const then = as(branch.then, "Pipeline");
    expect(then.stages).toHaveLength(2);
    const downsample = as(then.stages[1], "Labeled");
    expect(downsample.label).toBe("downsample");
    expect(as(downsample.expr, "List").items.map((i) => i.kind)).toEqual(["Call", "Ident"]);
    expect(strip(branch.else)).toEqual({ kind: "Ident", name: "x" });
    expect(out.kind).toBe("ExprStmt");
  });

  it("parses resnet18: a long labelled pipeline and a record result", () => {
    const stmts = blockOf(callable(declarations, "resnet18"));
    expect(stageNames((stmts[0] as LetStmt).value)).toEqual([
      "Ident",
      "conv1:",
      "bn1:",
      "Ident",
      "maxpool()",
      "layer1:",
      "layer2:",
      "layer3:",
      "layer4:",
      "Ident",
      "Ident",
      "fc:",
    ]);
    expect(strip(stmts[1])).toEqual({
      kind: "ExprStmt",
      expr: {
        kind: "Record",
        fields: [
          { name: { kind: "Ident", name: "logits" }, value: { kind: "Ident", name: "logits" } },
        ],
      },
    });
  });

  it("parses `linear`: params with a shape expression and an `if` condition", () => {
    const [weight, bias, , result] = blockOf(callable(layerTierFilled, "linear"));
    expect(strip(weight)).toMatchObject({
      kind: "Param",
      role: "param",
      name: { name: "weight" },
      cond: null,
    });
    const w = weight as ParamStmt;
    expect(as(w.dims[1], "Index").items[0]).toMatchObject({
      kind: "IndexExpr",
      value: { kind: "Unary", op: "-" },
    });
    expect(strip((bias as ParamStmt).cond)).toEqual({ kind: "Ident", name: "bias" });
    expect(as((result as { expr: Expr }).expr, "If").then.kind).toBe("Binary");
  });

  it("parses `batchnorm`: init rules, an i64[] buffer, and the newline rule", () => {
    const stmts = blockOf(callable(layerTierFilled, "batchnorm"));
    expect(
      stmts.map((s) =>
        s.kind === "Param" ? `${s.role} ${(s.name as { name: string }).name}` : s.kind,
      ),
    ).toEqual([
      "param weight",
      "param bias",
      "buffer running_mean",
      "buffer running_var",
      "buffer num_batches_tracked",
      "Let",
      "ExprStmt",
    ]);
    expect(strip(stmts[0])).toMatchObject({ init: { name: "norm_weight" }, dtype: null });
    expect(strip(stmts[4])).toMatchObject({
      dtype: { name: "i64" },
      dims: [],
      init: { name: "zeros" },
    });
    // `(input - …)` on the line after `let c = [...]` is a new statement, not a call of the list.
    expect(as((stmts[5] as LetStmt).value, "List").items).toHaveLength(4);
    const result = as((stmts[6] as { expr: Expr }).expr, "Binary");
    expect(result.op).toBe("+");
    expect(as(as(result.left, "Binary").left, "Binary").op).toBe("*");
  });

  it("parses `lstm_cell`: a record input type, destructuring let, a record result", () => {
    const cell = callable(layerTierFilled, "lstm_cell");
    expect(strip(cell.inputs![1]!.type)).toEqual({
      kind: "RecordType",
      fields: [
        { kind: "Ident", name: "h" },
        { kind: "Ident", name: "c" },
      ],
    });
    const stmts = blockOf(cell);
    const split = stmts[5] as LetStmt;
    expect(split.names.map((n) => n.name)).toEqual(["i", "f", "c_", "o"]);
    expect(as(as(split.value, "Call").callee, "Ident").name).toBe("split");
    expect(strip(as(split.value, "Call").args[2])).toEqual({
      kind: "Arg",
      name: { kind: "Ident", name: "axis" },
      value: { kind: "Unary", op: "-", operand: { kind: "Number", value: 1, isInt: true } },
    });
    const record = as((stmts[8] as { expr: Expr }).expr, "Record");
    expect(record.fields.map((f) => f.name.name)).toEqual(["out", "h", "c"]);
  });

  it("reports only the `…` placeholder in lstm, and parses it filled in (with `init=` as a keyword argument)", () => {
    expect(errors(layerTier)).toEqual(["36:3 NN1004 invalid character `…`"]);
    const lstm = callable(layerTierFilled, "lstm");
    expect(lstm.inputs!.map((i) => [i.name.name, i.default?.kind ?? null])).toEqual([
      ["input", null],
      ["h0", "Ident"],
      ["c0", "Ident"],
    ]);
    const scan = as((blockOf(lstm)[0] as { expr: Expr }).expr, "Call");
    expect(scan.args.map((a) => a.name?.name ?? null)).toEqual([
      null,
      null,
      "init",
      "axis",
      "reverse",
    ]);
  });

  it("prints the AST compactly", () => {
    const text = printAst(parse(declarations, "declarations.nn").module);
    expect(text).toContain("Module declarations.nn\n  Import resnet @1:1\n");
    expect(text).toContain(
      [
        "  Callable def basic @9:1",
        "    hyper c: int",
        "    hyper stride: int = 1",
        "    input x",
        "    Block @9:39",
        "      Let y @10:3",
        "        Pipeline @10:11",
        "          Ident x",
        "          Labeled conv1: Call conv(c, 3, stride=stride, pad=1, bias=false)",
      ].join("\n"),
    );
    expect(text).toContain(
      [
        "        If @12:11",
        "          cond: Binary stride != 1 || x.channels != c",
        "          then: Pipeline @13:16",
        "            Ident x",
        "            Labeled downsample: List [conv(c, 1, stride=stride, bias=false), batchnorm]",
        "          else: Ident x",
        "      Call relu(y + s) @15:3",
      ].join("\n"),
    );
    const tier = printAst(parse(layerTierFilled, "nn.nn").module);
    expect(tier).toContain("      Param bias: [out] if bias @3:3\n");
    expect(tier).toContain("      Buffer num_batches_tracked: i64[] init zeros @13:3\n");
  });
});
