// The AST as indented text, for `nnc inspect --stage ast` and parser tests:
// one node per line, small expressions written inline as source, structure
// (pipelines, branches, blocks) spelled out with `@line:col` spans.

import type {
  Block,
  CallableDecl,
  Decl,
  DimAnn,
  Expr,
  HyperParam,
  IndexItem,
  InputParam,
  Labeled,
  Module,
  ParamStmt,
  Span,
  Stmt,
  TypeAnn,
} from "./ast.js";
import { precedence } from "./build.js";

/** Longest expression written on one line; longer ones are broken into their parts. */
const INLINE_WIDTH = 72;
/** Deeper expressions are elided; parse() never returns ASTs this deep. */
const MAX_PRINT_DEPTH = 1000;

export function printAst(module: Module): string {
  const out: string[] = [`Module ${module.file}`];
  for (const imp of module.imports) {
    const target = imp.target.kind === "module" ? imp.target.name : JSON.stringify(imp.target.path);
    out.push(`  Import ${target} ${at(imp.span)}`);
  }
  for (const decl of module.decls) printDecl(decl, 1, out);
  return `${out.join("\n")}\n`;
}

function at(span: Span): string {
  return `@${span.line}:${span.col}`;
}

/** A label as written: a name, an integer, or a quoted template. */
function labelText(e: Labeled): string {
  return e.template ? JSON.stringify(e.label) : e.label;
}

function pad(indent: number): string {
  return "  ".repeat(indent);
}

function printDecl(decl: Decl, indent: number, out: string[]): void {
  if (decl.kind === "Let") {
    printStmt(decl, indent, out);
    return;
  }
  printCallable(decl, indent, out);
}

function printCallable(decl: CallableDecl, indent: number, out: string[]): void {
  out.push(`${pad(indent)}Callable ${decl.flavor} ${decl.name.name} ${at(decl.span)}`);
  for (const h of decl.hyper) out.push(`${pad(indent + 1)}hyper ${hyperText(h)}`);
  for (const i of decl.inputs ?? []) out.push(`${pad(indent + 1)}input ${inputText(i)}`);
  if (decl.body.kind === "Block") printBlock(decl.body, indent + 1, out);
  else exprLines(decl.body, indent + 1, "", out, true);
}

function hyperText(h: HyperParam): string {
  const type = h.type === null ? "" : `: ${typeText(h.type)}`;
  const value = h.default === null ? "" : ` = ${text(h.default)}`;
  return `${h.name.name}${type}${value}`;
}

function typeText(t: TypeAnn): string {
  return t.kind === "NamedType" ? t.name.name : t.words.map((w) => w.name).join(" | ");
}

function inputText(i: InputParam): string {
  let type = "";
  if (i.type?.kind === "RecordType") type = `: {${i.type.fields.map((f) => f.name).join(", ")}}`;
  else if (i.type?.kind === "TensorType") {
    const dims = i.type.dims === null ? "" : `[${i.type.dims.map(dimText).join(", ")}]`;
    type = `: ${i.type.dtype.name}${dims}`;
  }
  const value = i.default === null ? "" : ` = ${text(i.default)}`;
  return `${i.name.name}${type}${value}`;
}

function dimText(d: DimAnn): string {
  if (d.kind === "DimInt") return String(d.value);
  if (d.kind === "DimName") return d.default === undefined ? d.name : `${d.name} = ${d.default}`;
  return "_";
}

function printBlock(block: Block, indent: number, out: string[]): void {
  out.push(`${pad(indent)}Block ${at(block.span)}`);
  for (const s of block.stmts) printStmt(s, indent + 1, out);
}

function printStmt(s: Stmt, indent: number, out: string[]): void {
  switch (s.kind) {
    case "Let":
      out.push(`${pad(indent)}Let ${s.names.map((n) => n.name).join(", ")} ${at(s.span)}`);
      exprLines(s.value, indent + 1, "", out);
      return;
    case "Param":
      out.push(`${pad(indent)}${paramText(s)} ${at(s.span)}`);
      return;
    case "Require": {
      const hint = s.hint === null ? "" : `, ${JSON.stringify(s.hint.value)}`;
      out.push(
        `${pad(indent)}Require ${text(s.cond)}, ${JSON.stringify(s.message.value)}${hint} ${at(s.span)}`,
      );
      return;
    }
    case "Update":
      out.push(`${pad(indent)}Update self.${s.buffer.name} ${at(s.span)}`);
      exprLines(s.value, indent + 1, "", out);
      return;
    case "Return":
      out.push(`${pad(indent)}Return ${at(s.span)}`);
      exprLines(s.value, indent + 1, "", out);
      return;
    case "ExprStmt":
      exprLines(s.expr, indent, "", out, true);
      return;
  }
}

function paramText(p: ParamStmt): string {
  const role = p.role === "param" ? "Param" : "Buffer";
  const name = p.name.kind === "String" ? JSON.stringify(p.name.value) : p.name.name;
  const dtype = p.dtype === null ? "" : p.dtype.name;
  const init = p.init === null ? "" : ` init ${text(p.init)}`;
  const cond = p.cond === null ? "" : ` if ${text(p.cond)}`;
  return `${role} ${name}: ${dtype}[${p.dims.map((d) => text(d)).join(", ")}]${init}${cond}`;
}

/**
 * Appends `e` as lines: structure (pipelines, `if` with a pipeline, long
 * expressions) one part per line, anything else as `Kind source-text`.
 * `withSpan` adds the span to an inline line too.
 */
function exprLines(e: Expr, indent: number, prefix: string, out: string[], withSpan = false): void {
  const head = `${pad(indent)}${prefix}`;
  const sub = (child: Expr, label = ""): void => exprLines(child, indent + 1, label, out);
  switch (e.kind) {
    case "Pipeline":
      out.push(`${head}Pipeline ${at(e.span)}`);
      for (const stage of e.stages) sub(stage);
      return;
    case "Labeled":
      exprLines(e.expr, indent, `${prefix}Labeled ${labelText(e)}: `, out, withSpan);
      return;
    default:
  }
  const inline = text(e);
  if (inline.length <= INLINE_WIDTH && !containsPipeline(e)) {
    out.push(`${head}${e.kind} ${inline}${withSpan ? ` ${at(e.span)}` : ""}`);
    return;
  }
  switch (e.kind) {
    case "If":
      out.push(`${head}If ${at(e.span)}`);
      sub(e.cond, "cond: ");
      sub(e.then, "then: ");
      sub(e.else, "else: ");
      return;
    case "Call":
      out.push(`${head}Call ${text(e.callee)} ${at(e.span)}`);
      for (const a of e.args) sub(a.value, a.name === null ? "" : `${a.name.name} = `);
      return;
    case "List":
      out.push(`${head}List ${at(e.span)}`);
      for (const item of e.items) sub(item);
      return;
    case "Record":
      out.push(`${head}Record ${at(e.span)}`);
      for (const f of e.fields) sub(f.value, `${f.name.name}: `);
      return;
    case "Comprehension":
      out.push(`${head}Comprehension ${at(e.span)}`);
      for (const c of e.clauses) {
        out.push(
          c.kind === "For"
            ? `${pad(indent + 1)}for ${c.names.map((n) => n.name).join(", ")} in ${text(c.iter)}`
            : `${pad(indent + 1)}if ${text(c.cond)}`,
        );
      }
      sub(e.body, "body: ");
      return;
    case "Binary":
      out.push(`${head}Binary ${e.op} ${at(e.span)}`);
      sub(e.left);
      sub(e.right);
      return;
    default:
      out.push(`${head}${e.kind} ${inline} ${at(e.span)}`);
  }
}

function containsPipeline(e: Expr): boolean {
  switch (e.kind) {
    case "Pipeline":
      return true;
    case "Labeled":
      return containsPipeline(e.expr);
    case "If":
      return containsPipeline(e.then) || containsPipeline(e.else);
    case "List":
      return e.items.some(containsPipeline);
    default:
      return false;
  }
}

// ---------------------------------------------------------------- expressions as source

/** How tightly `e` binds: 0 for pipelines and `if`, 7 for unary, 8 for postfix and atoms. */
function strength(e: Expr): number {
  switch (e.kind) {
    case "Pipeline":
    case "Labeled":
    case "If":
      return 0;
    case "Binary":
      return precedence[e.op]!;
    case "Range":
      return precedence[".."]!;
    case "Unary":
      return 7;
    default:
      return 8;
  }
}

/** `e` as source text, parenthesised where its context needs it. */
export function text(e: Expr, depth = 0): string {
  if (depth > MAX_PRINT_DEPTH) return "…";
  const t = (child: Expr, min = 1): string => {
    const s = text(child, depth + 1);
    return strength(child) < min ? `(${s})` : s;
  };
  switch (e.kind) {
    case "Ident":
      return e.name;
    case "Number":
      return e.isInt || !Number.isInteger(e.value) ? String(e.value) : `${e.value}.0`;
    case "String":
      return JSON.stringify(e.value);
    case "Bool":
      return String(e.value);
    case "Pipeline":
      return e.stages.map((s) => t(s, 0)).join(" -> ");
    case "Labeled":
      return `${labelText(e)}: ${t(e.expr)}`;
    case "If":
      return `if ${t(e.cond, 0)} then ${t(e.then, 0)} else ${t(e.else, 0)}`;
    case "Binary": {
      const p = precedence[e.op]!;
      return `${t(e.left, p)} ${e.op} ${t(e.right, p + 1)}`;
    }
    case "Range":
      return `${t(e.start, 5)}..${t(e.end, 5)}`;
    case "Unary":
      return `${e.op}${t(e.operand, 7)}`;
    case "Call":
      return `${t(e.callee, 8)}(${e.args.map((a) => (a.name === null ? "" : `${a.name.name}=`) + t(a.value)).join(", ")})`;
    case "Member":
      return `${t(e.object, 8)}.${e.name.name}`;
    case "Index":
      return `${t(e.object, 8)}[${e.items.map((i) => indexText(i, t)).join(", ")}]`;
    case "List":
      return `[${e.items.map((i) => t(i, 0)).join(", ")}]`;
    case "Comprehension": {
      const clauses = e.clauses.map((c) =>
        c.kind === "For"
          ? `for ${c.names.map((n) => n.name).join(", ")} in ${t(c.iter)}`
          : `if ${t(c.cond)}`,
      );
      return `[${clauses.join(" ")}: ${t(e.body, 0)}]`;
    }
    case "Record":
      return `{${e.fields.map((f) => (f.value.kind === "Ident" && f.value.name === f.name.name ? f.name.name : `${f.name.name}: ${t(f.value, 0)}`)).join(", ")}}`;
    case "ParamExpr":
      return paramText(e.decl)
        .replace(/^Param/, "param")
        .replace(/^Buffer/, "buffer");
  }
}

function indexText(i: IndexItem, t: (e: Expr) => string): string {
  if (i.kind === "IndexExpr") return t(i.value);
  const part = (e: Expr | null): string => (e === null ? "" : t(e));
  return `${part(i.start)}:${part(i.end)}${i.step === null ? "" : `:${part(i.step)}`}`;
}
