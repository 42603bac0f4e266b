// Name resolution: local scopes chained to their module, modules to their
// imports, then the always-present `nn` prelude and the builtins. Also the
// loader that reads stdlib modules and user files, reporting missing modules
// and import cycles.

import { existsSync, readdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname, relative, resolve, sep } from "node:path";
import type { CallableDecl, Import, LetStmt, Module, Span } from "../../grammar/ast.js";
import { parse } from "../../grammar/parser.js";
import {
  codes,
  type Diagnostic,
  diagnostic,
  didYouMean,
  NncError,
  type SourceMap,
} from "../core/diagnostics.js";
import { MAX_SOURCE_BYTES, notSourceText, readRegularFile } from "../core/files.js";
import type { Value } from "./values.js";

export class ModuleScope {
  readonly decls = new Map<string, CallableDecl>();
  readonly lets = new Map<string, LetStmt>();
  /** Evaluated top-level lets; `null` while one is being evaluated (cycle guard). */
  readonly letValues = new Map<string, Value | null>();
  /** Modules imported unqualified, in import order. */
  readonly imports: ModuleScope[] = [];
  /** `import rnn` also binds `rnn` as a namespace. */
  readonly namespaces = new Map<string, ModuleScope>();
  prelude: ModuleScope | null = null;
  /** The parsed file, for `inspect --stage ast`. */
  ast: Module | null = null;

  constructor(
    readonly name: string,
    readonly file: string,
    readonly isStdlib: boolean,
  ) {}

  /** Names visible in this module, for "did you mean". */
  visibleNames(): string[] {
    const names = new Set<string>([
      ...this.decls.keys(),
      ...this.lets.keys(),
      ...this.namespaces.keys(),
    ]);
    for (const m of this.imports) for (const n of m.decls.keys()) names.add(n);
    if (this.prelude) for (const n of this.prelude.decls.keys()) names.add(n);
    return [...names];
  }
}

/** A lexical scope of a block: let bindings, hyperparameters and inputs. */
export class Scope {
  private readonly vars = new Map<string, Value>();
  constructor(
    readonly module: ModuleScope,
    readonly parent: Scope | null = null,
  ) {}

  define(name: string, v: Value): void {
    this.vars.set(name, v);
  }

  lookupLocal(name: string): Value | undefined {
    for (let s: Scope | null = this; s; s = s.parent) {
      const v = s.vars.get(name);
      if (v !== undefined) return v;
    }
    return undefined;
  }

  localNames(): string[] {
    const out: string[] = [];
    for (let s: Scope | null = this; s; s = s.parent) out.push(...s.vars.keys());
    return out;
  }

  child(): Scope {
    return new Scope(this.module, this);
  }
}

export interface LoaderOptions {
  stdlibDir: string;
  sources: SourceMap;
  /** Files (absolute paths) may be read from here instead of disk (tests, API callers). */
  readFile?: (absPath: string) => string | undefined;
  /**
   * Folders imports may read from besides the entry file's folder tree and the
   * stdlib (`--allow-import DIR`). Absolute or relative to the working directory.
   */
  importRoots?: string[];
}

/** Errors reported per file: past this, one more line says how many were left out. */
export const MAX_ERRORS_PER_FILE = 20;

/** Lexing errors: a file that has them may not be .nn at all, so an import's lines are not echoed. */
const lexCodes = new Set(["NN1002", "NN1003", "NN1004", "NN1005"]);

function capErrors(ds: Diagnostic[], display: string): Diagnostic[] {
  if (ds.length <= MAX_ERRORS_PER_FILE) return ds;
  const left = ds.length - MAX_ERRORS_PER_FILE;
  const last = ds[MAX_ERRORS_PER_FILE - 1]!;
  return [
    ...ds.slice(0, MAX_ERRORS_PER_FILE - 1),
    {
      ...last,
      notes: [...(last.notes ?? []), { message: `${left} more errors in ${display} not shown` }],
    },
  ];
}

/** An import's errors with the file's text taken out: the code's own words, the position, nothing quoted. */
function unechoed(ds: Diagnostic[], display: string): Diagnostic[] {
  return ds.map((d, i) => ({
    code: d.code,
    severity: d.severity,
    message: `${codes[d.code]} (the text of ${display} is not shown: it does not lex as .nn)`,
    ...(d.span ? { span: d.span } : {}),
    ...(i === 0 ? { hint: "is this import a .nn file?" } : {}),
  }));
}

const within = (root: string, path: string) => path === root || path.startsWith(root + sep);

/** Loads and caches modules; one per compile. */
export class Loader {
  private readonly stdlib = new Map<string, ModuleScope>();
  private readonly files = new Map<string, ModuleScope>();
  private readonly loading: string[] = [];
  readonly stdlibFiles = new Set<string>();
  private preludeScope: ModuleScope | null = null;
  /** Real paths imports may read under: set when the entry is loaded. */
  private roots: string[] | null = null;

  constructor(private readonly opts: LoaderOptions) {}

  /** The entry's folder (the working directory for text), the stdlib and any --allow-import folders. */
  private setRoots(entryDir: string): void {
    if (this.roots) return;
    const real = (p: string) => {
      try {
        return realpathSync(p);
      } catch {
        return resolve(p);
      }
    };
    this.roots = [entryDir, this.opts.stdlibDir, ...(this.opts.importRoots ?? [])].map(real);
  }

  /**
   * An import may name only a regular .nn file inside the roots (symlinks resolved),
   * so `import "../../etc/passwd"` or `/proc/self/environ` is refused without reading it.
   */
  private checkImport(abs: string, site: Span): void {
    if (!abs.endsWith(".nn"))
      throw new NncError(
        diagnostic("NN2011", `cannot import \`${displayPath(abs)}\`: imports name .nn files`, site),
      );
    let real: string;
    try {
      real = realpathSync(abs);
    } catch {
      throw new NncError(
        diagnostic("NN2003", `cannot read \`${displayPath(abs)}\`: no such file`, site),
      );
    }
    const roots = this.roots ?? [];
    if (!roots.some((r) => within(r, real)))
      throw new NncError(
        diagnostic(
          "NN2011",
          `cannot import \`${displayPath(abs)}\`: ${real === abs ? "it is" : `it leads to \`${real}\`,`} outside the entry file's folder and the stdlib`,
          site,
          { hint: `allow its folder with --allow-import ${dirname(real)}` },
        ),
      );
  }

  stdlibModules(): string[] {
    if (!existsSync(this.opts.stdlibDir)) return [];
    return readdirSync(this.opts.stdlibDir)
      .filter((f) => f.endsWith(".nn"))
      .map((f) => f.slice(0, -3))
      .sort();
  }

  prelude(): ModuleScope {
    if (!this.preludeScope) this.preludeScope = this.loadStdlib("nn", undefined);
    return this.preludeScope;
  }

  /** Loads `stdlib/NAME.nn`; `site` is the import that asked for it. */
  loadStdlib(name: string, site: Span | undefined): ModuleScope {
    const hit = this.stdlib.get(name);
    if (hit) return hit;
    const abs = resolve(this.opts.stdlibDir, `${name}.nn`);
    if (!existsSync(abs)) {
      throw new NncError(
        diagnostic(
          "NN2002",
          `no stdlib module \`${name}\`${didYouMean(name, this.stdlibModules())}`,
          site,
          { hint: `stdlib modules: ${this.stdlibModules().join(", ")}` },
        ),
      );
    }
    if (!site) this.setRoots(this.opts.stdlibDir);
    const display = `stdlib/${name}.nn`;
    this.stdlibFiles.add(display);
    const text = readFileSync(abs, "utf8");
    const scope = this.build(text, display, abs, name, true, site);
    this.stdlib.set(name, scope);
    return scope;
  }

  /** Loads a user file by absolute path. */
  loadFile(abs: string, site: Span | undefined): ModuleScope {
    const hit = this.files.get(abs);
    if (hit) return hit;
    const given = this.opts.readFile?.(abs);
    if (given !== undefined) {
      this.setRoots(dirname(abs));
      return this.loadText(given, displayPath(abs), abs, site);
    }
    if (site) this.checkImport(abs, site);
    else this.setRoots(dirname(abs));
    const bytes = readRegularFile(abs, {
      what: site ? "imported file" : "source file",
      maxBytes: MAX_SOURCE_BYTES,
      missingCode: site ? "NN2003" : "NN6012",
      ...(site ? { site } : {}),
    });
    const binary = notSourceText(bytes);
    if (binary !== undefined)
      throw new NncError(
        diagnostic(
          "NN1007",
          `\`${displayPath(abs)}\` is not .nn source text: it holds ${binary}`,
          site,
        ),
      );
    return this.loadText(bytes.toString("utf8"), displayPath(abs), abs, site);
  }

  /** Loads source text; `abs` (if any) resolves relative imports and detects cycles. */
  loadText(text: string, display: string, abs: string | null, site?: Span): ModuleScope {
    const key = abs ?? `<text>:${display}`;
    if (!site) this.setRoots(abs ? dirname(abs) : process.cwd());
    const scope = this.build(text, display, key, display.replace(/\.nn$/, ""), false, site);
    this.files.set(key, scope);
    return scope;
  }

  private build(
    text: string,
    display: string,
    key: string,
    name: string,
    isStdlib: boolean,
    site: Span | undefined,
  ): ModuleScope {
    if (this.loading.includes(key)) {
      const cycle = [...this.loading.slice(this.loading.indexOf(key)), key]
        .map(displayOfKey)
        .join(" -> ");
      throw new NncError(diagnostic("NN2004", `import cycle: ${cycle}`, site));
    }
    const { module, diagnostics } = parse(text, display);
    // An imported file that does not even lex may be anything (a config file, a
    // secret): its errors keep their positions but never show its lines.
    const echo = isStdlib || !site || !diagnostics.some((d) => lexCodes.has(d.code));
    if (echo) this.opts.sources.add(display, text);
    if (diagnostics.length > 0)
      throw new NncError(capErrors(echo ? diagnostics : unechoed(diagnostics, display), display));
    this.loading.push(key);
    try {
      return this.declare(module, name, isStdlib, key);
    } finally {
      this.loading.pop();
    }
  }

  private declare(module: Module, name: string, isStdlib: boolean, key: string): ModuleScope {
    const scope = new ModuleScope(name, module.file, isStdlib);
    scope.ast = module;
    const problems: Diagnostic[] = [];
    const seen = new Map<string, Span>();
    for (const d of module.decls) {
      const names = d.kind === "Callable" ? [d.name] : d.names;
      for (const n of names) {
        const prev = seen.get(n.name);
        if (prev) {
          problems.push(
            diagnostic("NN2005", `\`${n.name}\` is declared twice in this file`, n.span, {
              notes: [{ message: "first declared here", span: prev }],
            }),
          );
          continue;
        }
        seen.set(n.name, n.span);
        if (d.kind === "Callable") scope.decls.set(n.name, d);
        else scope.lets.set(n.name, d);
      }
    }
    if (problems.length > 0) throw new NncError(problems);
    if (!(isStdlib && name === "nn")) scope.prelude = this.prelude();
    for (const imp of module.imports) this.resolveImport(scope, imp, key);
    return scope;
  }

  private resolveImport(scope: ModuleScope, imp: Import, importerKey: string): void {
    let target: ModuleScope;
    if (imp.target.kind === "module") {
      target = this.loadStdlib(imp.target.name, imp.span);
      scope.namespaces.set(imp.target.name, target);
    } else {
      if (importerKey.startsWith("<text>:")) {
        const base = resolve(process.cwd(), imp.target.path);
        target = this.loadFile(base, imp.span);
      } else {
        target = this.loadFile(resolve(dirname(importerKey), imp.target.path), imp.span);
      }
    }
    if (!scope.imports.includes(target)) scope.imports.push(target);
  }
}

export function displayPath(abs: string): string {
  const rel = relative(process.cwd(), abs);
  return rel.startsWith("..") ? abs : rel;
}

function displayOfKey(key: string): string {
  return key.startsWith("<text>:") ? key.slice(7) : displayPath(key);
}
