// What every matmul variant provides: C[M,N] = A[M,K] · B[K,N], row-major
// f32, bound as A @binding(0), B @binding(1), C @binding(2). Shapes are baked
// into the WGSL as constants, as nnc's code generator does.

export interface MatmulShape {
  M: number;
  N: number;
  K: number;
}

export interface MatmulKernel {
  /** The variant family: `naive`, `register 4x8`, `workgroup-memory 16x16`. */
  variant: string;
  /** The swept parameters, e.g. `wg 64x1`. */
  config: string;
  /** C elements each invocation computes. */
  outputsPerInvocation: number;
  supports(s: MatmulShape): boolean;
  wgsl(s: MatmulShape): string;
  grid(s: MatmulShape): [number, number, number];
}

export const cdiv = (a: number, b: number) => Math.ceil(a / b);

export const bindings = (vec: "f32" | "vec4f") => `
@group(0) @binding(0) var<storage, read> A: array<${vec}>;
@group(0) @binding(1) var<storage, read> B: array<${vec}>;
@group(0) @binding(2) var<storage, read_write> C: array<${vec}>;`;
