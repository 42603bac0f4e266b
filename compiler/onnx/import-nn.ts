// The ONNX network ops as nnc primitives: convolutions and pools (1-D ones on
// a unit height), the normalisations in their eval-mode arithmetic, softmax,
// Gemm/MatMul and DepthToSpace. Scan and the recurrent cells are in import-scan.ts.

import type { GraphImporter, Val } from "./import.js";
import { rnnRules } from "./import-rnn.js";
import { importScanRules } from "./import-scan.js";
import { Attrs, axisOf, bin, fail, need, type Rule, reshape, scalar } from "./import-util.js";

type Node = Parameters<Rule>[2];

/** Window attributes of a 1-D or 2-D Conv/Pool as 2-D ones, a 1-D window on a unit height. */
function window2d(n: Node, spatial: number, kernel: number[]) {
  const at = new Attrs(n);
  const autoPad = at.str("auto_pad", "NOTSET");
  if (autoPad !== "NOTSET" && autoPad !== "VALID")
    fail(`auto_pad ${autoPad} is not supported; give explicit pads`);
  const ones = new Array<number>(spatial).fill(1);
  const strides = at.ints("strides") ?? ones;
  const dilations = at.ints("dilations") ?? ones;
  const pads =
    (autoPad === "VALID" ? undefined : at.ints("pads")) ?? new Array<number>(2 * spatial).fill(0);
  if (spatial === 2) return { kernel, strides, dilations, pads };
  /** pads as [top, left, bottom, right], ONNX's order of begins then ends */
  return {
    kernel: [1, kernel[0]!],
    strides: [1, strides[0]!],
    dilations: [1, dilations[0]!],
    pads: [0, pads[0]!, 0, pads[1]!],
  };
}

function spatialOf(x: Val, op: string): number {
  const s = x.type.shape.length - 2;
  if (s === 1 || s === 2) return s;
  fail(`${op} on a ${x.type.shape.length}-D input: nnc has 1-D and 2-D ${op} only`);
}

/** A 1-D tensor [N, C, L] on a unit height [N, C, 1, L]; 2-D ones as they are. */
const to2d = (b: GraphImporter, x: Val, spatial: number) =>
  spatial === 1 ? reshape(b, x, [x.type.shape[0]!, x.type.shape[1]!, 1, x.type.shape[2]!]) : x;
const from2d = (b: GraphImporter, y: Val, spatial: number) =>
  spatial === 1 ? reshape(b, y, [y.type.shape[0]!, y.type.shape[1]!, y.type.shape[3]!]) : y;

/** Explicit padding where the two sides differ (nnc's windows pad symmetrically). */
function asymmetric(
  b: GraphImporter,
  x: Val,
  p: number[],
  value: number,
): { x: Val; pad: [number, number] } {
  if (p[0] === p[2] && p[1] === p[3]) return { x, pad: [p[0]!, p[1]!] };
  return asymmetricForce(b, x, p, value);
}

const conv: Rule = (b, inputs, n) => {
  const x = need(inputs[0], "X");
  const w = need(inputs[1], "W");
  const spatial = spatialOf(x, "Conv");
  const win = window2d(n, spatial, w.type.shape.slice(2));
  const padded = asymmetric(b, to2d(b, x, spatial), win.pads, 0);
  const w2 =
    spatial === 1 ? reshape(b, w, [w.type.shape[0]!, w.type.shape[1]!, 1, w.type.shape[2]!]) : w;
  let y = b.op("conv2d", [padded.x, w2], {
    stride: win.strides,
    pad: padded.pad,
    dilation: win.dilations,
    groups: new Attrs(n).int("group", 1),
  });
  if (inputs[2]) y = bin(b, "add", y, reshape(b, inputs[2], [1, inputs[2].type.shape[0]!, 1, 1]));
  return [from2d(b, y, spatial)];
};

const convTranspose: Rule = (b, inputs, n) => {
  const x = need(inputs[0], "X");
  const w = need(inputs[1], "W");
  if (spatialOf(x, "ConvTranspose") !== 2) fail("ConvTranspose: only 2-D is supported");
  const at = new Attrs(n);
  if (at.has("output_shape")) fail("ConvTranspose with output_shape is not supported; give pads");
  const win = window2d(n, 2, w.type.shape.slice(2));
  if (win.pads[0] !== win.pads[2] || win.pads[1] !== win.pads[3])
    fail("ConvTranspose with asymmetric pads is not supported");
  let y = b.op("conv_transpose2d", [x, w], {
    stride: win.strides,
    pad: [win.pads[0], win.pads[1]],
    output_padding: at.ints("output_padding") ?? [0, 0],
    dilation: win.dilations,
    groups: at.int("group", 1),
  });
  if (inputs[2]) y = bin(b, "add", y, reshape(b, inputs[2], [1, inputs[2].type.shape[0]!, 1, 1]));
  return [y];
};

const pool =
  (kind: "max" | "avg"): Rule =>
  (b, inputs, n) => {
    const x = need(inputs[0], "X");
    const spatial = spatialOf(x, kind === "max" ? "MaxPool" : "AveragePool");
    const at = new Attrs(n);
    const win = window2d(n, spatial, at.ints("kernel_shape") ?? fail("kernel_shape is required"));
    if (win.dilations.some((d) => d !== 1)) fail("pooling with dilation is not supported");
    if (at.int("ceil_mode", 0)) fail("ceil_mode=1 is not supported (floor mode only)");
    if (n.output.length > 1 && n.output[1]) fail("MaxPool's Indices output is not supported");
    const countPad = at.int("count_include_pad", 0) === 1;
    const fill = kind === "max" ? Number.NEGATIVE_INFINITY : 0;
    const sym = win.pads[0] === win.pads[2] && win.pads[1] === win.pads[3];
    if (!sym && kind === "avg" && !countPad)
      fail("AveragePool with asymmetric pads and count_include_pad=0");
    let x2 = to2d(b, x, spatial);
    let pad: [number, number] = [win.pads[0]!, win.pads[1]!];
    // nnc's pool2d takes pads up to half the window; a wider or one-sided pad is padded out first.
    if (!sym || 2 * pad[0] > win.kernel[0]! || 2 * pad[1] > win.kernel[1]!) {
      if (kind === "avg" && !countPad)
        fail("AveragePool padding wider than half the window with count_include_pad=0");
      ({ x: x2, pad } = asymmetricForce(b, x2, win.pads, fill));
    }
    const y = b.op("pool2d", [x2], {
      kind,
      kernel: win.kernel,
      stride: win.strides,
      pad,
      count_include_pad: countPad,
    });
    return [from2d(b, y, spatial)];
  };

function asymmetricForce(
  b: GraphImporter,
  x: Val,
  p: number[],
  value: number,
): { x: Val; pad: [number, number] } {
  const pads = [
    [0, 0],
    [0, 0],
    [p[0]!, p[2]!],
    [p[1]!, p[3]!],
  ];
  return { x: b.op("pad", [x], { pads, value }), pad: [0, 0] };
}

/** [1, C, 1, ...]: a per-channel vector against an [N, C, ...] tensor. */
const perChannel = (b: GraphImporter, v: Val, rank: number) =>
  reshape(b, v, [1, v.type.shape[0]!, ...new Array<number>(rank - 2).fill(1)]);

const batchNorm: Rule = (b, inputs, n) => {
  const x = need(inputs[0], "X");
  const r = x.type.shape.length;
  if (n.output.filter((o) => o !== "").length > 1)
    fail("BatchNormalization in training mode is not supported");
  const eps = new Attrs(n).float("epsilon", 1e-5);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) =>
    perChannel(b, need(inputs[i], `input ${i}`), r),
  );
  const inv = b.op("rsqrt", [bin(b, "add", variance!, scalar(b, eps))]);
  return [bin(b, "add", bin(b, "mul", bin(b, "mul", bin(b, "sub", x, mean!), inv), scale!), bias!)];
};

/** (x − mean)·rsqrt(var + eps) over `axes`, the biased variance. */
function normalize(b: GraphImporter, x: Val, axes: number[], eps: number): Val {
  const d = bin(b, "sub", x, b.op("reduce_mean", [x], { axes, keepdims: true }));
  const v = b.op("reduce_mean", [bin(b, "mul", d, d)], { axes, keepdims: true });
  return bin(b, "mul", d, b.op("rsqrt", [bin(b, "add", v, scalar(b, eps))]));
}

const instanceNorm: Rule = (b, inputs, n) => {
  const x = need(inputs[0], "X");
  const r = x.type.shape.length;
  const axes = x.type.shape.slice(2).map((_, i) => i + 2);
  const y = normalize(b, x, axes, new Attrs(n).float("epsilon", 1e-5));
  return [
    bin(
      b,
      "add",
      bin(b, "mul", y, perChannel(b, need(inputs[1], "scale"), r)),
      perChannel(b, need(inputs[2], "B"), r),
    ),
  ];
};

const layerNorm: Rule = (b, inputs, n) => {
  const x = need(inputs[0], "X");
  const at = new Attrs(n);
  const r = x.type.shape.length;
  const axis = axisOf(at.int("axis", -1), r);
  const axes = x.type.shape.slice(axis).map((_, i) => i + axis);
  let y = bin(b, "mul", normalize(b, x, axes, at.float("epsilon", 1e-5)), need(inputs[1], "Scale"));
  if (inputs[2]) y = bin(b, "add", y, inputs[2]);
  return [y];
};

/** Softmax / LogSoftmax; before opset 13 over every axis from `axis` on (a 2-D coercion). */
const softmax =
  (log: boolean): Rule =>
  (b, inputs, n) => {
    const x = need(inputs[0], "input");
    const r = x.type.shape.length;
    const legacy = b.opset < 13;
    const axis = axisOf(new Attrs(n).int("axis", legacy ? 1 : -1), r);
    const prod = (s: number[]) => s.reduce((p, d) => p * d, 1);
    const flat = legacy
      ? reshape(b, x, [prod(x.type.shape.slice(0, axis)), prod(x.type.shape.slice(axis))])
      : x;
    const ax = legacy ? 1 : axis;
    const s = bin(b, "sub", flat, b.op("reduce_max", [flat], { axes: [ax], keepdims: true }));
    const e = b.op("exp", [s]);
    const sum = b.op("reduce_sum", [e], { axes: [ax], keepdims: true });
    const y = log ? bin(b, "sub", s, b.op("log", [sum])) : bin(b, "div", e, sum);
    return [legacy ? reshape(b, y, x.type.shape) : y];
  };

const gemm: Rule = (b, inputs, n) => {
  const at = new Attrs(n);
  const t = (v: Val, yes: number) => (yes ? b.op("permute", [v], { perm: [1, 0] }) : v);
  let y = b.op("matmul", [
    t(need(inputs[0], "A"), at.int("transA", 0)),
    t(need(inputs[1], "B"), at.int("transB", 0)),
  ]);
  const alpha = at.float("alpha", 1);
  if (alpha !== 1) y = bin(b, "mul", y, scalar(b, alpha));
  if (inputs[2]) {
    const beta = at.float("beta", 1);
    y = bin(b, "add", y, beta === 1 ? inputs[2] : bin(b, "mul", inputs[2], scalar(b, beta)));
  }
  return [y];
};

const depthToSpace: Rule = (b, inputs, n) => {
  const x = need(inputs[0], "input");
  const at = new Attrs(n);
  const bs = at.int("blocksize") ?? fail("blocksize is required");
  const [N, C, H, W] = x.type.shape as [number, number, number, number];
  const c = C / (bs * bs);
  const crd = at.str("mode", "DCR") === "CRD";
  const split = crd ? [N, c, bs, bs, H, W] : [N, bs, bs, c, H, W];
  const perm = crd ? [0, 1, 4, 2, 5, 3] : [0, 3, 4, 1, 5, 2];
  const y = b.op("permute", [reshape(b, x, split)], { perm });
  return [reshape(b, y, [N, c, H * bs, W * bs])];
};

const lrn: Rule = (b, inputs, n) => {
  const x = need(inputs[0], "X");
  const at = new Attrs(n);
  const size = at.int("size") ?? fail("size is required");
  const [alpha, beta, bias] = [
    at.float("alpha", 1e-4),
    at.float("beta", 0.75),
    at.float("bias", 1),
  ];
  const C = x.type.shape[1]!;
  const sq = bin(b, "mul", x, x);
  const lo = Math.floor((size - 1) / 2);
  const hi = Math.ceil((size - 1) / 2);
  const pads = x.type.shape.map((_, i) => (i === 1 ? [lo, hi] : [0, 0]));
  const padded = b.op("pad", [sq], { pads, value: 0 });
  // The window sum over channels as a sum of shifted slices.
  let acc: Val | undefined;
  for (let k = 0; k < size; k++) {
    const starts = x.type.shape.map((_, i) => (i === 1 ? k : 0));
    const ends = x.type.shape.map((d, i) => (i === 1 ? k + C : d));
    const s = b.op("slice", [padded], { starts, ends });
    acc = acc ? bin(b, "add", acc, s) : s;
  }
  const base = bin(b, "add", scalar(b, bias), bin(b, "mul", acc!, scalar(b, alpha / size)));
  return [bin(b, "div", x, bin(b, "pow", base, scalar(b, beta)))];
};

export const nnRules: Record<string, Rule> = {
  Conv: conv,
  ConvTranspose: convTranspose,
  MaxPool: pool("max"),
  AveragePool: pool("avg"),
  GlobalAveragePool: (b, inputs) => {
    const x = need(inputs[0], "X");
    return [
      b.op("reduce_mean", [x], {
        axes: x.type.shape.slice(2).map((_, i) => i + 2),
        keepdims: true,
      }),
    ];
  },
  GlobalMaxPool: (b, inputs) => {
    const x = need(inputs[0], "X");
    return [
      b.op("reduce_max", [x], { axes: x.type.shape.slice(2).map((_, i) => i + 2), keepdims: true }),
    ];
  },
  BatchNormalization: batchNorm,
  InstanceNormalization: instanceNorm,
  LayerNormalization: layerNorm,
  LRN: lrn,
  Softmax: softmax(false),
  LogSoftmax: softmax(true),
  Gemm: gemm,
  MatMul: (b, inputs) => [b.op("matmul", [need(inputs[0], "A"), need(inputs[1], "B")])],
  DepthToSpace: depthToSpace,
  ...importScanRules,
  ...rnnRules,
};
