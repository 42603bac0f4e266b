// The device limits the runtime asks for past WebGPU's defaults: the table
// lives with the Target model (compiler/target/limits.ts), so the compiler's
// plans and the runtime's devices read one set of numbers.

export { type LimitName, limitDefaults, limitNames } from "../../compiler/target/limits.js";
