// `nnc import`: an ONNX model written as .nn source meant for people, plus its
// weights. Each ONNX node becomes one `let`: a stdlib layer where the node is
// one (Conv → conv, BatchNormalization → batchnorm, Gemm → linear, Gather on
// a table → embedding, LSTM → lstm, …), labelled from its weight's name, or an operator
// or primitive otherwise. Shapes are the ones the importer folded, so
// Shape/Gather/Concat chains feeding a Reshape are already constants here.

import type { Tensor } from "../core/tensor.js";
import { formatType } from "../core/types.js";
import type { ImportedModel } from "./import.js";
import type { ModelProto, NodeProto } from "./proto.js";
import { exprs } from "./to-nn-ops.js";
import { writeRecurrent } from "./to-nn-rnn.js";
import { ident, list, unsupported, Writer } from "./to-nn-writer.js";

const recurrentOps = { LSTM: true, GRU: true, RNN: true };

export interface NnSource {
  source: string;
  /** The params of `source` by their .nn names. */
  weights: Map<string, Tensor>;
}

/** Movement ops whose result shape is all that matters: one reshape to the folded shape. */
const reshapes = new Set(["Reshape", "Flatten", "Squeeze", "Unsqueeze"]);

/** The .nn source of an imported model; `name` names the model. */
export function writeNn(model: ModelProto, imported: ImportedModel, name: string): NnSource {
  const w = new Writer(imported);
  const g = model.graph!;
  const inputs = imported.graph.inputs.map((i) => {
    const id = w.fresh(i.name);
    w.names.set(i.name, id);
    return `${id}: ${formatType(i.type)}`;
  });
  w.anchor = w.names.get(imported.graph.inputs[0]?.name ?? "") ?? "";
  g.node.forEach((n, index) => {
    const where = `node ${index}${n.name ? ` \`${n.name}\`` : ""} (${n.op_type})`;
    const v = w.val(n.output[0]!);
    // Folded at import (constants, shape arithmetic): nothing to write.
    if (v?.value && v.param === undefined && !v.derived) return;
    // Work on weights alone (a transpose, an RNN's gate re-cut) is written where an
    // operator reads it; a stdlib layer below may take its value as its weight instead.
    if (v?.derived && !(n.op_type in recurrentOps)) {
      for (const o of n.output) if (o) w.pending.set(o, () => writeNode(w, n, where));
      return;
    }
    writeNode(w, n, where);
  });
  const outs = g.output.map((o) => `${ident(o.name)}: ${w.ref(o.name, `output \`${o.name}\``)}`);
  const helpers = [...w.tensorRanks].sort().map(tensorLayer);
  const source = [
    `// Imported from ONNX by \`nnc import\` (opset ${imported.opset}); weights in the .safetensors beside it.`,
    "",
    ...(g.node.some((n) => n.op_type in recurrentOps) ? ["import rnn", ""] : []),
    ...helpers,
    // Suffixed so the model never shadows the stdlib layer it may be named after (`embedding`).
    `model ${ident(name)}_onnx()(${inputs.join(", ")}) {`,
    ...w.lines,
    `  {${outs.join(", ")}}`,
    "}",
    "",
  ].join("\n");
  return { source, weights: w.weights };
}

/** A weight an operator reads (not a stdlib layer): a layer holding one param of rank r. */
function tensorLayer(r: number): string {
  const dims = Array.from({ length: r }, (_, i) => `d${i}`);
  const sig = ["leaf: string", ...dims.map((d) => `${d}: int`)].join(", ");
  return [
    `// A weight read by an operator; its state_dict name is \`label.leaf\`.`,
    `layer tensor${r}(${sig})(anchor) {`,
    `  let w = param "{leaf}": [${dims.join(", ")}]`,
    "  w",
    "}",
    "",
  ].join("\n");
}

function writeNode(w: Writer, n: NodeProto, where: string): void {
  const out = n.output[0]!;
  const v = w.val(out);
  if (n.op_type in recurrentOps) {
    writeRecurrent(
      {
        ref: (name, at) => w.ref(name, at),
        shape: (name) => w.val(name).type.shape,
        initializer: (name, at) => w.weightValue(name, at),
        fresh: (hint) => w.fresh(hint),
        bind: (name, expr) => w.names.set(name, expr),
        line: (text) => w.lines.push(text),
        weights: w.weights,
      },
      n,
      where,
    );
    return;
  }
  if (n.output.filter((o) => o !== "").length > 1) throw unsupported(where, "more than one output");
  let e: string;
  if (reshapes.has(n.op_type)) e = `${w.ref(n.input[0]!, where)}.reshape(${list(v!.type.shape)})`;
  else {
    const rule = exprs[n.op_type];
    if (!rule) throw unsupported(where, `no .nn form for ${n.op_type}`);
    e = rule(w, n, where);
  }
  if (n.op_type === "Identity" || n.op_type === "Dropout") {
    w.names.set(out, e);
    return;
  }
  const label = /-> (\w+): /.exec(e)?.[1];
  const id = w.fresh(
    label ?? (n.name ? n.name.replace(/\/[A-Za-z]+$/, "") || n.op_type.toLowerCase() : out),
  );
  w.names.set(out, id);
  w.lines.push(`  let ${id} = ${e}`);
}
