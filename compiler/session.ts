// A session: a compiled model bound to one backend, one set of weights and
// one set of input shapes, the only way from a CompiledModel to running it
// (the API's run(), `nnc run` and `nnc bench` all open one). The weights are
// read and, on WebGPU, uploaded once; the plan, pipelines and buffers live
// until dispose(). The plan itself comes from CompiledModel.plan(), the one cache.

import { installHint } from "../runtime/webgpu/device.js";
import { GpuPlan } from "../runtime/webgpu/execute.js";
import { probeAdapterAsync } from "../runtime/webgpu/probe.js";
import type { ExecutablePlan } from "./codegen/plan.js";
import { diagnostic, NncError } from "./core/diagnostics.js";
import type { Tensor } from "./core/tensor.js";
import type { TensorType } from "./core/types.js";
import type { InputSpec } from "./elaborate/entry.js";
import type { Graph } from "./graph/graph.js";
import { withDerived } from "./passes/prep.js";
import { packageRoot } from "./paths.js";
import {
  type Backend,
  checkGpuIndices,
  checkInputs,
  loadWeights,
  planUnavailable,
  runOnCpu,
  type Weights,
} from "./run.js";

/** Whether this machine has a WebGPU adapter; `detail` is its description or why not. */
export type AdapterProbe = () => Promise<{ ok: boolean; detail: string }>;

export interface RunOptions {
  /**
   * `"auto"` (the default, as the CLI's): WebGPU where an adapter exists and
   * the code generator can compile the model, else the CPU backend with a
   * note saying why. An explicit `"webgpu"` fails (NN7002) instead.
   */
  backend?: Backend | "auto";
  /** Defaults to `"seeded"` (SPEC.md's initializer, not trained weights), with a note saying so. */
  weights?: Weights;
  /** Receives each note (a fallback to the CPU, seeded weights by default); they are also in `notes`. */
  onNote?: (text: string) => void;
  /** How `"auto"` finds out whether there is an adapter; by default a child process asks Dawn, once per process. */
  probe?: AdapterProbe;
}

export interface SessionOptions extends RunOptions {
  /** The input shapes to compile for; defaults to the compile options' `inputs`. */
  inputs?: Record<string, InputSpec>;
}

/** What a session has done, to observe that a run reuses what the session holds. */
export interface SessionStats {
  /** Times the weights were read (and derived params computed): once per session. */
  weightLoads: number;
  /** Times the weights were uploaded to the device: once per WebGPU session. */
  uploads: number;
  runs: number;
}

/** What a session needs of a CompiledModel (compile.ts): its graph and plan, from its cache. */
export interface PlanProvider {
  optimized(inputs: Record<string, InputSpec>): Graph;
  plan(inputs: Record<string, InputSpec>): ExecutablePlan;
}

const capitalize = (s: string) => s[0]!.toUpperCase() + s.slice(1);

/** The note when there is no adapter and the CPU backend runs instead (the API's and the CLI's). */
export function noAdapterNote(detail: string): string {
  return `no WebGPU adapter (${detail}); running on the CPU backend. ${capitalize(installHint)}`;
}

/** The note when WebGPU cannot take the model (an NN7002 error: the reasons after its lead) and the CPU runs it. */
export function cannotRunNote(unavailable: NncError): string {
  const reasons = unavailable.diagnostics.slice(1);
  const why = (reasons.length > 0 ? reasons : unavailable.diagnostics)
    .map((d) => `${d.code}: ${d.message}`)
    .join("; ");
  return `the WebGPU backend cannot run this model (${why}); running on the CPU backend`;
}

let defaultProbe: ReturnType<AdapterProbe> | undefined;
/** A child process keeps Dawn's warnings (it prints several without a driver) out of the caller's stderr. */
const probeOnce: AdapterProbe = () => {
  defaultProbe ??= probeAdapterAsync(packageRoot);
  return defaultProbe;
};

export class Session {
  readonly stats: SessionStats;
  private disposed = false;

  private constructor(
    /** The backend it runs on (after `"auto"` chose). */
    readonly backend: Backend,
    /** What the caller should know: a fallback to the CPU, seeded weights by default. */
    readonly notes: readonly string[],
    private readonly graph: Graph,
    private readonly params: Map<string, Tensor>,
    private readonly gpu: GpuPlan | undefined,
    /** Milliseconds from asking for the device to the weights being on it (0 on the CPU). */
    readonly setupMs: number,
  ) {
    this.stats = { weightLoads: 1, uploads: gpu ? 1 : 0, runs: 0 };
  }

  /** Use CompiledModel.session(). */
  static async open(model: PlanProvider, shapes: Record<string, InputSpec>, o: RunOptions) {
    const notes: string[] = [];
    const note = (text: string) => {
      notes.push(text);
      o.onNote?.(text);
    };
    const graph = model.optimized(shapes);
    if (o.weights === undefined)
      note("no weights given: using seeded weights (SPEC.md's initializer), not trained ones");
    const params = withDerived(graph, loadWeights(graph, o.weights ?? "seeded"));
    const choice = o.backend ?? "auto";
    if (choice === "cpu") return new Session("cpu", notes, graph, params, undefined, 0);
    if (choice === "auto") {
      const found = await (o.probe ?? probeOnce)();
      if (!found.ok) {
        note(noAdapterNote(found.detail));
        return new Session("cpu", notes, graph, params, undefined, 0);
      }
    }
    let plan: ExecutablePlan;
    let gpu: GpuPlan;
    const t0 = performance.now();
    try {
      plan = model.plan(shapes);
      gpu = await GpuPlan.allocate(plan);
    } catch (e) {
      const unavailable = planUnavailable(e);
      if (!unavailable) throw e;
      if (choice === "webgpu") throw unavailable;
      // Nothing ran yet: the plan needs more than the adapter has, or the code generator cannot compile it.
      note(cannotRunNote(unavailable));
      return new Session("cpu", notes, graph, params, undefined, 0);
    }
    try {
      gpu.uploadParams(params);
      await gpu.idle();
    } catch (e) {
      gpu.dispose();
      throw e;
    }
    return new Session("webgpu", notes, graph, params, gpu, performance.now() - t0);
  }

  /** The inputs it takes, by name, at the shapes it was opened for. */
  get inputs(): { name: string; type: TensorType }[] {
    return this.graph.inputs.map((i) => ({ name: i.name, type: i.type }));
  }

  /** The executable plan it runs (WebGPU only). */
  get plan(): ExecutablePlan | undefined {
    return this.gpu?.plan;
  }

  /** The adapter it runs on (WebGPU only). */
  get adapter(): string | undefined {
    return this.gpu?.gpu.adapterInfo;
  }

  /** Devices the plan is spread over (0 on the CPU). */
  get devices(): number {
    return this.gpu?.devices ?? 0;
  }

  /** One inference with the bound weights; inputs must match the shapes the session was opened for. */
  async run(inputs: Map<string, Tensor>): Promise<Map<string, Tensor>> {
    this.checkOpen();
    checkInputs(this.graph, inputs);
    this.stats.runs++;
    if (!this.gpu) return runOnCpu(this.graph, inputs, this.params);
    checkGpuIndices(this.graph, inputs);
    return this.gpu.run(inputs);
  }

  /** Creates the pipelines now (WebGPU), which the first run() otherwise does. */
  async warm(): Promise<void> {
    this.checkOpen();
    await this.gpu?.compile();
  }

  /** GPU time of each dispatch of one run, in ms (undefined on the CPU or without `timestamp-query`). */
  async profile(inputs: Map<string, Tensor>): Promise<number[] | undefined> {
    this.checkOpen();
    checkInputs(this.graph, inputs);
    return this.gpu?.profile(inputs);
  }

  /** Frees the device buffers; the session cannot run afterwards. Devices stay for other sessions (closeGpu ends them). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.gpu?.dispose();
  }

  private checkOpen(): void {
    if (this.disposed)
      throw new NncError(
        diagnostic("NN7004", "the session was disposed", undefined, {
          hint: "open a new one with model.session()",
        }),
      );
  }
}
