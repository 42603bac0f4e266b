// The Graph IR as text, one node per line — what `nnc inspect --stage graph`
// shows and what golden dumps diff. Output is stable: attrs print in schema
// order, numbers in JS's shortest round-trip form, long constants elided.
//
//   %2 = conv2d(%0, %1) {stride=[1, 1], pad=[0, 0], dilation=[1, 1], groups=1} : f32[1, 6, 28, 28]   # conv1  lenet.nn:4:12

import { formatLocation } from "../core/diagnostics.js";
import { formatType } from "../core/types.js";
import type { Graph, GraphNode, GraphParam } from "./graph.js";

/** Constants with more values than this print the first few and a count. */
const MAX_CONST_VALUES = 8;

function formatNumber(v: number): string {
  if (v === Number.POSITIVE_INFINITY) return "inf";
  if (v === Number.NEGATIVE_INFINITY) return "-inf";
  if (Object.is(v, -0)) return "-0";
  return String(v);
}

function formatValue(v: unknown): string {
  if (typeof v === "number") return formatNumber(v);
  if (typeof v === "string") return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(formatValue).join(", ")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.entries(v)
      .map(([k, x]) => `${k}=${formatValue(x)}`)
      .join(", ")}}`;
  }
  return String(v);
}

function formatConstValue(values: unknown): string {
  if (!Array.isArray(values)) return formatValue(values);
  if (values.length === 1) return formatNumber(values[0]!);
  if (values.length <= MAX_CONST_VALUES) return formatValue(values);
  const shown = values.slice(0, MAX_CONST_VALUES).map(formatNumber).join(", ");
  return `[${shown}, … ${values.length - MAX_CONST_VALUES} more]`;
}

function formatAttrs(attrs: Record<string, unknown>): string {
  const entries = Object.entries(attrs).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return "";
  return ` {${entries.map(([k, v]) => `${k}=${formatValue(v)}`).join(", ")}}`;
}

function formatNode(node: GraphNode, params: Map<number, GraphParam>): string {
  const type = formatType(node.type);
  let line: string;
  if (node.op === "input") {
    line = `%${node.id} = input ${JSON.stringify(node.attrs.name)} : ${type}`;
  } else if (node.op === "param") {
    const p = params.get(node.id);
    const name = p?.name ?? node.attrs.name;
    line = `%${node.id} = param ${JSON.stringify(name)} : ${type}`;
    if (p) line += `  (${p.kind}, ${p.init}${p.initArgs ? `(${p.initArgs.join(", ")})` : ""})`;
  } else if (node.op === "const") {
    line = `%${node.id} = const ${formatConstValue(node.attrs.value)} : ${type}`;
  } else {
    const args = node.inputs.map((i) => `%${i}`).join(", ");
    // A scan's body prints below it, indented (printGraph).
    const attrs = node.op === "scan" ? { ...node.attrs, body: undefined } : node.attrs;
    line = `%${node.id} = ${node.op}(${args})${formatAttrs(attrs)} : ${type}`;
  }
  const where = [node.scope, node.span ? formatLocation(node.span) : undefined].filter(
    (s) => s !== undefined && s !== "",
  );
  if (where.length > 0) line += `   # ${where.join("  ")}`;
  return line;
}

export function printGraph(graph: Graph): string {
  const params = new Map(graph.params.map((p) => [p.node, p]));
  const lines = graph.nodes.flatMap((n) => {
    const line = formatNode(n, params);
    const body = n.op === "scan" ? (n.attrs.body as Graph | undefined) : undefined;
    if (!body) return [line];
    return [
      line,
      "    body {",
      ...printGraph(body)
        .split("\n")
        .map((l) => `      ${l}`),
      "    }",
    ];
  });
  const outs = graph.outputs.map((o) => `${o.name} = %${o.node}`).join(", ");
  lines.push(`outputs: ${outs}`);
  return lines.join("\n");
}
