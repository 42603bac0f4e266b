// Runs once before the suites. GPU detection lands here with the WebGPU backend.
export default function setup(): void {}
