// The dynamic state of elaboration: where parameters are being named, which
// layer calls led here (for the stdlib trace), the current layer's `self`, and
// the session-wide graph builder and limits. Errors raised here are placed at
// the user's own call site when they happen inside the stdlib.

import type { Diagnostic, DiagnosticCode, SourceMap, TraceFrame } from "../core/diagnostics.js";
import { NncError } from "../core/diagnostics.js";
import type { Span } from "../core/span.js";
import type { TensorType } from "../core/types.js";
import type { GraphBuilder } from "./builder.js";
import type { RecordValue, TensorValue } from "./values.js";

export const limits = {
  /** Nested layer applications (recursion through defs included). */
  callDepth: 100,
  /** Items one comprehension or range may produce. */
  comprehensionItems: 10_000,
  /** Elements of one tensor. */
  tensorElements: 2 ** 31 - 1,
  /**
   * Nodes in one graph: ten times densenet201's 3,700, and what the passes,
   * fusion and WGSL emission get through in a few seconds (a 1,000-block
   * ResNeXt, 56,000 nodes, took 10 s of CPU).
   */
  graphNodes: 40_000,
  /** Characters of one string value. */
  stringLength: 65_536,
  /**
   * Units of elaboration work: one per expression evaluated or list item made,
   * WORK_PER_NODE per graph node. Counted as elaboration goes, so a program
   * that would run for minutes or exhaust the heap stops within a second or two.
   */
  work: 4_000_000,
};

/** A graph node's share of the work budget: nodes carry types, traces and attrs. */
export const WORK_PER_NODE = 20;

export interface Frame {
  /** The layer being applied. */
  name: string;
  /** Where it was called. */
  callSpan: Span;
}

/** One layer application, for `nnc check`'s summary table. */
export interface LayerRecord {
  path: string;
  layer: string;
  /** A builtin (a primitive), not a layer written in .nn. */
  primitive: boolean;
  depth: number;
  output: TensorType | null;
  /** The graph node of the layer's (primary) output, for `--output LABEL`. */
  node: number | null;
  params: number;
  span: Span;
}

export interface Session {
  builder: GraphBuilder;
  sources: SourceMap;
  /** Display paths of stdlib files; errors inside them are reported at the user's call site. */
  stdlibFiles: Set<string>;
  layers: LayerRecord[];
  /** Work spent so far against limits.work. */
  work: number;
  /** The compile mode: `training` in .nn code; `update` statements run only in train mode. */
  training: boolean;
  /** Buffer state_dict path → its value after the call (`update self.NAME = e`), in order. */
  updates: Map<string, TensorValue>;
  /** `random_bits` calls so far: each call's stream is keyed by its position. */
  draws: number;
}

export interface Ctx {
  session: Session;
  /** State-dict path segments of the layer being elaborated. */
  prefix: string[];
  /** True when some segment of the prefix is a position number nobody wrote. */
  autoNamed: boolean;
  /** Layer applications that led here, outermost first. */
  frames: Frame[];
  /** The `self` of the innermost `layer` being applied: its declared params. */
  self: RecordValue | null;
}

export function rootCtx(session: Session): Ctx {
  return { session, prefix: [], autoNamed: false, frames: [], self: null };
}

export function isStdlib(ctx: Ctx, span: Span): boolean {
  return ctx.session.stdlibFiles.has(span.file);
}

/** The trace shown under a diagnostic: innermost call first. Frame 0 is the entry point itself, not a call. */
export function traceOf(ctx: Ctx): TraceFrame[] {
  return ctx.frames
    .slice(1)
    .reverse()
    .map((f) => ({ name: f.name, span: f.callSpan }));
}

/**
 * Builds a diagnostic for an error at `span`. Inside the stdlib, the primary
 * location moves to the innermost call site in the user's own files, and the
 * stdlib location becomes a note.
 */
export function locate(
  ctx: Ctx,
  code: DiagnosticCode,
  message: string,
  span: Span,
  hint?: string,
): Diagnostic {
  const trace = traceOf(ctx);
  const d: Diagnostic = { code, severity: "error", message, span: userSite(ctx, span) };
  if (hint) d.hint = hint;
  if (trace.length > 0) d.trace = trace;
  if (d.span !== span) d.notes = [{ message: "raised inside the standard library", span }];
  return d;
}

/** `span` itself, or for a span inside the stdlib, the innermost call site in the user's own files. */
export function userSite(ctx: Ctx, span: Span): Span {
  if (!isStdlib(ctx, span)) return span;
  for (let i = ctx.frames.length - 1; i >= 0; i--) {
    const site = ctx.frames[i]!.callSpan;
    if (!isStdlib(ctx, site)) return site;
  }
  return span;
}

export function raise(
  ctx: Ctx,
  code: DiagnosticCode,
  message: string,
  span: Span,
  hint?: string,
): never {
  throw new NncError(locate(ctx, code, message, span, hint));
}

/** Spends `units` of the elaboration budget; NN5008 at `span` once it is gone. */
export function charge(ctx: Ctx, units: number, span: Span): void {
  ctx.session.work += units;
  if (ctx.session.work > limits.work) {
    raise(
      ctx,
      "NN5008",
      `elaboration needs more than ${limits.work} units of work (expressions evaluated, list items made, graph nodes)`,
      span,
      "the program builds far more than a model needs; look for a loop or a list that grows too fast",
    );
  }
}

export function withPrefix(ctx: Ctx, segment: string, auto: boolean): Ctx {
  return { ...ctx, prefix: [...ctx.prefix, segment], autoNamed: ctx.autoNamed || auto };
}

export function pathOf(ctx: Ctx, leaf?: string): string {
  return (leaf === undefined ? ctx.prefix : [...ctx.prefix, leaf]).join(".");
}
