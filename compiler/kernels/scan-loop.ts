// Lowering a `scan` to the kernels of its loop: the entry point, which picks
// the fused step (scan-fuse.ts) or one kernel per body node (here). What both
// share, the step's buffers, slots and evaluation, is in scan-lower.ts, which
// also explains the scheme.

import type { IExpr, VExpr } from "./expr.js";
import { iadd } from "./expr.js";
import { defaultGrouping, type KernelGroup } from "./grouping.js";
import type { Kernel } from "./ir.js";
import { attrsOf } from "./node-attrs.js";
import { planFusedStep } from "./scan-fuse.js";
import {
  evaluate,
  geometry,
  KernelScope,
  type Level,
  remapI,
  remapV,
  ScanContext,
  type ScanHost,
  type ScanLowerOptions,
  spaceNames,
} from "./scan-lower.js";

/** The kernels of one step, one per body node (movement ops inlined), as a loop over the steps. */
function perNodeKernels(cx: ScanContext, opts: ScanLowerOptions, why: string): Kernel[] {
  const groups = defaultGrouping(cx.body, opts.maxBindings).groups;
  const kernels: Kernel[] = [];
  const materialized = new Set(groups.map((grp) => grp.root));
  const home = cx.home;
  for (const group of groups) {
    const root = cx.bg.node(group.root);
    const slot = group.part === undefined ? cx.slotOf.get(root.id) : undefined;
    const out = slot !== undefined ? home : cx.localBuffer(root.id);
    const scope = new KernelScope(cx.host.buffers, new Set([out]));
    const inside = new Set(group.nodes);
    const memo = new Map<string, VExpr>();
    const level: Level = {
      g: cx.bg,
      inline: (id) => {
        if (!inside.has(id) || cx.bg.node(id).op === "input") return false;
        if (group.part !== undefined && id === group.root) return false;
        return true;
      },
      read: (id, at) => {
        const i = cx.inputIndex.get(id);
        if (i !== undefined) return cx.readInput(scope, i, at);
        const k = cx.slotOf.get(id);
        if (k !== undefined && materialized.has(id)) return cx.slotAt(scope, k, cx.t, at);
        return scope.load(cx.localBuffer(id), at);
      },
    };
    const computed = group.part === undefined ? root : cx.bg.node(root.inputs[group.part]!);
    const space = spaceNames(computed.type.shape.length).map((name, d) =>
      scope.fresh(name, computed.type.shape[d]!),
    );
    let body = evaluate(level, scope, computed.id, space, memo);
    let store: IExpr[] = space;
    if (group.part !== undefined) {
      const axis = attrsOf(root).axis as number;
      const offset = root.inputs
        .slice(0, group.part)
        .reduce((s, id) => s + cx.bg.node(id).type.shape[axis]!, 0);
      store = space.map((v, d) => (d === axis ? iadd(v, offset) : v));
    }
    if (slot !== undefined) store = cx.slotIndex(slot, cx.t, space).index;
    const map = scope.finish(out);
    body = remapV(body, map);
    const label = group.part === undefined ? root.op : `${root.op}_part${group.part}`;
    kernels.push({
      name: `k${opts.index + kernels.length}_scan${cx.scan.id}_${label}`,
      root: cx.scan.id,
      sources: cx.sources(group.nodes),
      bindings: scope.bindings,
      space,
      store: store.map((e) => remapI(e, map)),
      body,
      ...geometry(space, body, opts.tiling),
      loop: cx.loop(why),
    });
  }
  // A node returned twice (the LSTM's h is both state and output) is copied into its other slots.
  cx.slots.forEach((s, k) => {
    const first = cx.slotOf.get(s.node)!;
    if (first === k) return;
    const scope = new KernelScope(cx.host.buffers, new Set([home]));
    const space = spaceNames(s.shape.length).map((name, d) => scope.fresh(name, s.shape[d]!));
    const body = cx.slotAt(scope, first, cx.t, space);
    const store = cx.slotIndex(k, cx.t, space).index;
    const map = scope.finish(home);
    const b = remapV(body, map);
    kernels.push({
      name: `k${opts.index + kernels.length}_scan${cx.scan.id}_copy`,
      root: cx.scan.id,
      sources: cx.sources([s.node]),
      bindings: scope.bindings,
      space,
      store: store.map((e) => remapI(e, map)),
      body: b,
      ...geometry(space, b, false),
      loop: cx.loop(why),
    });
  });
  return kernels;
}

/**
 * Lowers one scan (a group of the outer grouping rooted at a scan node) to
 * the kernels of its loop, in dispatch order.
 */
export function lowerScan(host: ScanHost, group: KernelGroup, opts: ScanLowerOptions): Kernel[] {
  const scan = host.g.node(group.root);
  const cx = new ScanContext(host, scan, group);
  const sched = cx.a.schedule;
  let kernels: Kernel[] | undefined;
  if (sched?.fused) kernels = planFusedStep(cx, opts);
  kernels ??= perNodeKernels(
    cx,
    opts,
    sched?.fused
      ? "one kernel per body node: the step does not fuse into one kernel"
      : "one kernel per body node, dispatched every step (unoptimized)",
  );
  for (const k of kernels) k.loop = { ...k.loop!, id: opts.loop };
  return kernels;
}
