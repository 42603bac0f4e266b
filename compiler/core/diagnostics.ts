// Every error nnc reports, as data: a stable code, a message, the source span,
// an optional hint and the trace back through stdlib expansion to the user's
// call site. Errors stay values until the edge (CLI/API), where they are
// printed or thrown as one NncError.

import type { Span } from "./span.js";

/** The table of stable diagnostic codes. A code never changes meaning once published. */
export const codes = {
  // NN1xxx: lexing and parsing
  NN1001: "unexpected token",
  NN1002: "unterminated string",
  NN1003: "unterminated block comment",
  NN1004: "invalid character",
  NN1005: "invalid number",
  NN1006: "invalid declaration",
  NN1007: "not .nn source text",
  // NN2xxx: names, imports, declarations
  NN2001: "unknown name",
  NN2002: "unknown stdlib module",
  NN2003: "imported file not found",
  NN2004: "import cycle",
  NN2005: "duplicate declaration",
  NN2006: "unknown entry point",
  NN2007: "unknown field or member",
  NN2008: "parameter declared twice",
  NN2009: "name collision between unlabelled layers",
  NN2010: "invalid parameter name",
  NN2011: "import outside the allowed directories",
  NN2012: "no layer with this label",
  NN2013: "invalid buffer update",
  // NN3xxx: arguments, types and values
  NN3001: "unknown keyword argument",
  NN3002: "missing argument",
  NN3003: "too many arguments",
  NN3004: "argument of the wrong type",
  NN3005: "not one of the allowed words",
  NN3006: "not callable",
  NN3007: "operator not defined for these values",
  NN3008: "condition is not a boolean",
  NN3009: "argument given twice",
  NN3010: "division by zero",
  NN3011: "pipeline stage is not a layer",
  NN3012: "block has no result",
  NN3013: "wrong number of names to unpack",
  NN3014: "index out of range",
  NN3015: "invalid hyperparameter value",
  NN3016: "unused value",
  NN3017: "invalid type annotation",
  // NN4xxx: shapes and dtypes
  NN4001: "shapes do not broadcast",
  NN4002: "invalid shape for this operation",
  NN4003: "dtype mismatch",
  NN4004: "input does not match its declared type",
  NN4005: "check failed",
  NN4006: "invalid attribute",
  NN4009: "zero-size dimension",
  // NN5xxx: limits
  NN5001: "recursion too deep",
  NN5002: "comprehension too large",
  NN5003: "tensor too large",
  NN5004: "nesting too deep",
  NN5005: "graph too large",
  NN5006: "kernel binds too many storage buffers",
  NN5007: "tensor larger than a storage binding may be",
  NN5008: "elaboration too expensive",
  NN5009: "string too long",
  // NN6xxx: weights and inputs
  NN6001: "invalid safetensors header",
  NN6002: "weight file truncated or oversized",
  NN6003: "missing weights",
  NN6004: "unexpected weights",
  NN6005: "weight of the wrong shape",
  NN6006: "weight of the wrong dtype",
  NN6007: "invalid input spec",
  NN6008: "invalid .npy file",
  NN6009: "unknown or missing input",
  NN6010: "overlapping tensor data",
  NN6011: "invalid input data",
  NN6012: "not a readable regular file, or too large",
  NN6013: "suspicious weight values",
  // NN7xxx: running
  NN7001: "index out of range at run time",
  NN7002: "backend unavailable",
  NN7003: "device error",
  NN7004: "session disposed",
  // NN8xxx: compile options
  NN8001: "unknown target",
  // NN81xx: training
  NN8101: "no gradient rule for this op",
  NN8102: "invalid training objective",
  NN8103: "nothing to train",
  NN8104: "invalid training data",
  NN8105: "non-finite loss",
  // NN82xx: ONNX export and import
  NN8201: "invalid ONNX file",
  NN8202: "ONNX op not supported",
  NN8203: "missing ONNX initializer",
  NN8204: "ONNX opset too old",
  NN8205: "graph cannot be exported to ONNX",
  // NN9xxx: internal
  NN9001: "internal compiler error",
} as const;

export type DiagnosticCode = keyof typeof codes;

/** One step of the expansion trace: inside `name`, which was called at `span`. */
export interface TraceFrame {
  name: string;
  span: Span;
}

export interface Diagnostic {
  code: DiagnosticCode;
  severity: "error" | "warning";
  message: string;
  span?: Span;
  hint?: string;
  /** Innermost first: the stdlib frames the error passed through, ending at the user's call site. */
  trace?: TraceFrame[];
  notes?: { message: string; span?: Span }[];
}

export function diagnostic(
  code: DiagnosticCode,
  message: string,
  span?: Span,
  extra: Partial<Pick<Diagnostic, "hint" | "trace" | "notes">> = {},
): Diagnostic {
  return { code, severity: "error", message, ...(span ? { span } : {}), ...extra };
}

/** The one error type that crosses the API edge. */
export class NncError extends Error {
  readonly diagnostics: Diagnostic[];
  constructor(diagnostics: Diagnostic[] | Diagnostic) {
    const list = Array.isArray(diagnostics) ? diagnostics : [diagnostics];
    super(list.map((d) => `${d.code}: ${d.message}`).join("\n"));
    this.name = "NncError";
    this.diagnostics = list;
  }
  get code(): DiagnosticCode {
    return this.diagnostics[0]!.code;
  }
}

/** Throws an NncError with one diagnostic. */
export function fail(
  code: DiagnosticCode,
  message: string,
  span?: Span,
  extra: Partial<Pick<Diagnostic, "hint" | "trace" | "notes">> = {},
): never {
  throw new NncError(diagnostic(code, message, span, extra));
}

/** Source texts by display path, so diagnostics can print the offending line. */
export class SourceMap {
  private readonly texts = new Map<string, string>();
  add(file: string, text: string): void {
    this.texts.set(file, text);
  }
  get(file: string): string | undefined {
    return this.texts.get(file);
  }
}

function lineText(text: string, line: number): string {
  // The lexer ends a line at \n, \r\n or a lone \r (old Mac files); so must the echo.
  const lines = text.replace(/^\uFEFF/, "").split(/\r\n?|\n/);
  return lines[line - 1] ?? "";
}

/** `file:line:col`, the form every location is printed in. */
export function formatLocation(span: Span): string {
  return `${span.file}:${span.line}:${span.col}`;
}

/**
 * Renders a diagnostic as the user sees it:
 *
 *   model.nn:7:28 error[NN4002]: linear expects a 2-D or 3-D input, got f32[1, 64, 7, 7]
 *       -> linear(10)
 *          ^^^^^^^^^^
 *     hint: insert `flatten` before `linear`
 *     in linear (stdlib/nn.nn:3:1), called from model.nn:7:28
 */
export function formatDiagnostic(d: Diagnostic, sources?: SourceMap): string {
  const where = d.span ? `${formatLocation(d.span)} ` : "";
  const out = [`${where}${d.severity}[${d.code}]: ${d.message}`];
  if (d.span) out.push(...caretLines(d.span, sources));
  if (d.hint) out.push(`  hint: ${d.hint}`);
  for (const n of d.notes ?? []) {
    out.push(`  note: ${n.message}${n.span ? ` (${formatLocation(n.span)})` : ""}`);
  }
  if (d.trace && d.trace.length > 0) out.push(`  ${formatTrace(d.trace)}`);
  return out.join("\n");
}

/** "in lstm_cell, called from stdlib/rnn.nn:30:7; in lstm, called from model.nn:5:9" */
export function formatTrace(trace: TraceFrame[]): string {
  const line = (f: TraceFrame) => `in ${f.name}, called from ${formatLocation(f.span)}`;
  if (trace.length <= 8) return trace.map(line).join("; ");
  // Deep recursion: the innermost frames and the user's outermost call say enough.
  const inner = trace.slice(0, 4).map(line);
  const outer = trace.slice(-2).map(line);
  return [...inner, `… ${trace.length - 6} more`, ...outer].join("; ");
}

function caretLines(span: Span, sources?: SourceMap): string[] {
  const text = sources?.get(span.file);
  if (text === undefined) return [];
  const line = lineText(text, span.line).replace(/\t/g, " ");
  const width =
    span.endLine === span.line
      ? Math.max(1, span.endCol - span.col)
      : Math.max(1, line.length - span.col + 1);
  return [`    ${line}`, `    ${" ".repeat(Math.max(0, span.col - 1))}${"^".repeat(width)}`];
}

export function formatDiagnostics(ds: Diagnostic[], sources?: SourceMap): string {
  return ds.map((d) => formatDiagnostic(d, sources)).join("\n\n");
}

/**
 * Edit distance with adjacent transpositions (optimal string alignment), for "did you
 * mean", or `limit + 1` as soon as it is known to exceed `limit`: only the diagonal band
 * of width 2·limit + 1 is computed, so a 300,000-character name costs O(length · limit).
 */
export function editDistance(a: string, b: string, limit = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const band = Math.min(Math.max(a.length, b.length), limit);
  const far = Number.POSITIVE_INFINITY;
  // Three rows (i-2, i-1, i) of the matrix; cells outside the band stay infinite.
  let prev2 = new Array<number>(b.length + 1).fill(far);
  let prev = Array.from({ length: b.length + 1 }, (_, j) => (j <= band ? j : far));
  let cur = new Array<number>(b.length + 1).fill(far);
  for (let i = 1; i <= a.length; i++) {
    const lo = Math.max(1, i - band);
    const hi = Math.min(b.length, i + band);
    cur.fill(far);
    cur[0] = i <= band ? i : far;
    let rowMin = cur[0];
    for (let j = lo; j <= hi; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, prev2[j - 2]! + 1);
      cur[j] = v;
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > limit) return limit + 1;
    [prev2, prev, cur] = [prev, cur, prev2];
  }
  const d = prev[b.length]!;
  return d > limit ? limit + 1 : d;
}

/** The most edits "did you mean" allows: a third of the name, at least 1, at most 4. */
function editLimit(name: string): number {
  return Math.min(4, Math.max(1, Math.floor(name.length / 3)));
}

/** The closest candidate within a distance proportional to the name's length, if any. */
export function closest(name: string, candidates: Iterable<string>): string | undefined {
  let best: string | undefined;
  let bestDist = Number.POSITIVE_INFINITY;
  const limit = editLimit(name);
  const lower = name.toLowerCase();
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase(), limit);
    if (d < bestDist || (d === bestDist && best !== undefined && c < best)) {
      best = c;
      bestDist = d;
    }
  }
  return bestDist <= limit ? best : undefined;
}

/**
 * " (did you mean `x`?)" or "". `aliases` maps a spelling from elsewhere (PyTorch's
 * `padding`, Python's `False`) to this language's; it wins when its target is a candidate.
 */
export function didYouMean(
  name: string,
  candidates: Iterable<string>,
  aliases?: ReadonlyMap<string, string>,
): string {
  const list = [...candidates];
  const alias = aliases?.get(name);
  if (alias !== undefined && list.includes(alias)) return `; did you mean \`${alias}\`?`;
  const c = closest(name, list);
  return c === undefined ? "" : `; did you mean \`${c}\`?`;
}
