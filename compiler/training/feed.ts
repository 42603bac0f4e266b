// Training data meets the objective: each of the objective's inputs gets an
// array (first axis = examples), converted to the input's dtype (u8 images to
// f32 scaled by 1/255 into [0, 1]; integer labels to i32) and reshaped to the
// declared per-example shape when only the layout differs (28×28 → [1, 28, 28]
// or [784]). Every shape and every label is checked before the first step.

import { badData, type DataArray } from "../../runtime/data/array.js";
import { Dataset } from "../../runtime/data/dataset.js";
import type { CompiledModel } from "../compile.js";
import { NncError } from "../core/diagnostics.js";
import type { Tensor } from "../core/tensor.js";
import { type DType, formatType, numel } from "../core/types.js";
import type { Graph } from "../graph/graph.js";

const fmt = (shape: readonly (number | string)[]) => `[${shape.join(", ")}]`;
/** A batch's shape with its first axis written N. */
const batched = (perExample: readonly number[]) => fmt(["N", ...perExample]);

function convert(name: string, a: DataArray, dtype: DType): DataArray {
  if (dtype === "f32") {
    const out = new Float32Array(a.data.length);
    if (a.kind === "u8") for (let i = 0; i < out.length; i++) out[i] = Number(a.data[i]) / 255;
    else for (let i = 0; i < out.length; i++) out[i] = Number(a.data[i]);
    return { shape: a.shape, data: out, kind: "float" };
  }
  if (dtype === "i32") {
    const out = new Int32Array(a.data.length);
    for (let i = 0; i < out.length; i++) {
      const v = Number(a.data[i]);
      if (!Number.isInteger(v) || v < -2147483648 || v > 2147483647)
        badData(
          `--data ${name}`,
          `value ${v} at flat index ${i} is not an i32 (the input \`${name}\` is i32)`,
        );
      out[i] = v;
    }
    return { shape: a.shape, data: out, kind: "int" };
  }
  return badData(
    `--data ${name}`,
    `the objective's input \`${name}\` is ${dtype}; training data feeds f32 and i32 inputs`,
  );
}

/** The objective's inputs at one example (symbolic batch dims bound to 1), for the layouts. */
function declared(model: CompiledModel): Graph["inputs"] {
  return model.elaborate({}).graph.inputs;
}

/** The data set the objective trains on: one array per input, converted and reshaped. */
export function bindData(model: CompiledModel, arrays: Map<string, DataArray>): Dataset {
  const inputs = declared(model);
  const names = inputs.map((i) => i.name);
  for (const k of arrays.keys())
    if (!names.includes(k))
      badData(
        `--data ${k}`,
        `the objective has no input \`${k}\`; its inputs: ${names.join(", ")}`,
      );
  const out = new Map<string, DataArray>();
  for (const input of inputs) {
    const a = arrays.get(input.name);
    if (!a)
      badData(
        "--data",
        `no data for the objective's input \`${input.name}\` (${formatType(input.type)}); give --data ${input.name}=FILE`,
      );
    let c = convert(input.name, a, input.type.dtype);
    const per = input.type.shape.slice(1);
    const have = c.shape.slice(1);
    if (have.join() !== per.join() && numel(have) === numel(per) && have.length > 0)
      c = { ...c, shape: [c.shape[0]!, ...per] };
    out.set(input.name, c);
  }
  const data = new Dataset(out);
  checkShapes(model, data);
  return data;
}

export const toTensors = (d: Dataset): Map<string, Tensor> =>
  new Map(
    [...d.arrays].map(([k, a]) => [
      k,
      { dtype: a.kind === "float" ? "f32" : "i32", shape: a.shape, data: a.data as Tensor["data"] },
    ]),
  );

/** The objective at a batch of two examples (one, for one-example data sets): its inputs must take the data's shapes. */
function checkShapes(model: CompiledModel, data: Dataset): void {
  const b = Math.min(2, data.size);
  const shapes = Object.fromEntries(
    [...data.arrays].map(([k, a]) => [k, { shape: [b, ...a.shape.slice(1)] }]),
  );
  let graph: Graph;
  try {
    graph = model.elaborate(shapes).graph;
  } catch (e) {
    if (!(e instanceof NncError)) throw e;
    const decl = declared(model)
      .map((i) => `\`${i.name}\` ${formatType(i.type)}`)
      .join(", ");
    const given = [...data.arrays]
      .map(([k, a]) => `\`${k}\` ${batched(a.shape.slice(1))}`)
      .join(", ");
    badData(
      "--data",
      `the data's shapes do not fit the objective: it takes ${decl} (N = 1 shown), the data gives ${given} (${e.diagnostics[0]?.message ?? "elaboration failed"})`,
    );
  }
  for (const i of graph.inputs) {
    const a = data.arrays.get(i.name)!;
    const want = i.type.shape;
    if (want.join() !== [b, ...a.shape.slice(1)].join())
      badData(
        `--data ${i.name}`,
        `the objective's input \`${i.name}\` takes ${batched(want.slice(1))} per batch, the data has examples of ${fmt(a.shape.slice(1))}`,
      );
  }
}

/** Where labels exist: the objective's `logits` [N, C] and the i32 input of shape [N] they are scored against. */
export interface Labels {
  input: string;
  classes: number;
}

export function findLabels(model: CompiledModel, data: Dataset): Labels | undefined {
  const shapes = Object.fromEntries(
    [...data.arrays].map(([k, a]) => [k, { shape: [1, ...a.shape.slice(1)] }]),
  );
  const graph = model.elaborate(shapes).graph;
  const logits = graph.outputs.find((o) => o.name === "logits");
  const type = logits ? graph.nodes[logits.node]?.type : undefined;
  if (type?.shape.length !== 2 || type.shape[0] !== 1) return undefined;
  const label = graph.inputs.find((i) => i.type.dtype === "i32" && i.type.shape.length === 1);
  if (!label) return undefined;
  const classes = type.shape[1]!;
  const values = data.arrays.get(label.name)!.data as Int32Array;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v < 0 || v >= classes)
      badData(
        `--data ${label.name}`,
        `label ${v} of example ${i} is outside the ${classes} classes of \`logits\` (0..${classes - 1})`,
      );
  }
  return { input: label.name, classes };
}

/** How many of a batch's argmax(logits) equal the labels. */
export function correct(logits: Tensor, labels: Tensor): number {
  const [n, c] = logits.shape as [number, number];
  const l = logits.data as Float32Array;
  const y = labels.data as Int32Array;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < c; j++) if (l[i * c + j]! > l[i * c + best]!) best = j;
    if (best === y[i]) right++;
  }
  return right;
}
