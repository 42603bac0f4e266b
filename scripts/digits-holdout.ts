// The held-out digits of `nnc train --data image=mnist:digits#image ... --holdout F`
// (same seed, same split) as .npy files for `nnc run`, and the accuracy of the
// logits `nnc run --save-outputs` wrote for them. Used by scripts/train-digits.sh.
//   tsx scripts/digits-holdout.ts split OUT_DIR [FRACTION] [SEED]
//   tsx scripts/digits-holdout.ts score LOGITS.npy LABELS.npy

import { join } from "node:path";
import { Dataset } from "../runtime/data/dataset.js";
import { mnistDigits } from "../runtime/data/load.js";
import { readNpy, writeNpy } from "../runtime/weights/npy.js";

const [mode, a, b, c] = process.argv.slice(2);
if (mode === "split" && a) {
  const data = new Dataset(mnistDigits());
  const f = Number(b ?? "0.2");
  const { held } = data.split(Math.round(f * data.size), Number(c ?? "0"));
  const img = held.arrays.get("image")!;
  const n = held.size;
  const pixels = img.data as Float32Array;
  writeNpy(join(a, "image-784.npy"), { dtype: "f32", shape: [n, 784], data: pixels });
  writeNpy(join(a, "image-1x28x28.npy"), { dtype: "f32", shape: [n, 1, 28, 28], data: pixels });
  const labels = held.arrays.get("label")!.data as Int32Array;
  writeNpy(join(a, "label.npy"), { dtype: "i32", shape: [n], data: labels });
  console.log(`${n} held-out digits in ${a}`);
} else if (mode === "score" && a && b) {
  const logits = readNpy(a);
  const labels = readNpy(b).data as Int32Array;
  const [n, k] = logits.shape as [number, number];
  const l = logits.data as Float32Array;
  let right = 0;
  for (let i = 0; i < n; i++) {
    let best = 0;
    for (let j = 1; j < k; j++) if (l[i * k + j]! > l[i * k + best]!) best = j;
    if (best === labels[i]) right++;
  }
  console.log(`accuracy ${((100 * right) / n).toFixed(2)}% (${right}/${n})`);
} else {
  console.error(
    "usage: digits-holdout.ts split OUT_DIR [FRACTION] [SEED] | score LOGITS.npy LABELS.npy",
  );
  process.exit(2);
}
