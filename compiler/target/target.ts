// The model of the machine a plan is compiled for, read by every stage: the
// graph passes (conv weight layout, the scan cost model), the kernel passes
// (tiles, binding budgets) and the code generator (limits). Plain data built
// here from a name or from an adapter's facts; nothing in it opens a device.

import { diagnostic, NncError } from "../core/diagnostics.js";
import { type LimitTable, limitDefaults, limitNames } from "./limits.js";

/** The named targets (`--target lavapipe|gpu`); `auto` builds one from the adapter. */
export type TargetName = "lavapipe" | "gpu";
export const targetNames: readonly TargetName[] = ["lavapipe", "gpu"];

/**
 * What runs the shaders: a CPU behind a software adapter (lavapipe,
 * SwiftShader) or a GPU. `api` leaves room for a target that is not WebGPU.
 */
export type AdapterClass = "software" | "discrete-gpu" | "integrated-gpu";

/** WebGPU's optional features a plan could use where the adapter has them. */
export type OptionalFeature = "shader-f16" | "timestamp-query" | "subgroups";
export const optionalFeatures: readonly OptionalFeature[] = [
  "shader-f16",
  "timestamp-query",
  "subgroups",
];

/**
 * How the tune pass picks a contraction's register tile:
 *  - loads-per-fma: fewest bounds-checked loads per multiply-add (a CPU runs
 *    each invocation's loads one lane at a time; kernels/tune.ts);
 *  - occupancy: the tallest tile that still leaves `minThreads` invocations
 *    to fill the device.
 */
export type TileRule = { kind: "loads-per-fma" } | { kind: "occupancy"; minThreads: number };

/** The scan cost model's device (passes/scan-schedule.ts): per-step dispatch vs one persistent workgroup. */
export interface ScanCost {
  /** A dispatch with its barrier. */
  dispatchSeconds: number;
  /** An in-kernel barrier between steps. */
  barrierSeconds: number;
  /** One workgroup's rate on a matrix-vector product in a per-step kernel, FLOP/s. */
  workgroupFlops: number;
  /** The same in a persistent kernel's loop. */
  persistentFlops: number;
  /** Parallel units a multi-workgroup dispatch can use (cores of a CPU adapter, SMs/CUs of a GPU). */
  parallelUnits: number;
  /** Invocations per workgroup of a per-step kernel, at most. */
  workgroupSize: number;
  /** Workgroups a per-step dispatch is split into at least, where it has the invocations. */
  minStepWorkgroups: number;
  /** The smallest workgroup a step is split into. */
  minStepWorkgroupSize: number;
}

export interface Target {
  readonly name: TargetName;
  readonly api: "webgpu";
  readonly adapterClass: AdapterClass;
  /** The adapter's description where the target was built from one ("llvmpipe: Mesa …"). */
  readonly adapter?: string;
  /** The limits a plan may use: WebGPU's defaults, lowered to the adapter's where it has less. */
  readonly limits: Readonly<LimitTable>;
  /** Elements one vector load reads (WGSL's vec4<f32>): the unit of kernels/vectorize.ts. */
  readonly vectorWidth: number;
  readonly scanCost: Readonly<ScanCost>;
  /** The conv weight layout the kernels read best (passes/conv-weight-layout.ts relays out to HWIO). */
  readonly convWeightLayout: "HWIO" | "OIHW";
  readonly tileRule: TileRule;
  /** Optional features the adapter has (none for a named target: it assumes the baseline). */
  readonly features: readonly OptionalFeature[];
}

/**
 * Lavapipe (Mesa's Vulkan on the CPU, 2 cores here): the target every
 * number in the cost models was calibrated on (DESIGN.md, bench/README.md).
 */
const lavapipe: Target = {
  name: "lavapipe",
  api: "webgpu",
  adapterClass: "software",
  limits: { ...limitDefaults },
  vectorWidth: 4,
  scanCost: {
    // 25–35 µs alone, ~60 µs between dependent dispatches.
    dispatchSeconds: 60e-6,
    barrierSeconds: 5e-6,
    workgroupFlops: 2e9,
    // About half: the persistent loop body runs under masks.
    persistentFlops: 1e9,
    // Its threads = the cores.
    parallelUnits: 2,
    workgroupSize: 64,
    // Each workgroup runs on one thread: a step of two workgroups waits for
    // the slower of two threads, one of eight balances over the cores.
    minStepWorkgroups: 8,
    // A SIMD vector or two.
    minStepWorkgroupSize: 16,
  },
  convWeightLayout: "HWIO",
  tileRule: { kind: "loads-per-fma" },
  features: [],
};

/**
 * A GPU, calibrated on one NVIDIA H200 (132 SMs; bench/README.md). OIHW
 * weights: resnet18 at 224 ran 4.5 ms warm with them and 7.2 ms with HWIO,
 * a warp's lanes walk output pixels and share each OIHW weight. Tiles by
 * occupancy: ~128 invocations per SM (kernels/tune.ts has the sweep).
 */
const gpu: Target = {
  name: "gpu",
  api: "webgpu",
  adapterClass: "discrete-gpu",
  limits: { ...limitDefaults },
  vectorWidth: 4,
  scanCost: {
    // -O0's LSTM 256→512, T=64 on the H200: 5.6 ms of GPU time over its 963
    // dependent dispatches of tiny kernels, ~6 µs each (bench/README.md); a
    // lower bound, timestamps miss the gaps between dispatches.
    dispatchSeconds: 6e-6,
    barrierSeconds: 5e-6,
    // The fused LSTM step at hidden 512 on the H200: 2.1 MFLOP in 115 µs over
    // its 8 workgroups, ~2 GFLOP/s each (one invocation walks k serially).
    workgroupFlops: 2e9,
    // No masked loop on a GPU: assumed the per-step rate (not measured).
    persistentFlops: 2e9,
    parallelUnits: 132,
    // The per-step workgroup sizing kept as lavapipe's: not retuned on a GPU.
    workgroupSize: 64,
    minStepWorkgroups: 8,
    minStepWorkgroupSize: 16,
  },
  convWeightLayout: "OIHW",
  tileRule: { kind: "occupancy", minThreads: 16384 },
  features: [],
};

const named: Record<TargetName, Target> = { lavapipe, gpu };

/** A named target; NN8001 for any other name (`cpu` was lavapipe's name before the Target model). */
export function namedTarget(name: TargetName): Target {
  const t = (named as Partial<Record<string, Target>>)[name];
  if (t) return t;
  throw new NncError(
    diagnostic(
      "NN8001",
      `no target \`${name}\`; the targets are ${targetNames.join(", ")}`,
      undefined,
      {
        hint:
          (name as string) === "cpu"
            ? "the software adapter's target is now called lavapipe"
            : "build one from an adapter with targetFromAdapter",
      },
    ),
  );
}

/** The default where no adapter is asked: lavapipe, the adapter CI and this project's machines have. */
export const defaultTarget: Target = lavapipe;

/** What the runtime reads off a WebGPU adapter (GPUAdapterInfo, its features and limits) as plain data. */
export interface AdapterFacts {
  vendor?: string;
  architecture?: string;
  description?: string;
  isFallbackAdapter?: boolean;
  features: readonly string[];
  limits: Partial<Record<string, number>>;
}

/** Vendors whose WebGPU adapters are integrated GPUs, as far as the name says (there is no adapter type in WebGPU). */
const INTEGRATED_VENDORS = /^(intel|apple|arm|qualcomm|imagination|img-tec|broadcom|mesa)$/i;

export function adapterClassOf(info: AdapterFacts): AdapterClass {
  const text = `${info.architecture ?? ""} ${info.description ?? ""}`;
  if (info.isFallbackAdapter || info.architecture === "software") return "software";
  if (/llvmpipe|lavapipe|swiftshader|softpipe|warp/i.test(text)) return "software";
  return INTEGRATED_VENDORS.test(info.vendor ?? "") ? "integrated-gpu" : "discrete-gpu";
}

/**
 * The target for an adapter: lavapipe's model for a software adapter, the
 * GPU's for any GPU (an integrated one too: the occupancy rule and OIHW
 * weights are the GPU side of every measured choice), with the adapter's
 * features and, where it has less than WebGPU's defaults, its limits.
 */
export function targetFromAdapter(info: AdapterFacts): Target {
  const adapterClass = adapterClassOf(info);
  const base = adapterClass === "software" ? lavapipe : gpu;
  const limits = { ...limitDefaults } as Record<string, number>;
  for (const k of limitNames) {
    const have = info.limits[k];
    if (have !== undefined && have < limits[k]!) limits[k] = have;
  }
  const description = [info.vendor, info.architecture, info.description]
    .filter(Boolean)
    .join(" / ");
  return {
    ...base,
    adapterClass,
    adapter: description || "unnamed adapter",
    limits: limits as LimitTable,
    features: optionalFeatures.filter((f) => info.features.includes(f)),
  };
}

/** One line for `nnc inspect` and `nnc bench`: name, class and adapter. */
export function describeTarget(t: Target): string {
  return `${t.name} (${t.adapterClass}${t.adapter ? `: ${t.adapter}` : ", no adapter asked"})`;
}

/**
 * The workgroup size of a per-step scan kernel of `threads` invocations:
 * the target's size, halved while that leaves fewer than its
 * minStepWorkgroups (a CPU adapter runs each workgroup on one thread).
 */
export function stepWorkgroupSize(t: Target, threads: number): number {
  const c = t.scanCost;
  let wg = c.workgroupSize;
  while (wg > c.minStepWorkgroupSize && Math.ceil(threads / wg) < c.minStepWorkgroups) wg /= 2;
  return wg;
}

/** What every pass receives besides the IR it rewrites. */
export interface PassContext {
  readonly target: Target;
}
