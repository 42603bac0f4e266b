// AST construction helpers shared by the parser's actions: operator
// precedence folding (iterative, so a 20 000-term `1+1+…` cannot overflow the
// stack) and small node makers.

import type { IToken } from "chevrotain";
import type { BinaryOp, Expr, Ident, NumberLit, StringLit } from "./ast.js";
import { stringValue } from "./lexer.js";
import { spanBetween, tokenSpan } from "./spans.js";

/** Binding strength of each binary operator, higher binds tighter; all are left-associative.
 * The parser folds by it and the printer parenthesises by it, so both agree. */
export const precedence: Record<string, number> = {
  "||": 1,
  "&&": 2,
  "==": 3,
  "!=": 3,
  "<": 3,
  "<=": 3,
  ">": 3,
  ">=": 3,
  "..": 4,
  "+": 5,
  "-": 5,
  "*": 6,
  "/": 6,
  "%": 6,
  "@": 6,
};

/** An operand of a binary chain with the tokens it spans (parentheses included). */
export interface Operand {
  node: Expr;
  first: IToken;
  last: IToken;
}

/** Folds `a op b op c …` by precedence into Binary and Range nodes. */
export function foldBinary(operands: Operand[], ops: IToken[], file: string): Operand {
  const out: Operand[] = [operands[0]!];
  const pending: IToken[] = [];
  const reduce = (): void => {
    const right = out.pop()!;
    const left = out.pop()!;
    const op = pending.pop()!;
    const span = spanBetween(left.first, right.last, file);
    const node: Expr =
      op.image === ".."
        ? { kind: "Range", start: left.node, end: right.node, span }
        : {
            kind: "Binary",
            op: op.image as BinaryOp,
            left: left.node,
            right: right.node,
            opSpan: tokenSpan(op, file),
            span,
          };
    out.push({ node, first: left.first, last: right.last });
  };
  for (let i = 0; i < ops.length; i++) {
    const p = precedence[ops[i]!.image]!;
    while (pending.length > 0 && precedence[pending[pending.length - 1]!.image]! >= p) reduce();
    pending.push(ops[i]!);
    out.push(operands[i + 1]!);
  }
  while (pending.length > 0) reduce();
  return out[0]!;
}

export function ident(tok: IToken, file: string): Ident {
  return { kind: "Ident", name: tok.image, span: tokenSpan(tok, file) };
}

export function numberLit(tok: IToken, file: string): NumberLit {
  return {
    kind: "Number",
    value: Number.parseFloat(tok.image),
    isInt: /^\d+$/.test(tok.image),
    span: tokenSpan(tok, file),
  };
}

export function stringLit(tok: IToken, file: string): StringLit {
  return { kind: "String", value: stringValue(tok.image), span: tokenSpan(tok, file) };
}

/** True when `tok` starts on the line where `prev` ends (the newline rule for calls and indexing). */
export function sameLine(prev: IToken, tok: IToken): boolean {
  return prev.endLine === tok.startLine;
}
