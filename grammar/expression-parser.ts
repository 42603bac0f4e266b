// The expression half of the .nn grammar (a Chevrotain EmbeddedActionsParser
// whose rules build AST nodes directly): pipelines and labels, operators,
// calls, indexing, lists, comprehensions, records, `if`, and `param` bodies.
// nn-parser.ts adds declarations and statements on top.

import {
  EmbeddedActionsParser,
  EOF,
  type IToken,
  type ParserMethod,
  type TokenType,
} from "chevrotain";
import { type Diagnostic, diagnostic } from "../compiler/core/diagnostics.js";
import type {
  Arg,
  ComprehensionClause,
  Expr,
  Ident,
  IndexItem,
  ParamStmt,
  RecordExpr,
  StringLit,
} from "./ast.js";
import { foldBinary, ident, numberLit, type Operand, sameLine, stringLit } from "./build.js";
import {
  Arrow,
  allTokens,
  Bang,
  BinaryOperator,
  Buffer,
  Colon,
  Comma,
  Dot,
  Else,
  Equals,
  False,
  For,
  Identifier,
  If,
  In,
  Init,
  LBrace,
  LBracket,
  LParen,
  Minus,
  Name,
  NumberLiteral,
  Param,
  RBrace,
  RBracket,
  RParen,
  StringLiteral,
  Then,
  True,
} from "./lexer.js";
import { HINT_SEPARATOR, labelOf, messageProvider, type SyntaxContext } from "./messages.js";
import { spanBetween, tokenPosition, tokenSpan } from "./spans.js";

/**
 * Expression nesting the parser follows before giving up with NN5004. Brackets are
 * already capped at 200 by limits.ts; this catches `if … else if …` chains and the
 * like well before the JavaScript stack runs out (around 600 levels with Node's
 * default stack).
 */
export const MAX_PARSE_NESTING = 300;

/** Thrown when expressions nest deeper than MAX_PARSE_NESTING. */
export class NestingError extends Error {
  constructor(readonly token: IToken) {
    super("nesting too deep");
  }
}

/** A rule without arguments, as commaList takes it. */
type Rule<T> = ParserMethod<[], T>;

/** The expression rules; subclasses add entry rules and call performSelfAnalysis(). */
export class ExpressionParser extends EmbeddedActionsParser {
  file = "";
  /** Syntax diagnostics found by the actions themselves (a float used as a label, …). */
  extra: Diagnostic[] = [];
  protected nesting = 0;

  constructor(readonly ctx: SyntaxContext) {
    super(allTokens, {
      recoveryEnabled: true,
      maxLookahead: 3,
      errorMessageProvider: messageProvider(ctx),
    });
  }

  // ---------------------------------------------------------------- helpers

  protected span(first: IToken) {
    return spanBetween(first, this.LA(0), this.file);
  }

  /** ERR_MSG for a closing bracket: names the opener and where it was. */
  protected closing(close: TokenType, open: IToken, what: string, hint?: string) {
    if (this.RECORDING_PHASE || this.LA(1).tokenType === close) return undefined;
    const found = this.ctx.describe(this.LA(1));
    const tail = hint === undefined ? "" : HINT_SEPARATOR + hint;
    return {
      ERR_MSG: `expected ${labelOf(close)} to close the ${what} opened at ${tokenPosition(open)}, found ${found}${tail}`,
    };
  }

  /** ERR_MSG for `then`/`else`: names the `if` they belong to. */
  protected partOfIf(part: TokenType, ifTok: IToken) {
    if (this.RECORDING_PHASE || this.LA(1).tokenType === part) return undefined;
    const found = this.ctx.describe(this.LA(1));
    return {
      ERR_MSG: `expected ${labelOf(part)} to go with the \`if\` at ${tokenPosition(ifTok)}, found ${found}`,
    };
  }

  /**
   * `item, item, …` with an optional trailing comma, up to (not including) `close`;
   * `what` names an item for "expected …" after a comma (`f(a,,b)`).
   */
  protected commaList<T>(rule: Rule<T>, close: TokenType, what: string): T[] {
    const items: T[] = [];
    this.OPTION9(() => {
      items.push(this.SUBRULE8(rule));
      this.MANY9(() => {
        this.CONSUME9(Comma);
        this.OR9({
          DEF: [
            { ALT: () => items.push(this.SUBRULE9(rule)) },
            { GATE: () => this.LA(1).tokenType === close, ALT: () => undefined },
          ],
          ERR_MSG: `${what} or ${labelOf(close)}`,
        });
      });
    });
    return items;
  }

  protected onSameLine = (): boolean => sameLine(this.LA(0), this.LA(1));

  // ---------------------------------------------------------------- shared with statements

  nameList = this.RULE("nameList", (): Ident[] => {
    const names: IToken[] = [this.CONSUME(Identifier)];
    this.MANY(() => {
      this.CONSUME(Comma);
      names.push(this.CONSUME2(Identifier));
    });
    return this.ACTION(() => names.map((n) => ident(n, this.file)));
  });

  /**
   * Everything after `param`/`buffer`: `NAME: dtype? [dims] (init RULE)? (if cond)?`.
   * RULE is an operand (`zeros`, `normal(0.02)`, `-2.0`); elaboration reads it as a rule.
   */
  paramBody = this.RULE("paramBody", (kw: IToken): ParamStmt => {
    let name: Ident | StringLit | undefined;
    let dtype: Ident | null = null;
    let init: Expr | null = null;
    let cond: Expr | null = null;
    this.OR({
      DEF: [
        {
          ALT: () => {
            const t = this.CONSUME(Identifier);
            name = this.ACTION(() => ident(t, this.file));
          },
        },
        {
          ALT: () => {
            const t = this.CONSUME(StringLiteral);
            name = this.ACTION(() => stringLit(t, this.file));
          },
        },
      ],
      ERR_MSG: 'a parameter name (a name or a string template like `"weight_l{k}"`)',
    });
    this.CONSUME(Colon);
    this.OPTION(() => {
      const t = this.CONSUME2(Identifier);
      dtype = this.ACTION(() => ident(t, this.file));
    });
    const dims = this.SUBRULE(this.shape);
    this.OPTION2(() => {
      this.CONSUME(Init);
      init = this.SUBRULE(this.operand);
    });
    this.OPTION3({
      GATE: this.onSameLine,
      DEF: () => {
        this.CONSUME(If);
        cond = this.SUBRULE(this.chain);
      },
    });
    return this.ACTION(() => ({
      kind: "Param",
      role: kw.image === "buffer" ? "buffer" : "param",
      name: name!,
      dtype,
      dims,
      init,
      cond,
      span: this.span(kw),
    }));
  });

  shape = this.RULE("shape", (): Expr[] => {
    const open = this.CONSUME(LBracket);
    const dims = this.commaList(this.chain, RBracket, "an expression");
    this.CONSUME(RBracket, this.closing(RBracket, open, "shape"));
    return dims;
  });

  // ---------------------------------------------------------------- expressions

  /**
   * `stage -> stage -> …`, a Pipeline only with two or more stages; a stage may be
   * labelled: `conv1: conv(64, 7)`, `0: block(c)`. Stages are inlined here rather
   * than a rule of their own: every rule on the recursion path costs stack.
   */
  expression = this.RULE(
    "expression",
    (): Expr => {
      const first = this.LA(1);
      const stages: Expr[] = [];
      this.AT_LEAST_ONE_SEP({
        SEP: Arrow,
        DEF: () => {
          let label: IToken | undefined;
          this.OPTION({
            GATE: () => this.LA(2).tokenType === Colon,
            DEF: () => {
              label = this.OR([
                { ALT: () => this.CONSUME(Identifier) },
                { ALT: () => this.CONSUME(NumberLiteral) },
                { ALT: () => this.CONSUME(StringLiteral) },
              ]);
              this.CONSUME(Colon);
            },
          });
          const expr = this.SUBRULE(this.chain);
          this.ACTION(() => stages.push(label === undefined ? expr : this.labeled(label, expr)));
        },
        ERR_MSG: "an expression",
      });
      return this.ACTION(() =>
        stages.length === 1 ? stages[0]! : { kind: "Pipeline", stages, span: this.span(first) },
      );
    },
    { recoveryValueFunc: () => this.errorNode() },
  );

  protected labeled(label: IToken, expr: Expr): Expr {
    if (label.tokenType === NumberLiteral && !/^\d+$/.test(label.image)) {
      this.extra.push(
        diagnostic(
          "NN1001",
          `a label must be a name or an integer, found \`${label.image}\``,
          tokenSpan(label, this.file),
        ),
      );
    }
    const labelSpan = tokenSpan(label, this.file);
    if (label.tokenType === StringLiteral) {
      // `"denselayer{i}": ...`: a template label, filled when elaborated.
      const text = stringLit(label, this.file).value;
      return {
        kind: "Labeled",
        label: text,
        template: true,
        labelSpan,
        expr,
        span: this.span(label),
      };
    }
    return { kind: "Labeled", label: label.image, labelSpan, expr, span: this.span(label) };
  }

  /** Operands joined by binary operators, folded by precedence in build.ts. */
  chain = this.RULE(
    "chain",
    (): Expr => {
      if (!this.RECORDING_PHASE && ++this.nesting > MAX_PARSE_NESTING) {
        throw new NestingError(this.LA(1));
      }
      try {
        const operands: Operand[] = [];
        const ops: IToken[] = [];
        let first = this.LA(1);
        let node = this.SUBRULE(this.operand);
        this.ACTION(() => operands.push({ node, first, last: this.LA(0) }));
        this.MANY(() => {
          ops.push(this.CONSUME(BinaryOperator));
          first = this.LA(1);
          node = this.SUBRULE2(this.operand);
          this.ACTION(() => operands.push({ node, first, last: this.LA(0) }));
        });
        return this.ACTION(() => foldBinary(operands, ops, this.file).node);
      } finally {
        if (!this.RECORDING_PHASE) this.nesting--;
      }
    },
    { recoveryValueFunc: () => this.errorNode() },
  );

  /** Prefix operators, a primary, then calls, indexing and member access. */
  operand = this.RULE(
    "operand",
    (): Expr => {
      const prefixes: IToken[] = [];
      this.MANY(() => {
        prefixes.push(
          this.OR([{ ALT: () => this.CONSUME(Minus) }, { ALT: () => this.CONSUME(Bang) }]),
        );
      });
      const first = this.LA(1);
      let node = this.SUBRULE(this.primary);
      this.MANY2({
        // The newline rule: `(` or `[` at the start of a line begins a new statement.
        GATE: () => this.LA(1).tokenType === Dot || this.onSameLine(),
        DEF: () => {
          this.OR2([
            {
              ALT: () => {
                const args = this.SUBRULE(this.callArgs);
                node = this.ACTION(() => ({
                  kind: "Call",
                  callee: node,
                  args,
                  span: this.span(first),
                }));
              },
            },
            {
              ALT: () => {
                const items = this.SUBRULE(this.indexItems);
                node = this.ACTION(() => ({
                  kind: "Index",
                  object: node,
                  items,
                  span: this.span(first),
                }));
              },
            },
            {
              ALT: () => {
                this.CONSUME(Dot);
                const name = this.CONSUME(Name);
                node = this.ACTION(() => ({
                  kind: "Member",
                  object: node,
                  name: ident(name, this.file),
                  span: this.span(first),
                }));
              },
            },
          ]);
        },
      });
      return this.ACTION(() => {
        for (let i = prefixes.length - 1; i >= 0; i--) {
          const op = prefixes[i]!;
          node = { kind: "Unary", op: op.image as "-" | "!", operand: node, span: this.span(op) };
        }
        return node;
      });
    },
    { recoveryValueFunc: () => this.errorNode() },
  );

  callArgs = this.RULE("callArgs", (): Arg[] => {
    const open = this.CONSUME(LParen);
    const args = this.commaList(this.arg, RParen, "an argument");
    const hint =
      !this.RECORDING_PHASE && this.LA(1).tokenType === Arrow
        ? "a pipeline inside an argument needs parentheses, as in `f((a -> b))`"
        : undefined;
    this.CONSUME(RParen, this.closing(RParen, open, "call", hint));
    return args;
  });

  /** A positional argument `expr` or a keyword argument `name = expr` (keywords allowed as names). */
  arg = this.RULE("arg", (): Arg => {
    const first = this.LA(1);
    let name: IToken | undefined;
    this.OPTION({
      GATE: () => this.LA(2).tokenType === Equals,
      DEF: () => {
        name = this.CONSUME(Name);
        this.CONSUME(Equals);
      },
    });
    const value = this.SUBRULE(this.chain);
    return this.ACTION(() => ({
      kind: "Arg",
      name: name === undefined ? null : ident(name, this.file),
      value,
      span: this.span(first),
    }));
  });

  indexItems = this.RULE("indexItems", (): IndexItem[] => {
    const open = this.CONSUME(LBracket);
    const items = this.commaList(this.indexItem, RBracket, "an index or a slice");
    this.ACTION(() => {
      if (items.length === 0 && this.LA(1).tokenType === RBracket) {
        this.extra.push(
          diagnostic(
            "NN1001",
            "expected an index or a slice, found `]`",
            tokenSpan(this.LA(1), this.file),
          ),
        );
      }
    });
    this.CONSUME(RBracket, this.closing(RBracket, open, "index"));
    return items;
  });

  /** `expr` or a slice `start? : end? (: step?)?`. */
  indexItem = this.RULE("indexItem", (): IndexItem => {
    const first = this.LA(1);
    let start: Expr | null = null;
    let rest: { end: Expr | null; step: Expr | null } | undefined;
    this.OR({
      DEF: [
        {
          ALT: () => {
            start = this.SUBRULE(this.chain);
            this.OPTION(() => {
              rest = this.SUBRULE(this.sliceRest);
            });
          },
        },
        { ALT: () => (rest = this.SUBRULE2(this.sliceRest)) },
      ],
      ERR_MSG: "an index or a slice (`i`, `a:b`, `:`)",
    });
    return this.ACTION((): IndexItem => {
      const span = this.span(first);
      return rest === undefined
        ? { kind: "IndexExpr", value: start!, span }
        : { kind: "Slice", start, end: rest.end, step: rest.step, span };
    });
  });

  sliceRest = this.RULE("sliceRest", (): { end: Expr | null; step: Expr | null } => {
    let end: Expr | null = null;
    let step: Expr | null = null;
    this.CONSUME(Colon);
    this.OPTION(() => {
      end = this.SUBRULE(this.chain);
    });
    this.OPTION2(() => {
      this.CONSUME2(Colon);
      this.OPTION3(() => {
        step = this.SUBRULE2(this.chain);
      });
    });
    return { end, step };
  });

  primary = this.RULE(
    "primary",
    (): Expr => {
      return this.OR({
        DEF: [
          {
            ALT: () => {
              const t = this.CONSUME(NumberLiteral);
              return this.ACTION(() => numberLit(t, this.file));
            },
          },
          {
            ALT: () => {
              const t = this.CONSUME(StringLiteral);
              return this.ACTION(() => stringLit(t, this.file));
            },
          },
          {
            ALT: () => {
              const t = this.OR2([
                { ALT: () => this.CONSUME(True) },
                { ALT: () => this.CONSUME(False) },
              ]);
              return this.ACTION(() => ({
                kind: "Bool" as const,
                value: t.tokenType === True,
                span: tokenSpan(t, this.file),
              }));
            },
          },
          {
            ALT: () => {
              const t = this.CONSUME(Identifier);
              return this.ACTION(() => ident(t, this.file));
            },
          },
          {
            ALT: () => {
              const open = this.CONSUME(LParen);
              const e = this.SUBRULE(this.expression);
              this.CONSUME(RParen, this.closing(RParen, open, "parenthesis"));
              return e;
            },
          },
          { ALT: () => this.SUBRULE(this.bracket) },
          { ALT: () => this.SUBRULE(this.record) },
          { ALT: () => this.SUBRULE(this.ifExpr) },
          {
            ALT: () => {
              const kw = this.OR3([
                { ALT: () => this.CONSUME(Param) },
                { ALT: () => this.CONSUME(Buffer) },
              ]);
              const decl = this.SUBRULE(this.paramBody, { ARGS: [kw] });
              return this.ACTION(() =>
                decl === undefined
                  ? this.errorNode()
                  : { kind: "ParamExpr" as const, decl, span: decl.span },
              );
            },
          },
        ],
        ERR_MSG: "an expression",
      });
    },
    { recoveryValueFunc: () => this.errorNode() },
  );

  /** `[a, b, c]` or `[for i in 0..n if c: body]`. */
  bracket = this.RULE(
    "bracket",
    (): Expr => {
      const open = this.CONSUME(LBracket);
      let result: Expr | undefined;
      this.OR([
        {
          ALT: () => {
            const clauses: ComprehensionClause[] = [this.SUBRULE(this.forClause)];
            this.MANY(() => {
              clauses.push(
                this.OR2([
                  { ALT: () => this.SUBRULE2(this.forClause) },
                  {
                    ALT: () => {
                      const kw = this.CONSUME(If);
                      const cond = this.SUBRULE(this.chain);
                      return this.ACTION(() => ({
                        kind: "Filter" as const,
                        cond,
                        span: this.span(kw),
                      }));
                    },
                  },
                ]),
              );
            });
            this.CONSUME(Colon);
            const body = this.SUBRULE(this.expression);
            this.CONSUME(RBracket, this.closing(RBracket, open, "comprehension"));
            result = this.ACTION(() => ({
              kind: "Comprehension",
              clauses,
              body,
              span: this.span(open),
            }));
          },
        },
        {
          ALT: () => {
            const items = this.commaList(this.expression, RBracket, "an expression");
            this.CONSUME2(RBracket, this.closing(RBracket, open, "list"));
            result = this.ACTION(() => ({ kind: "List", items, span: this.span(open) }));
          },
        },
      ]);
      return result!;
    },
    { recoveryValueFunc: () => this.errorNode() },
  );

  forClause = this.RULE("forClause", (): ComprehensionClause => {
    const kw = this.CONSUME(For);
    const names = this.SUBRULE(this.nameList);
    this.CONSUME(In);
    const iter = this.SUBRULE(this.chain);
    return this.ACTION(() => ({ kind: "For", names, iter, span: this.span(kw) }));
  });

  /** `{name: expr, h, c}` (a bare name is shorthand for `name: name`). */
  record = this.RULE(
    "record",
    (): Expr => {
      const open = this.CONSUME(LBrace);
      const fields = this.commaList(this.recordField, RBrace, "a field");
      this.CONSUME(RBrace, this.closing(RBrace, open, "record"));
      return this.ACTION(() => ({ kind: "Record", fields, span: this.span(open) }));
    },
    { recoveryValueFunc: () => this.errorNode() },
  );

  recordField = this.RULE("recordField", (): RecordExpr["fields"][number] => {
    return this.OR([
      {
        GATE: () => this.LA(2).tokenType === Colon,
        ALT: () => {
          const name = this.CONSUME(Name);
          this.CONSUME(Colon);
          const value = this.SUBRULE(this.expression);
          return this.ACTION(() => ({
            name: ident(name, this.file),
            value,
            span: this.span(name),
          }));
        },
      },
      {
        ALT: () => {
          const name = this.CONSUME(Identifier);
          return this.ACTION(() => {
            const id = ident(name, this.file);
            return { name: id, value: { ...id, span: { ...id.span } }, span: id.span };
          });
        },
      },
    ]);
  });

  /** `if c then a else b`: each part a full expression; the else part extends as far as it can. */
  ifExpr = this.RULE(
    "ifExpr",
    (): Expr => {
      const kw = this.CONSUME(If);
      const cond = this.SUBRULE(this.expression);
      this.CONSUME(Then, this.partOfIf(Then, kw));
      const then = this.SUBRULE2(this.expression);
      this.CONSUME(Else, this.partOfIf(Else, kw));
      const otherwise = this.SUBRULE3(this.expression);
      return this.ACTION(() => ({ kind: "If", cond, then, else: otherwise, span: this.span(kw) }));
    },
    { recoveryValueFunc: () => this.errorNode() },
  );

  /** What a failed expression rule yields so the enclosing action can still build its node. */
  protected errorNode(): Expr {
    const tok = this.LA(0).tokenType === EOF ? this.LA(1) : this.LA(0);
    const span = Number.isNaN(tok.startOffset)
      ? { file: this.file, start: 0, end: 0, line: 1, col: 1, endLine: 1, endCol: 1 }
      : tokenSpan(tok, this.file);
    return { kind: "Ident", name: "<error>", span };
  }
}
