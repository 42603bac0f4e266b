// The pass pipeline: one registry of graph, kernel and plan passes, and the
// driver that runs it for a target.

export {
  formatPassLog,
  type Metrics,
  type OptimizeOptions,
  type OptimizeResult,
  optimize,
  type PassLog,
  Pipeline,
} from "./pipeline.js";
export { defineRegistry, type Pass, passNames, type Registry, registry } from "./registry.js";
