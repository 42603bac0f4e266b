// Test helper: the NncError a promise rejects with, so a test can look at its
// diagnostics; anything else (or no rejection) fails the test.

import { NncError } from "../compiler/core/diagnostics.js";

export async function nncError(p: Promise<unknown>): Promise<NncError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof NncError) return e;
    throw e;
  }
  throw new Error("expected an NncError");
}
