// Where a thing came from in the source: every AST node, graph node and
// diagnostic carries one. The base of every layer, so it imports nothing.

/** A half-open character range [start, end) in one source file, with 1-based line/col of both ends. */
export interface Span {
  /** Display path of the file: relative to the working directory for user files, `stdlib/x.nn` for the stdlib. */
  file: string;
  start: number;
  end: number;
  line: number;
  col: number;
  endLine: number;
  endCol: number;
}
