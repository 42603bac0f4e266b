// Source text to AST: lex, guard the nesting limits, then parse one
// declaration at a time so a syntax error in one declaration never hides the
// errors in the next. Always returns a Module (the declarations that parsed
// cleanly) plus every lexing and parsing diagnostic.

import { EOF, type IRecognitionException, type IToken, type TokenType } from "chevrotain";
import { type Diagnostic, diagnostic } from "../compiler/core/diagnostics.js";
import type { Decl, Import as ImportNode, Module } from "./ast.js";
import { MAX_PARSE_NESTING, NestingError } from "./expression-parser.js";
import * as T from "./lexer.js";
import { checkTokenNesting, findTooDeep, MAX_AST_DEPTH, tooDeep } from "./limits.js";
import { HINT_SEPARATOR } from "./messages.js";
import { NnParser } from "./nn-parser.js";
import { spanAfter, textSpan, tokenSpan } from "./spans.js";

export interface ParseResult {
  module: Module;
  diagnostics: Diagnostic[];
}

let shared: NnParser | undefined;

/** Parses a .nn source; `file` is the display path recorded in every span. */
export function parse(source: string, file: string): ParseResult {
  // A UTF-8 byte order mark (editors on Windows write one) is not part of the program;
  // columns count from after it, as every editor shows them.
  const text = stripBom(source);
  const lexed = T.lex(text, file);
  const diagnostics = [...lexed.diagnostics];
  const module: Module = {
    kind: "Module",
    file,
    imports: [],
    decls: [],
    span: textSpan(text, file),
  };
  const deep = checkTokenNesting(lexed.tokens, file);
  if (deep !== undefined) return { module, diagnostics: sortByPosition([...diagnostics, deep]) };

  shared ??= new NnParser();
  const parser = shared;
  try {
    const chunks = splitDeclarations(lexed.tokens);
    for (let i = 0; i < chunks.length; i++) {
      const tokens = chunks[i]!;
      const follower = chunks[i + 1]?.[0];
      const node = parser.parseChunk(tokens, follower, file);
      const errors = firstPerLine([
        ...syntaxErrors(parser.errors, tokens, follower, file),
        ...parser.extra,
      ]);
      diagnostics.push(...errors);
      if (errors.length > 0 || node === undefined) continue;
      if (node.kind === "Import") module.imports.push(node as ImportNode);
      else module.decls.push(node as Decl);
    }
  } catch (e) {
    const at = e instanceof NestingError ? e.token : parser.currentToken();
    const span =
      at.tokenType === EOF || Number.isNaN(at.startOffset) ? module.span : tokenSpan(at, file);
    if (e instanceof NestingError || e instanceof RangeError) {
      diagnostics.push(tooDeep(span, MAX_PARSE_NESTING));
    } else {
      // A bug in a parser action: still a value, so callers get their diagnostics.
      const detail = e instanceof Error ? e.message : String(e);
      diagnostics.push(diagnostic("NN9001", `internal error in the parser: ${detail}`, span));
    }
    return {
      module: { ...module, imports: [], decls: [] },
      diagnostics: sortByPosition(diagnostics),
    };
  }

  const tooDeepAt = findTooDeep(module);
  if (tooDeepAt !== undefined) {
    diagnostics.push(tooDeep(tooDeepAt, MAX_AST_DEPTH));
    module.imports = [];
    module.decls = [];
  }
  return { module, diagnostics: sortByPosition(diagnostics) };
}

export function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/**
 * Splits the token stream before each `import`, `def`, `model` and `layer NAME`
 * (keywords that only start declarations, so they resync even after a bracket
 * left unclosed) and before a `let` outside all brackets. A closing bracket
 * that matches no open one is ignored here (the parser reports it).
 */
function splitDeclarations(tokens: IToken[]): IToken[][] {
  const chunks: IToken[][] = [];
  let current: IToken[] = [];
  const open: TokenType[] = [];
  for (let i = 0; i < tokens.length; i++) {
    const tok = tokens[i]!;
    const t = tok.tokenType;
    const starts =
      t === T.Import ||
      t === T.Def ||
      t === T.Model ||
      (t === T.Layer && tokens[i + 1]?.tokenType === T.Identifier) ||
      (t === T.Let && open.length === 0);
    if (starts) {
      if (current.length > 0) chunks.push(current);
      current = [];
      open.length = 0;
    }
    current.push(tok);
    const closes = closerOf.get(t);
    if (closes === undefined) {
      if (t === T.LParen || t === T.LBracket || t === T.LBrace) open.push(t);
    } else if (open.includes(closes)) {
      open.length = open.lastIndexOf(closes);
    }
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

const closerOf = new Map<TokenType, TokenType>([
  [T.RParen, T.LParen],
  [T.RBracket, T.LBracket],
  [T.RBrace, T.LBrace],
]);

/** Chevrotain's recognition errors as diagnostics, placed on the token that broke the rule. */
function syntaxErrors(
  errors: IRecognitionException[],
  tokens: IToken[],
  follower: IToken | undefined,
  file: string,
): Diagnostic[] {
  const last = tokens[tokens.length - 1]!;
  return errors.map((err) => {
    const tok = err.token;
    const atEnd = tok === undefined || tok.tokenType === EOF || Number.isNaN(tok.startOffset);
    const span = !atEnd
      ? tokenSpan(tok, file)
      : follower !== undefined
        ? tokenSpan(follower, file)
        : spanAfter(last, file);
    const [message, hint] = err.message.split(HINT_SEPARATOR);
    return diagnostic("NN1001", message!, span, hint === undefined ? {} : { hint });
  });
}

/**
 * After one error, recovery can trip over the same broken construct again: of
 * one declaration's syntax errors, only the first on each line is kept, and
 * only those on later lines than the one before.
 */
function firstPerLine(errors: Diagnostic[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  let lastLine = 0;
  for (const d of sortByPosition(errors)) {
    const line = d.span?.line ?? 0;
    if (line <= lastLine) continue;
    lastLine = line;
    out.push(d);
  }
  return out;
}

function sortByPosition(ds: Diagnostic[]): Diagnostic[] {
  return ds
    .map((d, i) => [d, i] as const)
    .sort(([a, i], [b, j]) => (a.span?.start ?? 0) - (b.span?.start ?? 0) || i - j)
    .map(([d]) => d);
}
