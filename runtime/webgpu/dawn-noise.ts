// Dawn's native notes that are not the user's business. On lavapipe (and other
// Vulkan drivers that report a huge maxDescriptorSet*BuffersDynamic) Dawn clamps
// two limits when it discovers the adapter and says so with dawn::WarningLog,
// written by native code to file descriptor 2: Node cannot intercept it in the
// same process, so the `nnc` executable runs WebGPU commands in a child and
// passes its stderr through this filter. Everything else passes unchanged.

/** Lines dropped: exactly Dawn's limit-clamping notes, nothing of ours. */
const NOISE = [
  /^Warning: maxDynamic(Uniform|Storage)BuffersPerPipelineLayout artificially reduced from \d+ to \d+ to fit dynamic offset allocation limit\.$/,
];

export const isDawnNoise = (line: string) => NOISE.some((re) => re.test(line));

/** Commands that may open a WebGPU device (run without --backend cpu, bench). */
export function mayOpenDevice(argv: readonly string[]): boolean {
  const command = argv.find((a) => !a.startsWith("-"));
  if (command === "bench") return true;
  if (command !== "run") return false;
  const i = argv.indexOf("--backend");
  return !(argv.includes("--backend=cpu") || (i >= 0 && argv[i + 1] === "cpu"));
}

/** Splits a stream into lines and passes on every line that is not Dawn noise. */
export class DawnNoiseFilter {
  private pending = "";
  constructor(private readonly sink: (text: string) => void) {}

  write(text: string): void {
    const lines = (this.pending + text).split("\n");
    this.pending = lines.pop()!;
    const kept = lines.filter((l) => !isDawnNoise(l));
    if (kept.length > 0) this.sink(`${kept.join("\n")}\n`);
  }

  end(): void {
    if (this.pending !== "" && !isDawnNoise(this.pending)) this.sink(this.pending);
    this.pending = "";
  }
}
