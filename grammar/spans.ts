// Source spans from Chevrotain tokens. Chevrotain positions are inclusive and
// 1-based; a Span's end is exclusive, so the end column is one past the last
// character.

import type { IToken } from "chevrotain";
import type { Span } from "./ast.js";

/** The span of one token. */
export function tokenSpan(tok: IToken, file: string): Span {
  return spanBetween(tok, tok, file);
}

/** From the start of `first` to the end of `last`. */
export function spanBetween(first: IToken, last: IToken, file: string): Span {
  return {
    file,
    start: first.startOffset,
    end: (last.endOffset ?? last.startOffset) + 1,
    line: first.startLine ?? 1,
    col: first.startColumn ?? 1,
    endLine: last.endLine ?? last.startLine ?? 1,
    endCol: (last.endColumn ?? last.startColumn ?? 0) + 1,
  };
}

/** A zero-width span just after `tok` (where a missing token would go). */
export function spanAfter(tok: IToken, file: string): Span {
  const line = tok.endLine ?? 1;
  const col = (tok.endColumn ?? 0) + 1;
  const offset = (tok.endOffset ?? tok.startOffset) + 1;
  return { file, start: offset, end: offset, line, col, endLine: line, endCol: col };
}

/** The span of a whole text. */
export function textSpan(text: string, file: string): Span {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < text.length; i++) {
    if (text[i] === "\n") {
      line++;
      lineStart = i + 1;
    }
  }
  return {
    file,
    start: 0,
    end: text.length,
    line: 1,
    col: 1,
    endLine: line,
    endCol: text.length - lineStart + 1,
  };
}

/** `line:col` of a token, as error messages print it. */
export function tokenPosition(tok: IToken): string {
  return `${tok.startLine}:${tok.startColumn}`;
}
