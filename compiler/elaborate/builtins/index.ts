// Loads every builtin module so the registry is complete.
import "./math.js";
import "./shape.js";
import "./contraction.js";
import "./misc.js";
import "./scan.js";

export type { Builtin, ParamType } from "./builtin.js";
export { builtins, tensorMethods } from "./builtin.js";

import "./random.js";
