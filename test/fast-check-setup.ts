// Runs in every test worker before each test file: the one seed every
// fast-check property of the file draws from. NNC_SEED=S replays a failure
// exactly (fast-check prints `{ seed: S, path: P }` with the counterexample);
// without it each run draws a fresh seed, so CI keeps exploring new cases.

import fc from "fast-check";

const raw = process.env.NNC_SEED;
if (raw !== undefined && !/^-?\d+$/.test(raw.trim())) {
  throw new Error(
    `NNC_SEED must be an integer (the seed a failing property printed), got "${raw}"`,
  );
}
// A 32-bit signed integer, the range fast-check draws its own seeds from.
const seed = raw !== undefined ? Number(raw.trim()) | 0 : (Math.random() * 0x1_0000_0000) | 0;

fc.configureGlobal({ ...fc.readConfigureGlobal(), seed });
