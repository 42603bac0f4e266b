// Cross-backend properties of the contractions: matmul with 1-D operands,
// broadcast batch dims and a transposed right operand; conv2d over strides,
// padding, dilation, groups and depthwise; conv_transpose2d with
// output_padding and groups. Sizes are mostly odd, so the 4×4 / 4×8 register
// tiles have ragged edges; some cases add a bias + relu epilogue. Each case is
// a new tiled kernel, which lavapipe takes 0.5-10 s to compile, hence few runs
// (NNC_FC_RUNS scales them).

import fc from "fast-check";
import { compile } from "../../compiler/index.js";
import type { TargetName as Target } from "../../compiler/target/target.js";
import { GraphBuilder } from "../cpu/graph-builder.js";
import { dim, operandOf, shape } from "./arbitraries.js";
import { type CrossCase, crossProperty, sumOf } from "./harness.js";

const ones = fc.array(fc.boolean(), { minLength: 2, maxLength: 2 });

const matmul = crossProperty({
  name: "matmul: 1-D operands, broadcast batches, transposed rhs, ragged tiles",
  ops: ["matmul"],
  numRuns: 6,
  arbitrary: fc.record({
    m: dim(21),
    k: fc.oneof(dim(21), fc.integer({ min: 22, max: 70 })),
    n: dim(21),
    aRank: fc.integer({ min: 1, max: 4 }),
    bRank: fc.integer({ min: 1, max: 4 }),
    batch: shape(0, 2, 3),
    aOnes: ones,
    bOnes: ones,
    transposed: fc.boolean(),
    epilogue: fc.boolean(),
  }),
  build(c): CrossCase {
    const b = new GraphBuilder();
    // The batch dims an operand of rank r keeps: the last r − 2, some set to 1.
    const batchOf = (rank: number, flags: boolean[]) =>
      operandOf(c.batch, Math.max(0, c.batch.length - (rank - 2)), flags);
    const a = b.input("a", "f32", c.aRank === 1 ? [c.k] : [...batchOf(c.aRank, c.aOnes), c.m, c.k]);
    let rhs: number;
    if (c.bRank === 1) rhs = b.input("b", "f32", [c.k]);
    else if (c.transposed) {
      const bt = b.input("bt", "f32", [...batchOf(c.bRank, c.bOnes), c.n, c.k]);
      // Swap the last two axes of whatever rank the batch left it.
      const rank = b.graph.nodes[bt]!.type.shape.length;
      const perm = [...Array(rank).keys()];
      perm.splice(rank - 2, 2, rank - 1, rank - 2);
      rhs = b.op("permute", [bt], { perm });
    } else rhs = b.input("b", "f32", [...batchOf(c.bRank, c.bOnes), c.k, c.n]);
    let y = b.op("matmul", [a, rhs]);
    if (c.epilogue && c.bRank > 1) {
      y = b.op("relu", [b.op("add", [y, b.input("bias", "f32", [c.n])])]);
    }
    b.output("y", y);
    return { graph: b.graph, tolerance: sumOf(c.k + 1) };
  },
});

const conv2d = crossProperty({
  name: "conv2d: stride, padding, dilation, groups and depthwise, non-square",
  ops: ["conv2d"],
  numRuns: 6,
  arbitrary: fc.record({
    n: dim(2),
    depthwise: fc.boolean(),
    groups: fc.constantFrom(1, 1, 2, 3),
    cg: dim(4),
    og: dim(3),
    h: dim(11),
    w: dim(11),
    kh: dim(4),
    kw: dim(4),
    sh: dim(3),
    sw: dim(3),
    ph: fc.nat(2),
    pw: fc.nat(2),
    dh: dim(2),
    dw: dim(2),
    epilogue: fc.boolean(),
  }),
  build(c): CrossCase {
    // Depthwise: groups = channels, each in-channel with `og` out-channels.
    const groups = c.depthwise ? c.cg : c.groups;
    const cin = c.depthwise ? c.cg : c.groups * c.cg;
    const cg = cin / groups;
    const cout = groups * c.og;
    // Large enough for the dilated kernel with this padding.
    const h = Math.max(c.h, c.dh * (c.kh - 1) + 1 - 2 * c.ph);
    const w = Math.max(c.w, c.dw * (c.kw - 1) + 1 - 2 * c.pw);
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [c.n, cin, h, w]);
    const wt = b.input("w", "f32", [cout, cg, c.kh, c.kw]);
    let y = b.op("conv2d", [x, wt], {
      stride: [c.sh, c.sw],
      pad: [c.ph, c.pw],
      dilation: [c.dh, c.dw],
      groups,
    });
    if (c.epilogue) {
      const bias = b.op("reshape", [b.input("bias", "f32", [cout])], { shape: [1, cout, 1, 1] });
      y = b.op("relu", [b.op("add", [y, bias])]);
    }
    b.output("y", y);
    return { graph: b.graph, tolerance: sumOf(cg * c.kh * c.kw + 1) };
  },
});

const convTranspose2d = crossProperty({
  name: "conv_transpose2d: stride, padding, output_padding, dilation and groups",
  ops: ["conv_transpose2d"],
  numRuns: 6,
  arbitrary: fc.record({
    n: dim(2),
    groups: fc.constantFrom(1, 1, 2, 3),
    cg: dim(3),
    og: dim(3),
    h: dim(7),
    w: dim(7),
    kh: dim(4),
    kw: dim(4),
    sh: dim(3),
    sw: dim(3),
    ph: fc.nat(3),
    pw: fc.nat(3),
    oph: fc.nat(2),
    opw: fc.nat(2),
    dh: dim(2),
    dw: dim(2),
    epilogue: fc.boolean(),
  }),
  build(c): CrossCase {
    const cin = c.groups * c.cg;
    const cout = c.groups * c.og;
    // output_padding below max(stride, dilation); padding leaves at least one output.
    const oph = c.oph % Math.max(c.sh, c.dh);
    const opw = c.opw % Math.max(c.sw, c.dw);
    const span = (size: number, k: number, s: number, d: number, op: number) =>
      (size - 1) * s + d * (k - 1) + op;
    const ph = Math.min(c.ph, Math.floor(span(c.h, c.kh, c.sh, c.dh, oph) / 2));
    const pw = Math.min(c.pw, Math.floor(span(c.w, c.kw, c.sw, c.dw, opw) / 2));
    const b = new GraphBuilder();
    const x = b.input("x", "f32", [c.n, cin, c.h, c.w]);
    const wt = b.input("w", "f32", [cin, c.og, c.kh, c.kw]);
    let y = b.op("conv_transpose2d", [x, wt], {
      stride: [c.sh, c.sw],
      pad: [ph, pw],
      output_padding: [oph, opw],
      dilation: [c.dh, c.dw],
      groups: c.groups,
    });
    if (c.epilogue) {
      const bias = b.op("reshape", [b.input("bias", "f32", [cout])], { shape: [1, cout, 1, 1] });
      y = b.op("relu", [b.op("add", [y, bias])]);
    }
    b.output("y", y);
    return { graph: b.graph, tolerance: sumOf(c.cg * c.kh * c.kw + 1) };
  },
});

const convLayerSource = `model convs(out: int, k: int, stride: int, pad: int, dilation: int, groups: int, bn: bool)(input: f32[N, C, H, W]) {
  let y = input -> c: conv(out, k, stride=stride, pad=pad, dilation=dilation, groups=groups)
  if bn then y -> b: batchnorm -> relu else y
}`;

/** A conv layer's geometry: `groups` × `og` output channels, `groups` × `cg` input channels. */
export interface ConvLayer {
  n: number;
  og: number;
  cg: number;
  groups: number;
  h: number;
  w: number;
  k: number;
  stride: number;
  pad: number;
  dilation: number;
  bn: boolean;
}

const convLayerArbitrary: fc.Arbitrary<ConvLayer> = fc.record({
  n: dim(2),
  og: fc.constantFrom(3, 4, 5, 8, 16, 32),
  cg: dim(5),
  groups: fc.constantFrom(1, 1, 1, 2),
  h: dim(10),
  w: fc.integer({ min: 1, max: 19 }),
  k: dim(3),
  stride: dim(2),
  pad: fc.nat(2),
  dilation: dim(2),
  bn: fc.boolean(),
});

/** One conv layer (then batchnorm and relu, or not) compiled as `nnc run` compiles it at -O1, and its input shape. */
export function convLayerModel(c: ConvLayer, target: Target = "lavapipe") {
  const span = c.dilation * (c.k - 1) + 1;
  const size = (d: number) => Math.max(d, span - 2 * c.pad);
  const model = compile(convLayerSource, {
    file: "convs.nn",
    target,
    args: {
      out: c.groups * c.og,
      k: c.k,
      stride: c.stride,
      pad: c.pad,
      dilation: c.dilation,
      groups: c.groups,
      bn: c.bn,
    },
  });
  const shapes = { input: { shape: [c.n, c.groups * c.cg, size(c.h), size(c.w)] } };
  return { model, shapes };
}

/** One conv layer at -O1 on the GPU; the CPU runs it elaborated. */
export function convLayerCase(c: ConvLayer, target: Target = "lavapipe"): CrossCase {
  const { model, shapes } = convLayerModel(c, target);
  const graph = model.elaborate(shapes).graph;
  const compiled = { graph: model.optimized(shapes), plan: model.plan(shapes) };
  return { graph, compiled, tolerance: sumOf(4 * (c.cg * c.k * c.k + 1)) };
}

/**
 * Conv layers through what `nnc run` does at -O1: weights relaid out to HWIO
 * in prep (batchnorm folded into them first, or loaded as they are), read
 * as vec4s of 4 output channels by 8 or 16-row tiles. Output channels that
 * fill those tiles or not, ungrouped or grouped (those keep OIHW), sliding
 * windows (stride 1) or not. The CPU runs the elaborated graph.
 */
const convLayers = crossProperty({
  name: "conv layers at -O1: HWIO weights, output channels (not) in vec4s, groups, stride, dilation",
  ops: ["conv2d"],
  numRuns: 6,
  arbitrary: convLayerArbitrary,
  build: convLayerCase,
});

export const contractionProperties = [matmul, conv2d, convTranspose2d];
/** Properties of whole compiled layers (not retiled by `tuned`: -O1 tunes them already). */
export const compiledContractionProperties = [convLayers];
