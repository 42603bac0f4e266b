// The .nn grammar's declarations and statements, on top of the expression
// rules of expression-parser.ts. parser.ts drives it one declaration at a
// time; the grammar itself is summarised in docs/language.md.

import { EOF, type IToken } from "chevrotain";
import { diagnostic } from "../compiler/core/diagnostics.js";
import type {
  Block,
  CallableDecl,
  CallableFlavor,
  Decl,
  DimAnn,
  Expr,
  HyperParam,
  Ident,
  Import as ImportNode,
  InputParam,
  LetStmt,
  RecordTypeAnn,
  Stmt,
  TensorTypeAnn,
  TypeAnn,
} from "./ast.js";
import { ident, numberLit, stringLit } from "./build.js";
import { ExpressionParser } from "./expression-parser.js";
import {
  Colon,
  Comma,
  Def,
  Dot,
  Equals,
  Identifier,
  Import,
  Layer,
  LBrace,
  LBracket,
  Let,
  LParen,
  Model,
  NumberLiteral,
  Pipe,
  RBrace,
  RBracket,
  Require,
  Return,
  RParen,
  StringLiteral,
} from "./lexer.js";
import { HINT_SEPARATOR, SyntaxContext } from "./messages.js";
import { tokenSpan } from "./spans.js";

export class NnParser extends ExpressionParser {
  constructor(ctx: SyntaxContext = new SyntaxContext()) {
    super(ctx);
    this.performSelfAnalysis();
  }

  /** Parses one declaration (the chunk parser.ts split off); `follower` is the token after it. */
  parseChunk(
    tokens: IToken[],
    follower: IToken | undefined,
    file: string,
  ): ImportNode | Decl | undefined {
    this.file = file;
    this.extra = [];
    this.nesting = 0;
    this.ctx.follower = follower;
    this.input = tokens;
    return this.declaration();
  }

  /** The token the parser was looking at (where a stack overflow happened). */
  currentToken(): IToken {
    return this.LA(1);
  }

  /** Two statements on one line are almost always a missing `->` or operator. */
  private juxtaposed(tok: IToken): void {
    this.extra.push(
      diagnostic(
        "NN1001",
        `expected an operator, \`->\` or a new line before ${this.ctx.describe(tok)}`,
        tokenSpan(tok, this.file),
        { hint: "each statement starts on a new line" },
      ),
    );
  }

  // ---------------------------------------------------------------- declarations

  declaration = this.RULE("declaration", (): ImportNode | Decl => {
    return this.OR({
      DEF: [
        { ALT: () => this.SUBRULE(this.importDecl) },
        { ALT: () => this.SUBRULE(this.callable) },
        { ALT: () => this.SUBRULE(this.letStmt) },
      ],
      ERR_MSG: "a declaration (`import`, `def`, `model`, `layer` or `let`)",
    });
  });

  importDecl = this.RULE("importDecl", (): ImportNode => {
    const kw = this.CONSUME(Import);
    const target = this.OR({
      DEF: [{ ALT: () => this.CONSUME(Identifier) }, { ALT: () => this.CONSUME(StringLiteral) }],
      ERR_MSG: 'a module name (`import rnn`) or a file path in quotes (`import "./blocks.nn"`)',
    });
    return this.ACTION(() => ({
      kind: "Import",
      target:
        target.tokenType === StringLiteral
          ? { kind: "file", path: stringLit(target, this.file).value }
          : { kind: "module", name: target.image },
      span: this.span(kw),
    }));
  });

  callable = this.RULE("callable", (): CallableDecl => {
    const kw = this.OR([
      { ALT: () => this.CONSUME(Def) },
      { ALT: () => this.CONSUME(Model) },
      { ALT: () => this.CONSUME(Layer) },
    ]);
    const name = this.CONSUME(Identifier);
    let hyper: HyperParam[] = [];
    let inputs: InputParam[] | null = null;
    let body: Expr | Block | undefined;
    this.OR3({
      // `model m(input: f32[N, 64]) { ... }`: one list before a block is the input
      // list of a callable without hyperparameters.
      IGNORE_AMBIGUITIES: true,
      DEF: [
        {
          GATE: () => this.singleListBeforeBlock(),
          ALT: () => {
            inputs = this.SUBRULE2(this.inputList);
            body = this.SUBRULE2(this.block);
          },
        },
        {
          ALT: () => {
            this.OPTION(() => {
              hyper = this.SUBRULE(this.hyperList);
            });
            this.OR2({
              DEF: [
                {
                  ALT: () => {
                    this.CONSUME(Equals);
                    body = this.SUBRULE(this.expression);
                  },
                },
                {
                  ALT: () => {
                    inputs = this.SUBRULE(this.inputList);
                    body = this.SUBRULE(this.block);
                  },
                },
              ],
              ERR_MSG: `\`(\` to open the input list, or \`=\` for a point-free def${HINT_SEPARATOR}the header is \`NAME(hyperparameters)(inputs) { ... }\` or, without hyperparameters, \`NAME(inputs) { ... }\``,
            });
          },
        },
      ],
    });
    return this.ACTION(() => {
      const flavor = kw.image as CallableFlavor;
      if (inputs === null && flavor !== "def") {
        this.extra.push(
          diagnostic(
            "NN1006",
            `a ${flavor} takes the block form, not \`= expression\``,
            tokenSpan(kw, this.file),
            {
              hint: `write \`${flavor} ${name.image}(hyperparameters)(inputs) { ... }\``,
            },
          ),
        );
      }
      return {
        kind: "Callable",
        flavor,
        name: ident(name, this.file),
        hyper,
        inputs,
        body: body!,
        span: this.span(kw),
      };
    });
  });

  /** Is the next thing `( ... ) {`: one parenthesised list, then a block? */
  private singleListBeforeBlock(): boolean {
    if (this.LA(1).tokenType !== LParen) return false;
    let depth = 0;
    for (let k = 1; ; k++) {
      const t = this.LA(k).tokenType;
      if (t === EOF) return false;
      if (t === LParen || t === LBracket || t === LBrace) depth++;
      else if (t === RParen || t === RBracket || t === RBrace) {
        depth--;
        if (depth === 0) return t === RParen && this.LA(k + 1).tokenType === LBrace;
      }
    }
  }

  hyperList = this.RULE("hyperList", (): HyperParam[] => {
    const open = this.CONSUME(LParen);
    const items = this.commaList(this.hyperParam, RParen, "a hyperparameter");
    this.CONSUME(RParen, this.closing(RParen, open, "hyperparameter list"));
    return items;
  });

  hyperParam = this.RULE("hyperParam", (): HyperParam => {
    const name = this.CONSUME(Identifier);
    let type: TypeAnn | null = null;
    let value: Expr | null = null;
    this.OPTION(() => {
      this.CONSUME(Colon);
      type = this.SUBRULE(this.typeAnn);
    });
    this.OPTION2(() => {
      this.CONSUME(Equals);
      value = this.SUBRULE(this.expression);
    });
    return this.ACTION(() => ({
      kind: "HyperParam",
      name: ident(name, this.file),
      type,
      default: value,
      span: this.span(name),
    }));
  });

  typeAnn = this.RULE("typeAnn", (): TypeAnn => {
    const first = this.LA(1);
    const words: IToken[] = [];
    this.OR({
      DEF: [
        { ALT: () => words.push(this.CONSUME(Layer)) },
        {
          ALT: () => {
            words.push(this.CONSUME(Identifier));
            this.MANY(() => {
              this.CONSUME(Pipe);
              words.push(this.CONSUME2(Identifier));
            });
          },
        },
      ],
      ERR_MSG:
        "a type (`int`, `float`, `bool`, `string`, `layer`, `any`, or an enum like `dot | general`)",
    });
    return this.ACTION(() => {
      const span = this.span(first);
      return words.length === 1
        ? { kind: "NamedType", name: ident(words[0]!, this.file), span }
        : { kind: "EnumType", words: words.map((w) => ident(w, this.file)), span };
    });
  });

  inputList = this.RULE("inputList", (): InputParam[] => {
    const open = this.CONSUME(LParen);
    const items = this.commaList(this.inputParam, RParen, "an input");
    this.CONSUME(RParen, this.closing(RParen, open, "input list"));
    return items;
  });

  inputParam = this.RULE("inputParam", (): InputParam => {
    const name = this.CONSUME(Identifier);
    let type: TensorTypeAnn | RecordTypeAnn | null = null;
    let value: Expr | null = null;
    this.OPTION(() => {
      this.CONSUME(Colon);
      type = this.OR({
        DEF: [
          { ALT: () => this.SUBRULE(this.recordType) },
          { ALT: () => this.SUBRULE(this.tensorType) },
        ],
        ERR_MSG: "a tensor type (`f32[N, 3, H, W]`) or a record of tensors (`{h, c}`)",
      });
    });
    this.OPTION2(() => {
      this.CONSUME(Equals);
      value = this.SUBRULE(this.expression);
    });
    return this.ACTION(() => ({
      kind: "InputParam",
      name: ident(name, this.file),
      type,
      default: value,
      span: this.span(name),
    }));
  });

  tensorType = this.RULE("tensorType", (): TensorTypeAnn => {
    const dtype = this.CONSUME(Identifier);
    let dims: DimAnn[] | null = null;
    this.OPTION(() => {
      const open = this.CONSUME(LBracket);
      dims = this.commaList(this.dim, RBracket, "a dimension");
      this.CONSUME(RBracket, this.closing(RBracket, open, "shape"));
    });
    return this.ACTION(() => ({
      kind: "TensorType",
      dtype: ident(dtype, this.file),
      dims,
      span: this.span(dtype),
    }));
  });

  dim = this.RULE("dim", (): DimAnn => {
    let fallback: IToken | undefined;
    const tok = this.OR({
      DEF: [{ ALT: () => this.CONSUME(NumberLiteral) }, { ALT: () => this.CONSUME(Identifier) }],
      ERR_MSG: "a dimension (an integer, a name or `_`)",
    });
    // `T = 64`: the size an entry uses when no given shape binds T.
    this.OPTION(() => {
      this.CONSUME(Equals);
      fallback = this.CONSUME2(NumberLiteral);
    });
    return this.ACTION((): DimAnn => {
      const span = tokenSpan(tok, this.file);
      const intOrError = (t: IToken): number => {
        const n = numberLit(t, this.file);
        if (!n.isInt || n.value < 1) {
          this.extra.push(
            diagnostic(
              "NN1001",
              t === tok
                ? `expected a dimension (an integer, a name or \`_\`), found \`${t.image}\``
                : `a dimension's default must be a positive integer, found \`${t.image}\``,
              tokenSpan(t, this.file),
            ),
          );
        }
        return n.value;
      };
      if (tok.tokenType === NumberLiteral || tok.image === "_") {
        if (fallback !== undefined) {
          this.extra.push(
            diagnostic(
              "NN1001",
              "only a named dimension takes a default",
              tokenSpan(fallback, this.file),
            ),
          );
        }
        if (tok.image === "_") return { kind: "DimAny", span };
        const n = numberLit(tok, this.file);
        if (!n.isInt) intOrError(tok);
        return { kind: "DimInt", value: n.value, span };
      }
      return fallback === undefined
        ? { kind: "DimName", name: tok.image, span }
        : { kind: "DimName", name: tok.image, default: intOrError(fallback), span };
    });
  });

  recordType = this.RULE("recordType", (): RecordTypeAnn => {
    const open = this.CONSUME(LBrace);
    const fields = this.commaList(this.fieldName, RBrace, "a field name");
    this.CONSUME(RBrace, this.closing(RBrace, open, "record type"));
    return this.ACTION(() => ({ kind: "RecordType", fields, span: this.span(open) }));
  });

  fieldName = this.RULE("fieldName", (): Ident => {
    const tok = this.CONSUME(Identifier);
    return this.ACTION(() => ident(tok, this.file));
  });

  // ---------------------------------------------------------------- statements

  block = this.RULE("block", (): Block => {
    const open = this.CONSUME(LBrace);
    const stmts: Stmt[] = [];
    this.MANY(() => {
      this.ACTION(() => {
        if (stmts.length > 0 && this.onSameLine()) this.juxtaposed(this.LA(1));
      });
      stmts.push(this.SUBRULE(this.statement));
    });
    this.CONSUME(RBrace, this.closing(RBrace, open, "block"));
    return this.ACTION(() => ({ kind: "Block", stmts, span: this.span(open) }));
  });

  statement = this.RULE("statement", (): Stmt => {
    return this.OR({
      DEF: [
        { ALT: () => this.SUBRULE(this.letStmt) },
        { ALT: () => this.SUBRULE(this.requireStmt) },
        { ALT: () => this.SUBRULE(this.returnStmt) },
        {
          GATE: () =>
            this.LA(1).image === "update" &&
            this.LA(2).image === "self" &&
            this.LA(3).tokenType === Dot,
          ALT: () => this.SUBRULE(this.updateStmt),
        },
        // `param`/`buffer` statements parse as a ParamExpr, unwrapped in exprStmt.
        { ALT: () => this.SUBRULE(this.exprStmt) },
      ],
      ERR_MSG: "a statement (`let`, `param`, `buffer`, `require`, `return` or an expression)",
    });
  });

  letStmt = this.RULE("letStmt", (): LetStmt => {
    const kw = this.CONSUME(Let);
    const names = this.SUBRULE(this.nameList);
    this.CONSUME(Equals);
    const value = this.SUBRULE(this.expression);
    return this.ACTION(() => ({ kind: "Let", names, value, span: this.span(kw) }));
  });

  requireStmt = this.RULE("requireStmt", (): Stmt => {
    const kw = this.CONSUME(Require);
    const cond = this.SUBRULE(this.expression);
    this.CONSUME(Comma);
    const message = this.CONSUME(StringLiteral);
    let hint: IToken | undefined;
    this.OPTION(() => {
      this.CONSUME2(Comma);
      hint = this.CONSUME2(StringLiteral);
    });
    return this.ACTION(() => ({
      kind: "Require",
      cond,
      message: stringLit(message, this.file),
      hint: hint === undefined ? null : stringLit(hint, this.file),
      span: this.span(kw),
    }));
  });

  updateStmt = this.RULE("updateStmt", (): Stmt => {
    const kw = this.CONSUME(Identifier);
    this.CONSUME2(Identifier);
    this.CONSUME(Dot);
    const name = this.CONSUME3(Identifier);
    this.CONSUME(Equals);
    const value = this.SUBRULE(this.expression);
    return this.ACTION(() => ({
      kind: "Update",
      buffer: ident(name, this.file),
      value,
      span: this.span(kw),
    }));
  });

  returnStmt = this.RULE("returnStmt", (): Stmt => {
    const kw = this.CONSUME(Return);
    const value = this.SUBRULE(this.expression);
    return this.ACTION(() => ({ kind: "Return", value, span: this.span(kw) }));
  });

  exprStmt = this.RULE("exprStmt", (): Stmt => {
    const first = this.LA(1);
    const expr = this.SUBRULE(this.expression);
    return this.ACTION(() =>
      expr?.kind === "ParamExpr" ? expr.decl : { kind: "ExprStmt", expr, span: this.span(first) },
    );
  });
}
