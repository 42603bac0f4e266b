// Common subexpression elimination: two nodes with the same op, inputs and
// attrs are one node. Inputs, params and scans (whose bodies are graphs) are
// never merged.

import type { Graph } from "../graph/graph.js";
import { GraphEditor } from "./editor.js";

function stable(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stable).join(",")}]`;
  if (v !== null && typeof v === "object") {
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${k}:${stable((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  }
  return typeof v === "number" && !Number.isFinite(v) ? String(v) : JSON.stringify(v);
}

export function cse(g: Graph): Graph {
  const ed = new GraphEditor(g);
  const seen = new Map<string, number>();
  for (const n of g.nodes) {
    const inputs = n.inputs.map((i) => ed.map.get(i)!);
    if (n.op === "input" || n.op === "param" || n.op === "scan") {
      ed.map.set(n.id, ed.copy(n, inputs));
      continue;
    }
    const key = `${n.op}(${inputs.join(",")})${stable(n.attrs)}:${n.type.dtype}`;
    const hit = seen.get(key);
    if (hit !== undefined) {
      ed.map.set(n.id, hit);
      continue;
    }
    const id = ed.copy(n, inputs);
    seen.set(key, id);
    ed.map.set(n.id, id);
  }
  return ed.finish();
}
