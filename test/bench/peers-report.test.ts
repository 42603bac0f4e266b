// bench/peers-report.ts: the ratios nnc is held to against the peers, their
// PASS/FAIL marks, and the roofline tool's output, on made-up numbers.

import { describe, expect, it } from "vitest";
import {
  checksFor,
  formatPeersTable,
  type PeerRow,
  parseRoofline,
} from "../../bench/peers-report.js";

const w = "matmul";
const rows: PeerRow[] = [
  { workload: w, runtime: "nnc", cold_ms: 500, warm_ms: 200, gflops: 10.7, kernel_gflops: 11 },
  { workload: w, runtime: "ortnode-webgpu", cold_ms: 1100, warm_ms: 400, gflops: 5.4 },
  { workload: w, runtime: "ortweb-webgpu", cold_ms: 1500, warm_ms: 600, gflops: 3.6 },
  { workload: w, runtime: "tfjs-webgpu", cold_ms: 1400, warm_ms: 550, gflops: 3.9 },
  {
    workload: w,
    runtime: "roofline",
    cold_ms: 300,
    warm_ms: 210,
    gflops: 10.2,
    kernel_gflops: 10.2,
  },
];

const byName = (cs: ReturnType<typeof checksFor>) => Object.fromEntries(cs.map((c) => [c.name, c]));

describe("checksFor", () => {
  it("divides by the fastest WebGPU peer, tfjs-webgpu, the roofline and ortnode's cold", () => {
    const c = byName(checksFor(w, rows));
    expect(c["vs fastest WebGPU peer"]!.value).toBeCloseTo(2, 9);
    expect(c["vs fastest WebGPU peer"]!.pass).toBe(true);
    expect(c["vs tfjs-webgpu"]!.value).toBeCloseTo(2.75, 9);
    expect(c["vs tfjs-webgpu"]!.pass).toBe(false);
    expect(c["% of roofline"]!.value).toBeCloseTo(11 / 10.2, 9);
    expect(c["% of roofline"]!.pass).toBe(true);
    expect(c["cold vs ortnode-webgpu"]!.value).toBeCloseTo(2.2, 9);
  });

  it("counts only the issue's targets: the roofline for the matmul, cold for ResNet-18 alone", () => {
    const names = (workload: string) =>
      checksFor(
        workload,
        rows.map((r) => ({ ...r, workload })),
      )
        .filter((c) => c.required)
        .map((c) => c.name);
    expect(names("matmul")).toEqual(["% of roofline"]);
    expect(names("resnet224")).toEqual([
      "vs fastest WebGPU peer",
      "vs tfjs-webgpu",
      "cold vs ortnode-webgpu",
    ]);
    expect(names("lstm")).toEqual(["vs fastest WebGPU peer", "vs tfjs-webgpu"]);
  });

  it("fails a check whose side is missing, and skips the roofline where there is none", () => {
    const noPeers = rows.filter((r) => r.runtime === "nnc");
    const c = byName(checksFor(w, noPeers));
    expect(c["vs fastest WebGPU peer"]!.value).toBeUndefined();
    expect(c["vs fastest WebGPU peer"]!.pass).toBe(false);
    expect(c["% of roofline"]).toBeUndefined();
    const failed = rows.map((r) => (r.runtime === "nnc" ? { ...r, error: "rc=1" } : r));
    expect(checksFor(w, failed).every((x) => !x.pass)).toBe(true);
  });

  it("counts nnc's host-to-host GFLOP/s against the roofline where it beats its kernel timestamps", () => {
    const hostOnly = rows.map((r) =>
      r.runtime === "nnc" ? { ...r, kernel_gflops: undefined } : r,
    );
    expect(byName(checksFor(w, hostOnly))["% of roofline"]!.value).toBeCloseTo(10.7 / 10.2, 9);
    const slowStamps = rows.map((r) => (r.runtime === "nnc" ? { ...r, kernel_gflops: 9 } : r));
    expect(byName(checksFor(w, slowStamps))["% of roofline"]!.value).toBeCloseTo(10.7 / 10.2, 9);
  });
});

describe("formatPeersTable", () => {
  it("puts the marks on nnc's row and counts the passing targets", () => {
    const text = formatPeersTable([w], rows, checksFor(w, rows), {
      labels: { matmul: "matmul 1024³" },
      header: ["title"],
    });
    const nncLine = text.split("\n").find((l) => l.includes("| nnc |"))!;
    expect(nncLine).toContain("2.00× (info)");
    expect(nncLine).toContain("2.75× (info)");
    expect(nncLine).toContain("108% PASS");
    expect(nncLine).toContain("10.70 (kernel 11.00)");
    expect(text).toContain("1/1 checks pass");
    const resnet = rows.map((r) => ({ ...r, workload: "resnet224" }));
    const text2 = formatPeersTable(["resnet224"], resnet, checksFor("resnet224", resnet), {
      labels: {},
      header: [],
    });
    const line2 = text2.split("\n").find((l) => l.includes("| nnc |"))!;
    expect(line2).toContain("2.00× PASS");
    expect(line2).toContain("2.75× FAIL");
    expect(line2).toContain("2.20× PASS");
    expect(text2).toContain("2/3 checks pass");
  });
});

describe("parseRoofline", () => {
  it("takes the fastest kernel's line", () => {
    const out = [
      "adapter: mesa software llvmpipe; n=1024",
      "   0.28 GFLOP/s  median  7793.7 ms  first  12180 ms  pipeline    6 ms  maxErr 6.5e-6  {}",
      "   9.78 GFLOP/s  median   219.5 ms  first    675 ms  pipeline    6 ms  maxErr 8.9e-6  {}",
      "best: 9.78 GFLOP/s {}",
    ].join("\n");
    expect(parseRoofline(out)).toEqual({ gflops: 9.78, median_ms: 219.5, first_ms: 675 });
    expect(parseRoofline("FAILED {}: boom")).toBeUndefined();
  });
});
