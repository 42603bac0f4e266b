// The Target model: named targets, and the target built from an adapter's
// facts (what runtime/webgpu/device.ts and probe.ts read off Dawn's adapter).

import { describe, expect, it } from "vitest";
import { NncError } from "../../compiler/core/diagnostics.js";
import { limitDefaults } from "../../compiler/target/limits.js";
import {
  type AdapterFacts,
  describeTarget,
  namedTarget,
  stepWorkgroupSize,
  type TargetName,
  targetFromAdapter,
} from "../../compiler/target/target.js";
import { limitDefaults as runtimeDefaults } from "../../runtime/webgpu/limits.js";

/** What Dawn reports for Mesa's lavapipe on this project's machines. */
const llvmpipe: AdapterFacts = {
  vendor: "mesa",
  architecture: "software",
  description: "llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1",
  isFallbackAdapter: true,
  features: ["timestamp-query", "subgroups", "bgra8unorm-storage"],
  limits: { maxStorageBuffersPerShaderStage: 16, maxComputeWorkgroupStorageSize: 32768 },
};

const h200: AdapterFacts = {
  vendor: "nvidia",
  architecture: "hopper",
  description: "NVIDIA H200",
  features: ["shader-f16", "timestamp-query", "subgroups", "float32-filterable"],
  limits: {
    maxStorageBufferBindingSize: 4_294_967_292,
    maxStorageBuffersPerShaderStage: 1_048_576,
  },
};

describe("named targets", () => {
  it("lavapipe: HWIO weights, tiles by loads per multiply-add, 2 parallel units", () => {
    const t = namedTarget("lavapipe");
    expect(t.adapterClass).toBe("software");
    expect(t.convWeightLayout).toBe("HWIO");
    expect(t.tileRule).toEqual({ kind: "loads-per-fma" });
    expect(t.scanCost.parallelUnits).toBe(2);
    expect(t.scanCost.dispatchSeconds).toBe(60e-6);
    expect(t.vectorWidth).toBe(4);
    expect(t.features).toEqual([]);
  });

  it("gpu: OIHW weights, tiles by occupancy (16384 invocations), a GPU's dispatch cost", () => {
    const t = namedTarget("gpu");
    expect(t.adapterClass).toBe("discrete-gpu");
    expect(t.convWeightLayout).toBe("OIHW");
    expect(t.tileRule).toEqual({ kind: "occupancy", minThreads: 16384 });
    expect(t.scanCost.parallelUnits).toBeGreaterThan(
      namedTarget("lavapipe").scanCost.parallelUnits,
    );
    expect(t.scanCost.dispatchSeconds).toBeLessThan(
      namedTarget("lavapipe").scanCost.dispatchSeconds,
    );
  });

  it("both plan within WebGPU's default limits, the one table the runtime reads too", () => {
    expect(runtimeDefaults).toBe(limitDefaults);
    for (const name of ["lavapipe", "gpu"] as const)
      expect(namedTarget(name).limits).toEqual(limitDefaults);
  });
});

describe("an unknown target name", () => {
  it("is NN8001, and `cpu` is pointed to lavapipe", () => {
    const cpu = (() => {
      try {
        namedTarget("cpu" as TargetName);
      } catch (e) {
        return e as NncError;
      }
    })();
    expect(cpu).toBeInstanceOf(NncError);
    expect(cpu!.diagnostics[0]!.code).toBe("NN8001");
    expect(cpu!.diagnostics[0]!.message).toBe("no target `cpu`; the targets are lavapipe, gpu");
    expect(cpu!.diagnostics[0]!.hint).toMatch(/now called lavapipe/);
  });
});

describe("targetFromAdapter", () => {
  it("a software adapter (llvmpipe) gets lavapipe's model, its description and features", () => {
    const t = targetFromAdapter(llvmpipe);
    expect(t.name).toBe("lavapipe");
    expect(t.adapterClass).toBe("software");
    expect(t.adapter).toBe("mesa / software / llvmpipe: Mesa 25.0.7-2~bpo12+1 (LLVM 15.0.6) 0.0.1");
    expect(t.features).toEqual(["timestamp-query", "subgroups"]);
    expect(t.convWeightLayout).toBe("HWIO");
  });

  it("recognises a software adapter by its name when the adapter does not say it is a fallback", () => {
    const t = targetFromAdapter({
      vendor: "google",
      description: "SwiftShader Device",
      features: [],
      limits: {},
    });
    expect(t.name).toBe("lavapipe");
  });

  it("a discrete GPU gets the gpu model and keeps the plan within the defaults it has more than", () => {
    const t = targetFromAdapter(h200);
    expect(t.name).toBe("gpu");
    expect(t.adapterClass).toBe("discrete-gpu");
    expect(t.features).toEqual(["shader-f16", "timestamp-query", "subgroups"]);
    expect(t.limits).toEqual(limitDefaults);
    expect(describeTarget(t)).toBe("gpu (discrete-gpu: nvidia / hopper / NVIDIA H200)");
  });

  it("an integrated GPU gets the gpu model, classed as integrated", () => {
    const t = targetFromAdapter({
      vendor: "intel",
      architecture: "gen-12lp",
      features: [],
      limits: {},
    });
    expect(t.name).toBe("gpu");
    expect(t.adapterClass).toBe("integrated-gpu");
  });

  it("an adapter with less than a default lowers the target's limit to it", () => {
    const t = targetFromAdapter({
      ...h200,
      limits: { maxComputeWorkgroupStorageSize: 8192, maxStorageBuffersPerShaderStage: 4 },
    });
    expect(t.limits.maxComputeWorkgroupStorageSize).toBe(8192);
    expect(t.limits.maxStorageBuffersPerShaderStage).toBe(4);
    expect(t.limits.maxBufferSize).toBe(limitDefaults.maxBufferSize);
  });
});

describe("the step workgroup rule", () => {
  it("halves 64 while a step has fewer than 8 workgroups, down to 16", () => {
    const t = namedTarget("lavapipe");
    expect(stepWorkgroupSize(t, 4096)).toBe(64);
    expect(stepWorkgroupSize(t, 256)).toBe(32);
    expect(stepWorkgroupSize(t, 128)).toBe(16);
    expect(stepWorkgroupSize(t, 8)).toBe(16);
  });
});
