// CPU references for the workbench: plain loops, float64 sums, obviously
// correct (the same semantics as compiler/ops' matmul and conv2d evaluate).

export function matmulRef(
  a: Float32Array,
  b: Float32Array,
  M: number,
  N: number,
  K: number,
): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let k = 0; k < K; k++) {
      const av = a[i * K + k]!;
      for (let j = 0; j < N; j++) c[i * N + j]! += av * b[k * N + j]!;
    }
  return c;
}

export interface ConvShape {
  n: number;
  cin: number;
  cout: number;
  h: number;
  w: number;
  /** Square kernel, stride 1, zero padding `pad` (3×3 pad 1 keeps H×W). */
  k: number;
  pad: number;
}

export const convOut = (s: ConvShape) => ({
  ho: s.h + 2 * s.pad - s.k + 1,
  wo: s.w + 2 * s.pad - s.k + 1,
});

/** NCHW input, OIHW weight, NCHW output, like PyTorch's Conv2d. */
export function conv2dRef(x: Float32Array, wt: Float32Array, s: ConvShape): Float64Array {
  const { ho, wo } = convOut(s);
  const y = new Float64Array(s.n * s.cout * ho * wo);
  for (let n = 0; n < s.n; n++)
    for (let o = 0; o < s.cout; o++)
      for (let oy = 0; oy < ho; oy++)
        for (let ox = 0; ox < wo; ox++) {
          let acc = 0;
          for (let c = 0; c < s.cin; c++)
            for (let ky = 0; ky < s.k; ky++) {
              const iy = oy - s.pad + ky;
              if (iy < 0 || iy >= s.h) continue;
              for (let kx = 0; kx < s.k; kx++) {
                const ix = ox - s.pad + kx;
                if (ix < 0 || ix >= s.w) continue;
                acc +=
                  x[((n * s.cin + c) * s.h + iy) * s.w + ix]! *
                  wt[((o * s.cin + c) * s.k + ky) * s.k + kx]!;
              }
            }
          y[((n * s.cout + o) * ho + oy) * wo + ox] = acc;
        }
  return y;
}
