// Output-size arithmetic and checks shared by the sliding-window ops (conv2d,
// conv_transpose2d, pool2d), following PyTorch's formulas (SPEC.md §10).

import type { TensorType } from "../core/types.js";
import { expectRank } from "./shape-utils.js";

/** floor((size + 2·pad − dilation·(kernel − 1) − 1) / stride) + 1 */
export function windowOutSize(
  size: number,
  kernel: number,
  stride: number,
  pad: number,
  dilation = 1,
): number {
  return Math.floor((size + 2 * pad - dilation * (kernel - 1) - 1) / stride) + 1;
}

/** "3×−1", with a true minus sign so a negative size reads as one. */
export function formatHW(h: number, w: number): string {
  const f = (v: number) => (v < 0 ? `−${-v}` : `${v}`);
  return `${f(h)}×${f(w)}`;
}

/** "0" when both pads agree, else "1×2". */
export function formatPad(pad: readonly [number, number]): string {
  return pad[0] === pad[1] ? `${pad[0]}` : formatHW(pad[0], pad[1]);
}

/** NN4002 unless `t` is a 4-D NCHW tensor. */
export function expectNCHW(
  op: string,
  t: TensorType,
  what: string,
): [number, number, number, number] {
  expectRank(op, t, 4, what);
  return t.shape as [number, number, number, number];
}
