// Dead code elimination: keeps what the outputs read, the graph's inputs, and
// every loaded parameter (so a state_dict still binds whole); unused derived
// parameters go, with their share of the prep graph.

import type { Graph } from "../graph/graph.js";

/** Keeps the nodes in `keep` and renumbers them in order. */
export function compact(g: Graph, keep: boolean[]): Graph {
  const map = new Map<number, number>();
  const nodes = g.nodes
    .filter((n) => keep[n.id])
    .map((n, i) => {
      map.set(n.id, i);
      return { ...n, id: i, inputs: n.inputs.map((x) => map.get(x)!) };
    });
  const out: Graph = {
    nodes,
    inputs: g.inputs.map((i) => ({ ...i, node: map.get(i.node)! })),
    params: g.params.filter((p) => keep[p.node]).map((p) => ({ ...p, node: map.get(p.node)! })),
    outputs: g.outputs.map((o) => ({ ...o, node: map.get(o.node)! })),
  };
  if (g.prep) out.prep = g.prep;
  return out;
}

export function dce(g: Graph): Graph {
  const live = new Array<boolean>(g.nodes.length).fill(false);
  const stack = g.outputs.map((o) => o.node);
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (live[id]) continue;
    live[id] = true;
    stack.push(...g.nodes[id]!.inputs);
  }
  for (const i of g.inputs) live[i.node] = true;
  for (const p of g.params) if (!p.derived) live[p.node] = true;
  const out = compact(g, live);
  if (g.prep) {
    const needed = new Set(out.params.filter((p) => p.derived).map((p) => p.name));
    const prep = { ...g.prep, outputs: g.prep.outputs.filter((o) => needed.has(o.name)) };
    if (prep.outputs.length === 0) delete out.prep;
    else {
      const live2 = new Array<boolean>(prep.nodes.length).fill(false);
      const st = prep.outputs.map((o) => o.node);
      while (st.length > 0) {
        const id = st.pop()!;
        if (live2[id]) continue;
        live2[id] = true;
        st.push(...prep.nodes[id]!.inputs);
      }
      out.prep = compact({ ...prep, params: prep.params.filter((p) => live2[p.node]) }, live2);
    }
  }
  return out;
}
