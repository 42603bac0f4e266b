// The CNN families at ImageNet size: every model elaborates at 1×3×224×224
// with torchvision's parameter count, key state_dict entries have torchvision's
// names and shapes, FLOPs match torchvision's published counts at 224 and the
// reference counts of SPEC.md §8 at 64, and each family uses torchvision's
// norm eps. Only elaboration here: the CPU interpreter is too slow for full
// forwards at this size.

import { describe, expect, it } from "vitest";
import { compile, type Graph } from "../../compiler/index.js";
import { compileCase, imageModels } from "./cases.js";

const at224 = { input: { shape: [1, 3, 224, 224] } };

function graphOf(module: string, entry: string, args: string[] = []): Graph {
  return compileCase({ source: `${module}:${entry}`, args }).elaborate(at224).graph;
}

describe("CNN families at 224×224", () => {
  for (const m of imageModels) {
    it(`${m.entry} elaborates to logits [1, 1000]${m.torchvisionParams ? " with torchvision's parameter count" : ""} and ${m.gmacs} GMACs`, () => {
      const s = compileCase({ source: `${m.module}:${m.entry}` }).summary(at224);
      expect(s.outputs.map((o) => [o.name, o.type.shape])).toEqual([["logits", [1, 1000]]]);
      if (m.torchvisionParams !== undefined) expect(s.params).toBe(m.torchvisionParams);
      // FLOPs are 2 × multiply-adds (SPEC.md); the reference is rounded to 10^6 multiply-adds.
      expect((s.flops / 2 / 1e9).toFixed(3)).toBe(m.gmacs.toFixed(3));
    });
  }

  it("lenet5 has 61,706 parameters with 10 classes", () => {
    const s = compileCase({ source: "lenet:lenet5" }).summary({ input: { shape: [1, 1, 32, 32] } });
    expect(s.params).toBe(61_706);
    expect(s.outputs[0]!.type.shape).toEqual([1, 10]);
  });

  it("mobilenet_v1 has the paper's layer sizes (Table 1), counted independently", () => {
    // Stem 3×3 conv + BN, then per block a 3×3 depthwise conv + BN and a 1×1 conv + BN, then fc.
    const widths = [32, 64, 128, 128, 256, 256, 512, 512, 512, 512, 512, 512, 1024, 1024];
    let want = 3 * 32 * 9 + 2 * 32;
    for (let i = 1; i < widths.length; i++) {
      const [cin, cout] = [widths[i - 1]!, widths[i]!];
      want += cin * 9 + 2 * cin + cin * cout + 2 * cout;
    }
    want += 1024 * 1000 + 1000;
    const s = compileCase({ source: "mobilenet:mobilenet_v1" }).summary(at224);
    expect(s.params).toBe(want);
    // 569 million multiply-adds in the paper's Table 1 (conv and fc).
    expect(Math.round(s.flops / 2 / 1e6)).toBe(569);
  });

  it("mobilenet_v2 follows torchvision's width multiplier (_make_divisible by 8)", () => {
    const params = (w: string) =>
      compileCase({ source: "mobilenet:mobilenet_v2", args: [`width_mult=${w}`] }).summary(at224)
        .params;
    expect(params("0.5")).toBe(1_968_680);
    expect(params("1.4")).toBe(6_108_776);
  });

  it("the basic block has no grouped form", () => {
    const src = `import resnet
model m()(input: f32[N, 3, H, W]) { {logits: resnet(basic, [1, 1, 1, 1], groups=2)(input)} }`;
    expect(() =>
      compile(src, { file: "model.nn" }).elaborate({ input: { shape: [1, 3, 64, 64] } }),
    ).toThrow(/the basic block supports only groups=1 and base_width=64, got groups=2/);
  });

  it("unet elaborates at 224×224 with the default base and depth", () => {
    const s = compileCase({
      source: "unet:unet",
      args: ["in_channels=3", "classes=2"],
    }).summary(at224);
    expect(s.outputs.map((o) => [o.name, o.type.shape])).toEqual([["output", [1, 2, 224, 224]]]);
  });

  it("unet rejects an input with the wrong channel count at the user's call", () => {
    expect(() =>
      compileCase({ source: "unet:unet", args: ["in_channels=3", "classes=2"] }).elaborate({
        input: { shape: [1, 1, 64, 64] },
      }),
    ).toThrow(/unet was built for 3 input channels, got f32\[1, 1, 64, 64\]/);
  });

  it("an input too small for the model's downsampling is a plain error, not a shape error deep inside", () => {
    const cases: [string, string[], number[], RegExp][] = [
      ["densenet:densenet121", [], [1, 3, 28, 64], /densenet needs an input of at least 29×29/],
      ["convnext:convnext_tiny", [], [1, 3, 64, 31], /convnext needs an input of at least 32×32/],
      [
        "unet:unet",
        ["in_channels=1", "classes=2"],
        [1, 1, 30, 32],
        /unet of depth 4 needs H and W divisible by 16, got f32\[1, 1, 30, 32\]/,
      ],
    ];
    for (const [source, args, shape, message] of cases) {
      expect(() => compileCase({ source, args }).elaborate({ input: { shape } })).toThrow(message);
    }
    // The smallest sizes that fit still elaborate.
    expect(() =>
      compileCase({ source: "densenet:densenet121" }).elaborate({
        input: { shape: [1, 3, 29, 29] },
      }),
    ).not.toThrow();
    expect(() =>
      compileCase({ source: "convnext:convnext_tiny" }).elaborate({
        input: { shape: [1, 3, 32, 32] },
      }),
    ).not.toThrow();
  });
});

describe("torchvision state_dict names", () => {
  // Entries read off torchvision 0.14's modules (name and shape).
  const keys: [string, string, Record<string, number[]>][] = [
    [
      "resnet",
      "resnet50",
      {
        "layer1.0.downsample.0.weight": [256, 64, 1, 1],
        "layer1.0.downsample.1.running_var": [256],
        "layer2.0.conv1.weight": [128, 256, 1, 1],
        "layer2.0.conv2.weight": [128, 128, 3, 3],
        "layer4.2.bn3.weight": [2048],
        "fc.weight": [1000, 2048],
      },
    ],
    [
      "resnet",
      "resnext50_32x4d",
      {
        "layer1.0.conv2.weight": [128, 4, 3, 3],
        "layer4.2.conv3.weight": [2048, 1024, 1, 1],
      },
    ],
    [
      "resnet",
      "resnext101_32x8d",
      {
        "layer1.0.conv1.weight": [256, 64, 1, 1],
        "layer1.0.conv2.weight": [256, 8, 3, 3],
        "layer3.22.conv2.weight": [1024, 32, 3, 3],
      },
    ],
    [
      "densenet",
      "densenet121",
      {
        "features.conv0.weight": [64, 3, 7, 7],
        "features.norm0.num_batches_tracked": [],
        "features.denseblock1.denselayer1.norm1.weight": [64],
        "features.denseblock1.denselayer6.conv2.weight": [32, 128, 3, 3],
        "features.transition1.conv.weight": [128, 256, 1, 1],
        "features.denseblock4.denselayer16.conv1.weight": [128, 992, 1, 1],
        "features.norm5.weight": [1024],
        "classifier.weight": [1000, 1024],
      },
    ],
    [
      "densenet",
      "densenet201",
      {
        "features.denseblock3.denselayer48.conv1.weight": [128, 1760, 1, 1],
        "classifier.weight": [1000, 1920],
      },
    ],
    [
      "mobilenet",
      "mobilenet_v3_small",
      {
        "features.0.0.weight": [16, 3, 3, 3],
        "features.1.block.0.0.weight": [16, 1, 3, 3],
        "features.1.block.1.fc1.weight": [8, 16, 1, 1],
        "features.1.block.1.fc2.bias": [16],
        "features.1.block.2.1.weight": [16],
        "features.4.block.2.fc1.weight": [24, 96, 1, 1],
        "features.12.0.weight": [576, 96, 1, 1],
        "classifier.0.weight": [1024, 576],
        "classifier.3.weight": [1000, 1024],
      },
    ],
    [
      "mobilenet",
      "mobilenet_v3_large",
      {
        "features.1.block.0.0.weight": [16, 1, 3, 3],
        "features.4.block.2.fc1.weight": [24, 72, 1, 1],
        "features.16.0.weight": [960, 160, 1, 1],
        "classifier.0.weight": [1280, 960],
        "classifier.3.bias": [1000],
      },
    ],
    [
      "convnext",
      "convnext_tiny",
      {
        "features.0.0.weight": [96, 3, 4, 4],
        "features.0.1.weight": [96],
        "features.1.0.block.0.weight": [96, 1, 7, 7],
        "features.1.0.block.2.weight": [96],
        "features.1.0.block.3.weight": [384, 96],
        "features.1.0.block.5.weight": [96, 384],
        "features.1.0.layer_scale": [96, 1, 1],
        "features.5.8.layer_scale": [384, 1, 1],
        "features.6.0.bias": [384],
        "features.6.1.weight": [768, 384, 2, 2],
        "classifier.0.weight": [768],
        "classifier.2.weight": [1000, 768],
      },
    ],
    [
      "convnext",
      "convnext_base",
      { "features.5.26.block.3.weight": [2048, 512], "classifier.2.weight": [1000, 1024] },
    ],
  ];
  for (const [module, entry, want] of keys) {
    it(entry, () => {
      const params = new Map(graphOf(module, entry).params.map((p) => [p.name, p.type.shape]));
      for (const [name, shape] of Object.entries(want))
        expect([name, params.get(name)]).toEqual([name, shape]);
    });
  }
});

describe("FLOPs at 64×64 with 10 classes", () => {
  // The reference counts of the held-back model fixtures, SPEC.md §8 (torch hooks on
  // Conv/ConvTranspose/Linear): a check of every conv's size, stride and groups.
  const spec: [string, string, number][] = [
    ["resnet", "resnet50", 667_328_512],
    ["resnet", "resnext50_32x4d", 690_397_184],
    ["densenet", "densenet121", 462_573_568],
    ["mobilenet", "mobilenet_v3_small", 11_005_440],
    ["convnext", "convnext_tiny", 727_323_648],
  ];
  for (const [module, entry, flops] of spec) {
    it(entry, () => {
      const s = compileCase({ source: `${module}:${entry}`, args: ["classes=10"] }).summary({
        input: { shape: [1, 3, 64, 64] },
      });
      expect(s.flops).toBe(flops);
    });
  }
});

describe("norm eps as torchvision sets it", () => {
  /** The scalar constants of a graph (eps is added to the variance as one). */
  const scalars = (g: Graph): number[] =>
    g.nodes
      .filter((n) => n.op === "const" && (n.attrs.shape as number[]).length === 0)
      .map((n) => (n.attrs.value as number[])[0]!);
  it("MobileNetV3 batchnorms use eps 0.001", () => {
    for (const entry of ["mobilenet_v3_small", "mobilenet_v3_large"]) {
      const c = scalars(graphOf("mobilenet", entry));
      expect(c).toContain(0.001);
      expect(c).not.toContain(1e-5);
    }
  });
  it("MobileNetV2 and ResNet batchnorms use eps 1e-5", () => {
    expect(scalars(graphOf("mobilenet", "mobilenet_v2"))).toContain(1e-5);
    expect(scalars(graphOf("resnet", "resnet50"))).toContain(1e-5);
  });
  it("ConvNeXt layer norms use eps 1e-6", () => {
    const c = scalars(graphOf("convnext", "convnext_tiny"));
    expect(c).toContain(1e-6);
    expect(c).not.toContain(1e-5);
  });
});
