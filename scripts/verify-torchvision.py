#!/usr/bin/python3
"""Checks the stdlib CNNs against torchvision itself, beyond the golden fixtures.

For each model: build the torchvision 0.14 model (num_classes=10), fill every
state_dict entry with SPEC.md's seeded initializer (wgen-v1), run it in eval
mode on the seeded input, and compare with `nnc run MODULE:ENTRY --weights
seeded --json`. Needs Debian's python3-torch/python3-torchvision (not part of
CI); run from the repository root after `npm run build`:

    /usr/bin/python3 scripts/verify-torchvision.py [--size 64] [--backend cpu] [--target auto|lavapipe|gpu] [model ...]
"""
import argparse, json, math, subprocess, sys
import numpy as np
import torch, torchvision

MASK = 0xFFFFFFFF

def fnv1a32(name):
    h = 0x811C9DC5
    for b in name.encode():
        h = ((h ^ b) * 0x01000193) & MASK
    return h

def uniform01(name, n):
    h = fnv1a32(name)
    i = np.arange(n, dtype=np.uint64)
    # SPEC's fmix32, vectorised in uint64 with masking
    def fm(x):
        x = x ^ (x >> np.uint64(16)); x = (x * np.uint64(0x85EBCA6B)) & np.uint64(MASK)
        x = x ^ (x >> np.uint64(13)); x = (x * np.uint64(0xC2B2AE35)) & np.uint64(MASK)
        return x ^ (x >> np.uint64(16))
    x = fm(np.uint64(h) ^ fm(i))
    return x.astype(np.float64) / 2.0**32

def values(name, shape, kind, fan_in=None, scale=None):
    n = int(np.prod(shape)) if shape else 1
    u = uniform01(name, n)
    t = 2 * u - 1
    if kind == "uniform":
        s = scale if scale is not None else 1 / math.sqrt(fan_in)
        v = t * s
    elif kind == "norm_weight": v = 1 + 0.1 * t
    elif kind == "norm_bias": v = 0.1 * t
    elif kind == "running_mean": v = 0.1 * t
    elif kind == "running_var": v = 1 + 0.5 * u
    else: raise ValueError(kind)
    return torch.from_numpy(v.astype(np.float32).reshape(shape))

NORMS = (torch.nn.BatchNorm2d, torch.nn.LayerNorm, torch.nn.GroupNorm)

def seed_model(model):
    modules = dict(model.named_modules())
    sd = model.state_dict()
    out = {}
    for key, t in sd.items():
        owner, _, leaf = key.rpartition(".")
        mod = modules.get(owner)
        if isinstance(mod, NORMS) or type(mod).__name__ == "LayerNorm2d":
            if leaf == "num_batches_tracked": out[key] = t; continue
            kind = {"weight": "norm_weight", "bias": "norm_bias", "running_mean": "running_mean", "running_var": "running_var"}[leaf]
            out[key] = values(key, list(t.shape), kind)
        elif leaf.startswith("bias"):
            wkey = (owner + "." if owner else "") + leaf.replace("bias", "weight", 1)
            w = sd.get(wkey)
            fan_in = int(np.prod(w.shape[1:])) if w is not None and w.dim() >= 2 else t.shape[-1]
            out[key] = values(key, list(t.shape), "uniform", fan_in=fan_in)
        else:
            fan_in = int(np.prod(t.shape[1:])) if t.dim() > 1 else 1
            out[key] = values(key, list(t.shape), "uniform", fan_in=fan_in)
    model.load_state_dict(out)

MODELS = {
    "resnet18": "resnet", "resnet50": "resnet", "resnext50_32x4d": "resnet",
    "densenet121": "densenet", "mobilenet_v2": "mobilenet", "mobilenet_v3_small": "mobilenet",
    "mobilenet_v3_large": "mobilenet", "convnext_tiny": "convnext",
}

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--backend", default="cpu")
    ap.add_argument("--target", default="lavapipe", help="nnc's --target: the machine it compiles for (auto reads the adapter)")
    ap.add_argument("models", nargs="*")
    a = ap.parse_args()
    torch.set_num_threads(1)
    ok = True
    for name in a.models or list(MODELS):
        model = getattr(torchvision.models, name)(num_classes=10).eval()
        seed_model(model)
        shape = [1, 3, a.size, a.size]
        x = values("input", shape, "uniform", scale=1.0)
        with torch.no_grad():
            want = model(x).numpy().ravel()
            want64 = model.double()(x.double()).numpy().ravel()
        e = float(np.max(np.abs(want - want64)))
        atol = max(1e-5, 20 * e, 1e-4 * float(np.max(np.abs(want))))
        cmd = ["node", "dist/bin/nnc.js", "run", f"{MODELS[name]}:{name}", "--arg", "classes=10",
               "--input", f"input=seeded:{'x'.join(map(str, shape))}", "--weights", "seeded", "--json", "--backend", a.backend, "--target", a.target]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            print(f"{name}: nnc failed:\n{r.stderr}"); ok = False; continue
        got = np.array(json.loads(r.stdout)["outputs"]["logits"]["data"], dtype=np.float64)
        err = np.abs(got - want)
        passed = bool(np.all(err <= atol + 1e-3 * np.abs(want)))
        ok &= passed
        print(f"{name:20s} max|err| {err.max():.2e}  atol {atol:.0e}  max|logit| {np.abs(want).max():.3f}  {'ok' if passed else 'MISMATCH'}")
    sys.exit(0 if ok else 1)

if __name__ == "__main__":
    main()
