// The Target model: what the compiler knows of the machine a plan is for.

export * from "./limits.js";
export * from "./target.js";
