#!/usr/bin/env node
// The `nnc` executable: runs the CLI and exits with its code.
import { main } from "../compiler/cli/main.js";

const code = await main(process.argv.slice(2), {
  out: (t) => process.stdout.write(`${t}\n`),
  err: (t) => process.stderr.write(`${t}\n`),
});
process.exitCode = code;
