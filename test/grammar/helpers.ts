// Shared helpers for the grammar tests: parse and assert, and diagnostics as
// one-line strings ("3:14 NN1001 expected `)` …") for exact comparisons.

import { expect } from "vitest";
import type { CallableDecl, Expr, Module, Stmt } from "../../grammar/ast.js";
import { parse } from "../../grammar/parser.js";

/** Parses `src`, expecting no diagnostics. */
export function parseOk(src: string, file = "test.nn"): Module {
  const { module, diagnostics } = parse(src, file);
  expect(diagnostics.map(show)).toEqual([]);
  return module;
}

/** Diagnostics of `src` as `line:col CODE message`. */
export function errors(src: string): string[] {
  return parse(src, "test.nn").diagnostics.map(show);
}

function show(d: { code: string; message: string; span?: { line: number; col: number } }): string {
  return `${d.span?.line}:${d.span?.col} ${d.code} ${d.message}`;
}

/** The body expression of `def f = <src>`. */
export function expr(src: string): Expr {
  const m = parseOk(`def f = ${src}`);
  return (m.decls[0] as CallableDecl).body as Expr;
}

/** The statements of `model m()(x) { <src> }`. */
export function stmts(src: string): Stmt[] {
  const m = parseOk(`model m()(x) {\n${src}\n}`);
  const body = (m.decls[0] as CallableDecl).body;
  if (body.kind !== "Block") throw new Error("expected a block");
  return body.stmts;
}

/** Drops spans so shapes can be compared with toEqual/toMatchObject. */
export function strip<T>(node: T): T {
  return JSON.parse(
    JSON.stringify(node, (k, v) =>
      k === "span" || k === "opSpan" || k === "labelSpan" ? undefined : v,
    ),
  );
}

/** Narrows a node to the expected kind, failing the test otherwise. */
export function as<K extends Expr["kind"]>(
  e: Expr | undefined,
  kind: K,
): Extract<Expr, { kind: K }> {
  expect(e?.kind).toBe(kind);
  return e as Extract<Expr, { kind: K }>;
}
