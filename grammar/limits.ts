// Nesting limits, so hostile or generated input gets NN5004 instead of a stack
// overflow: a token scan before parsing (brackets, prefix operators) and an
// iterative depth measure of the finished AST.

import type { IToken } from "chevrotain";
import { type Diagnostic, diagnostic } from "../compiler/core/diagnostics.js";
import type { Module, Span } from "./ast.js";
import { Bang, LBrace, LBracket, LParen, Minus, RBrace, RBracket, RParen } from "./lexer.js";
import { tokenSpan } from "./spans.js";

/** Deepest bracket nesting, and longest run of prefix operators, the parser accepts. */
export const MAX_TOKEN_NESTING = 200;
/** Deepest AST the later stages are handed. */
export const MAX_AST_DEPTH = 1000;

/** NN5004 at the token where brackets nest, or prefix operators repeat, past MAX_TOKEN_NESTING. */
export function checkTokenNesting(tokens: IToken[], file: string): Diagnostic | undefined {
  let depth = 0;
  let prefixRun = 0;
  for (const tok of tokens) {
    const t = tok.tokenType;
    if (t === LParen || t === LBracket || t === LBrace) depth++;
    else if (t === RParen || t === RBracket || t === RBrace) depth = Math.max(0, depth - 1);
    prefixRun = t === Minus || t === Bang ? prefixRun + 1 : 0;
    if (depth > MAX_TOKEN_NESTING || prefixRun > MAX_TOKEN_NESTING) {
      return tooDeep(tokenSpan(tok, file), MAX_TOKEN_NESTING);
    }
  }
  return undefined;
}

export function tooDeep(span: Span, limit: number): Diagnostic {
  return diagnostic("NN5004", `nesting too deep (more than ${limit} levels)`, span, {
    hint: "split the expression with `let`",
  });
}

/** The first node, in source order, that lies deeper than MAX_AST_DEPTH; measured without recursion. */
export function findTooDeep(module: Module): Span | undefined {
  const stack: [unknown, number][] = [[module, 0]];
  let found: Span | undefined;
  while (stack.length > 0) {
    const [value, depth] = stack.pop()!;
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push([value[i], depth]);
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    const node = value as Record<string, unknown>;
    const d = "kind" in node ? depth + 1 : depth;
    if (d > MAX_AST_DEPTH && node.span !== undefined) {
      const span = node.span as Span;
      if (found === undefined || span.start < found.start) found = span;
      continue;
    }
    for (const key of Object.keys(node)) {
      if (key === "span" || key === "opSpan" || key === "labelSpan") continue;
      stack.push([node[key], d]);
    }
  }
  return found;
}
