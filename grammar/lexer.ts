// The first stage: source text to Chevrotain tokens. Lexical errors (invalid
// characters, unterminated strings and comments, malformed numbers) become
// diagnostics here; the offending text is dropped or repaired so the parser
// sees a clean stream and reports only real syntax errors.

import {
  type CustomPatternMatcherReturn,
  createToken,
  type IToken,
  Lexer,
  type TokenType,
} from "chevrotain";
import { type Diagnostic, diagnostic } from "../compiler/core/diagnostics.js";
import { tokenSpan } from "./spans.js";

// ---------------------------------------------------------------- categories

/** Anything usable as a name after `.`, before `=` in a call, or before `:` in a record. */
export const Name = createToken({ name: "Name", pattern: Lexer.NA, label: "a name" });
/** Binary operators; the parser folds them by precedence (see build.ts). */
export const BinaryOperator = createToken({ name: "BinaryOperator", pattern: Lexer.NA });

// ---------------------------------------------------------------- trivia and errors

const WhiteSpace = createToken({
  name: "WhiteSpace",
  pattern: /[ \t\r\n\f\v]+/,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

/** `// …` to the end of the line. (`//` is never an operator: `/` on two ints already floors.) */
const LineComment = createToken({
  name: "LineComment",
  pattern: /\/\/[^\n\r]*/,
  group: Lexer.SKIPPED,
});

const BlockComment = createToken({
  name: "BlockComment",
  pattern: /\/\*[\s\S]*?\*\//,
  group: Lexer.SKIPPED,
  line_breaks: true,
});

const UnterminatedComment = createToken({
  name: "UnterminatedComment",
  pattern: /\/\*[\s\S]*/,
  group: "errors",
  line_breaks: true,
});

export const StringLiteral = createToken({
  name: "StringLiteral",
  pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*"/,
  label: "a string",
});

const UnterminatedString = createToken({
  name: "UnterminatedString",
  pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*\\?/,
  group: "errors",
});

/** `1e`, `2.5e+`, `3x`, `1e5q`: a number glued to letters or with an empty exponent. */
const BadNumber = createToken({
  name: "BadNumber",
  pattern: {
    exec: (text: string, offset: number): CustomPatternMatcherReturn | null => {
      const m = /^\d+(?:\.\d+)?(?:[eE][+-]?\d*)?[A-Za-z0-9_]*/.exec(
        text.slice(offset, offset + 400),
      );
      if (m === null) return null;
      return /^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/.test(m[0]) ? null : [m[0]];
    },
  },
  start_chars_hint: ["0", "1", "2", "3", "4", "5", "6", "7", "8", "9"],
  line_breaks: false,
  group: "errors",
});

export const NumberLiteral = createToken({
  name: "NumberLiteral",
  pattern: /\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/,
  label: "a number",
});

// ---------------------------------------------------------------- names and keywords

export const Identifier = createToken({
  name: "Identifier",
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  categories: [Name],
  label: "a name",
});

function keyword(word: string): TokenType {
  return createToken({
    name: word[0]!.toUpperCase() + word.slice(1),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: [Name],
    label: `\`${word}\``,
  });
}

export const Import = keyword("import");
export const Def = keyword("def");
export const Model = keyword("model");
export const Layer = keyword("layer");
export const Let = keyword("let");
export const Param = keyword("param");
export const Buffer = keyword("buffer");
export const Require = keyword("require");
export const Return = keyword("return");
export const If = keyword("if");
export const Then = keyword("then");
export const Else = keyword("else");
export const For = keyword("for");
export const In = keyword("in");
export const Init = keyword("init");
export const True = keyword("true");
export const False = keyword("false");

// First match wins and `longer_alt` only falls back to Identifier, so a keyword that is a
// prefix of another (`in` of `init`) must come after it.
const keywords = [
  Import,
  Def,
  Model,
  Layer,
  Let,
  Param,
  Buffer,
  Require,
  Return,
  If,
  Then,
  Else,
  For,
  Init,
  In,
  True,
  False,
];

// ---------------------------------------------------------------- punctuation

function punct(name: string, image: string, categories: TokenType[] = []): TokenType {
  return createToken({ name, pattern: image, label: `\`${image}\``, categories });
}

export const Arrow = punct("Arrow", "->");
export const DotDot = punct("DotDot", "..", [BinaryOperator]);
export const EqEq = punct("EqEq", "==", [BinaryOperator]);
export const NotEq = punct("NotEq", "!=", [BinaryOperator]);
export const LtEq = punct("LtEq", "<=", [BinaryOperator]);
export const GtEq = punct("GtEq", ">=", [BinaryOperator]);
export const AndAnd = punct("AndAnd", "&&", [BinaryOperator]);
export const OrOr = punct("OrOr", "||", [BinaryOperator]);
export const Lt = punct("Lt", "<", [BinaryOperator]);
export const Gt = punct("Gt", ">", [BinaryOperator]);
export const Equals = punct("Equals", "=");
export const Plus = punct("Plus", "+", [BinaryOperator]);
export const Minus = punct("Minus", "-", [BinaryOperator]);
export const Star = punct("Star", "*", [BinaryOperator]);
export const Slash = punct("Slash", "/", [BinaryOperator]);
export const Percent = punct("Percent", "%", [BinaryOperator]);
export const At = punct("At", "@", [BinaryOperator]);
export const Bang = punct("Bang", "!");
export const Dot = punct("Dot", ".");
export const Comma = punct("Comma", ",");
export const Colon = punct("Colon", ":");
export const Pipe = punct("Pipe", "|");
export const LParen = punct("LParen", "(");
export const RParen = punct("RParen", ")");
export const LBracket = punct("LBracket", "[");
export const RBracket = punct("RBracket", "]");
export const LBrace = punct("LBrace", "{");
export const RBrace = punct("RBrace", "}");

/** Every token type, in lexing priority order (first match wins). */
export const allTokens: TokenType[] = [
  WhiteSpace,
  LineComment,
  BlockComment,
  UnterminatedComment,
  StringLiteral,
  UnterminatedString,
  BadNumber,
  NumberLiteral,
  ...keywords,
  Identifier,
  Arrow,
  DotDot,
  EqEq,
  NotEq,
  LtEq,
  GtEq,
  AndAnd,
  OrOr,
  Lt,
  Gt,
  Equals,
  Plus,
  Minus,
  Star,
  Slash,
  Percent,
  At,
  Bang,
  Dot,
  Comma,
  Colon,
  Pipe,
  LParen,
  RParen,
  LBracket,
  RBracket,
  LBrace,
  RBrace,
  Name,
  BinaryOperator,
];

let lexer: Lexer | undefined;

export interface LexResult {
  tokens: IToken[];
  diagnostics: Diagnostic[];
}

/** Tokenizes `text`; never fails: every problem is a diagnostic, and the token stream stays usable. */
export function lex(text: string, file: string): LexResult {
  lexer ??= new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false });
  const result = lexer.tokenize(text);
  const diagnostics: Diagnostic[] = [];
  const repaired: IToken[] = [];
  for (const tok of result.groups.errors ?? []) {
    const span = tokenSpan(tok, file);
    switch (tok.tokenType) {
      case UnterminatedComment:
        diagnostics.push(
          diagnostic("NN1003", "unterminated block comment: `/*` has no closing `*/`", {
            ...span,
            end: span.start + 2,
            endLine: span.line,
            endCol: span.col + 2,
          }),
        );
        break;
      case UnterminatedString:
        diagnostics.push(
          diagnostic("NN1002", 'unterminated string: missing the closing `"`', span, {
            hint: "a string must end on the line it starts",
          }),
        );
        repaired.push({
          ...tok,
          tokenType: StringLiteral,
          tokenTypeIdx: StringLiteral.tokenTypeIdx!,
        });
        break;
      case BadNumber:
        diagnostics.push(
          diagnostic("NN1005", `invalid number \`${tok.image}\``, span, {
            hint: /[eE][+-]?$/.test(tok.image)
              ? "an exponent needs digits, as in `1e-5`"
              : "a name cannot start with a digit",
          }),
        );
        repaired.push({
          ...tok,
          tokenType: NumberLiteral,
          tokenTypeIdx: NumberLiteral.tokenTypeIdx!,
        });
        break;
    }
  }
  for (const tok of result.tokens) {
    if (tok.tokenType === StringLiteral) checkEscapes(tok, file, diagnostics);
  }
  // Characters no token matches; Chevrotain reports each run of them once.
  for (const err of result.errors) {
    const chars = text.slice(err.offset, err.offset + err.length);
    const line = err.line ?? 1;
    const col = err.column ?? 1;
    diagnostics.push(
      diagnostic(
        "NN1004",
        `invalid character${[...chars].length > 1 ? "s" : ""} ${describeChars(chars)}`,
        {
          file,
          start: err.offset,
          end: err.offset + err.length,
          line,
          col,
          endLine: line,
          endCol: col + err.length,
        },
      ),
    );
  }
  const tokens =
    repaired.length === 0
      ? result.tokens
      : [...result.tokens, ...repaired].sort((a, b) => a.startOffset - b.startOffset);
  return { tokens, diagnostics };
}

/** Invalid characters quoted for a message, control characters as `\u{…}` escapes. */
function describeChars(chars: string): string {
  const printable = [...chars]
    .map((ch) => {
      const cp = ch.codePointAt(0)!;
      return cp < 32 || cp === 127 ? `\\u{${cp.toString(16)}}` : ch;
    })
    .join("");
  return printable.includes("`") ? `'${printable}'` : `\`${printable}\``;
}

const escapes: Record<string, string> = { '"': '"', "\\": "\\", n: "\n", t: "\t" };

function checkEscapes(tok: IToken, file: string, out: Diagnostic[]): void {
  const s = tok.image;
  for (let i = 1; i < s.length - 1; i++) {
    if (s[i] !== "\\") continue;
    const c = s[i + 1]!;
    if (!(c in escapes)) {
      const col = tok.startColumn! + i;
      out.push(
        diagnostic(
          "NN1004",
          `invalid escape \`\\${c}\` in a string`,
          {
            file,
            start: tok.startOffset + i,
            end: tok.startOffset + i + 2,
            line: tok.startLine!,
            col,
            endLine: tok.startLine!,
            endCol: col + 2,
          },
          { hint: 'a string may use `\\"`, `\\\\`, `\\n` and `\\t`' },
        ),
      );
    }
    i++;
  }
}

/** The value of a string literal token: quotes removed, escapes decoded. */
export function stringValue(image: string): string {
  const closed = image.length >= 2 && image.endsWith('"') && !isEscaped(image, image.length - 1);
  const body = image.slice(1, closed ? -1 : undefined);
  return body.replace(/\\(.)/g, (_, c: string) => escapes[c] ?? c);
}

function isEscaped(s: string, i: number): boolean {
  let n = 0;
  while (i - 1 - n >= 0 && s[i - 1 - n] === "\\") n++;
  return n % 2 === 1;
}
