// Name resolution: local scopes chained to their module, modules to their
// imports, then the always-present `nn` prelude and the builtins. Also the
// loader that reads stdlib modules and user files, reporting missing modules
// and import cycles.

import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, relative, resolve } from "node:path";
import type { CallableDecl, Import, LetStmt, Module, Span } from "../../grammar/ast.js";
import { parse } from "../../grammar/parser.js";
import {
  type Diagnostic,
  diagnostic,
  didYouMean,
  NncError,
  type SourceMap,
} from "../core/diagnostics.js";
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
}

/** Loads and caches modules; one per compile. */
export class Loader {
  private readonly stdlib = new Map<string, ModuleScope>();
  private readonly files = new Map<string, ModuleScope>();
  private readonly loading: string[] = [];
  readonly stdlibFiles = new Set<string>();
  private preludeScope: ModuleScope | null = null;

  constructor(private readonly opts: LoaderOptions) {}

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
    const text =
      this.opts.readFile?.(abs) ?? (existsSync(abs) ? readFileSync(abs, "utf8") : undefined);
    if (text === undefined) {
      throw new NncError(
        diagnostic("NN2003", `cannot read \`${displayPath(abs)}\`: no such file`, site),
      );
    }
    return this.loadText(text, displayPath(abs), abs, site);
  }

  /** Loads source text; `abs` (if any) resolves relative imports and detects cycles. */
  loadText(text: string, display: string, abs: string | null, site?: Span): ModuleScope {
    const key = abs ?? `<text>:${display}`;
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
    this.opts.sources.add(display, text);
    const { module, diagnostics } = parse(text, display);
    if (diagnostics.length > 0) throw new NncError(diagnostics);
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
