import { readFileSync } from "node:fs";
import { runCase } from "./fuzz.js";
const [file, entry] = process.argv.slice(2);
const r = runCase({ id: file!, text: readFileSync(file!, "utf8"), entry, target: "cpu", level: 1 }, "/work/wt/fuzz/stdlib");
console.log(JSON.stringify(r));
