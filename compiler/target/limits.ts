// WebGPU's default device limits (the spec's table): what a device gets
// without asking in requestDevice({requiredLimits}), whatever the adapter
// could give. The one table of limits: a Target's limits start from it and
// the runtime (runtime/webgpu/limits.ts) asks for more only past it.

export const limitDefaults = {
  maxStorageBufferBindingSize: 134_217_728,
  maxUniformBufferBindingSize: 65_536,
  maxBufferSize: 268_435_456,
  maxStorageBuffersPerShaderStage: 8,
  maxUniformBuffersPerShaderStage: 12,
  maxBindingsPerBindGroup: 1000,
  maxComputeInvocationsPerWorkgroup: 256,
  maxComputeWorkgroupSizeX: 256,
  maxComputeWorkgroupSizeY: 256,
  maxComputeWorkgroupSizeZ: 64,
  maxComputeWorkgroupStorageSize: 16_384,
  maxComputeWorkgroupsPerDimension: 65_535,
} as const;

export type LimitName = keyof typeof limitDefaults;

export type LimitTable = Record<LimitName, number>;

export const limitNames = Object.keys(limitDefaults) as LimitName[];
