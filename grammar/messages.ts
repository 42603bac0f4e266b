// Human wording for Chevrotain's syntax errors: "expected `)` to close the call
// opened at 3:14, found `->`". A message may carry a hint after "\nhint: ";
// parser.ts splits it off into the diagnostic's hint.

import {
  EOF,
  type IParserErrorMessageProvider,
  type IToken,
  type TokenType,
  tokenLabel,
} from "chevrotain";

export const HINT_SEPARATOR = "\nhint: ";

/** What the parser is looking at, for describing "found …". */
export class SyntaxContext {
  /**
   * The first token after the declaration being parsed. Declarations are parsed
   * one at a time, so Chevrotain's end of input is really this token.
   */
  follower: IToken | undefined;

  /** "`->`", "`conv`", "the end of the file". */
  describe(tok: IToken | undefined): string {
    if (tok === undefined || tok.tokenType === EOF) {
      return this.follower === undefined ? "the end of the file" : quote(this.follower.image);
    }
    return quote(tok.image);
  }
}

/** A keyword token (`init`, `param`, `model`, …), which can never be a name. */
function isReserved(tok: IToken | undefined): boolean {
  return (
    tok !== undefined &&
    tok.tokenType !== EOF &&
    tok.tokenType.name !== "Identifier" &&
    /^[A-Za-z_]\w*$/.test(tok.image)
  );
}

/** The hint for an unexpected reserved word: it cannot be a name or a label. */
function reservedHint(tok: IToken | undefined): string | undefined {
  if (tok === undefined || !isReserved(tok) || tok.image === "true" || tok.image === "false")
    return undefined;
  return `\`${tok.image}\` is a reserved word and cannot name a value, label or parameter; rename it (e.g. \`${tok.image}_\`)`;
}

function quote(image: string): string {
  const short = image.length > 24 ? `${image.slice(0, 21)}...` : image;
  return short.includes("`") ? `'${short}'` : `\`${short}\``;
}

/** "`)`", "a name", "a number". */
export function labelOf(type: TokenType): string {
  return tokenLabel(type);
}

/** "a, b or c". */
function oneOf(labels: string[]): string {
  const unique = [...new Set(labels)];
  if (unique.length <= 1) return unique[0] ?? "something else";
  return `${unique.slice(0, -1).join(", ")} or ${unique[unique.length - 1]}`;
}

function withHint(expected: string, found: string, tok?: IToken): string {
  const [what, given] = expected.split(HINT_SEPARATOR);
  // A keyword where a name could stand (`let param = …`, `-> init: …`) is said to be one.
  const wantsName = /\b(name|expression)\b/.test(what!);
  const reserved = wantsName ? reservedHint(tok) : undefined;
  const hint = given ?? reserved;
  const shown = reserved === undefined ? found : `the reserved word ${found}`;
  return `expected ${what}, found ${shown}${hint === undefined ? "" : HINT_SEPARATOR + hint}`;
}

export function messageProvider(ctx: SyntaxContext): IParserErrorMessageProvider {
  return {
    buildMismatchTokenMessage({ expected, actual }) {
      return withHint(labelOf(expected), ctx.describe(actual), actual);
    },
    buildNotAllInputParsedMessage({ firstRedundant }) {
      return `unexpected ${ctx.describe(firstRedundant)} after the end of the declaration`;
    },
    buildNoViableAltMessage({ expectedPathsPerAlt, actual, customUserDescription }) {
      const expected =
        customUserDescription ??
        oneOf(expectedPathsPerAlt.flatMap((paths) => paths.map((p) => labelOf(p[0]!))));
      return withHint(expected, ctx.describe(actual[0]), actual[0]);
    },
    buildEarlyExitMessage({ expectedIterationPaths, actual, customUserDescription }) {
      const expected =
        customUserDescription ?? oneOf(expectedIterationPaths.map((p) => labelOf(p[0]!)));
      return withHint(expected, ctx.describe(actual[0]), actual[0]);
    },
  };
}
