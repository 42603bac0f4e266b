#!/usr/bin/env python3
"""PyTorch eager on a CUDA GPU, on the workloads `bench/peers.sh` measures.

The same shapes as the peers harness (../shared/peers/export_models.py) and as
`nnc bench` in bench/device.sh: ResNet-18 at 1x3x224x224, torch.nn.LSTM(256,
512) over 64 steps, torch.nn.GRU(256, 512, num_layers=2) over 64 steps, and a
1024^3 matmul; fp32 with TF32 off (nnc computes in f32). Timed the way `nnc
bench` times: host to host (upload the input, run, read the output back),
cold = the first such run after the model is on the device (cuDNN/cuBLAS
initialisation and algorithm choice included), warm = the median of --runs
after warm-up. Prints one JSON object per workload.

    python3 bench/torch_eager.py [--runs 50]
"""
import argparse, json, statistics, sys, time

import torch
import torchvision


def workloads():
    g = torch.Generator().manual_seed(0)
    x224 = torch.rand(1, 3, 224, 224, generator=g)
    seq = torch.rand(64, 1, 256, generator=g)
    a = torch.rand(1024, 1024, generator=g)
    b = torch.rand(1024, 1024, generator=g)
    resnet = torchvision.models.resnet18().eval()
    lstm = torch.nn.LSTM(256, 512).eval()
    gru = torch.nn.GRU(256, 512, num_layers=2).eval()
    return {
        "matmul": (2 * 1024**3, None, lambda m, d: d[0] @ d[1], (a, b)),
        "resnet224": (3.64e9, resnet, lambda m, d: m(d[0]), (x224,)),
        "lstm": (2 * 64 * (256 + 512) * 2048, lstm, lambda m, d: m(d[0])[0], (seq,)),
        "gru2": (2 * 64 * ((256 + 512) + (512 + 512)) * 1536, gru, lambda m, d: m(d[0])[0], (seq,)),
    }


def host_to_host(model, fn, host_inputs):
    dev = [t.to("cuda", non_blocking=False) for t in host_inputs]
    out = fn(model, dev)
    return out.cpu()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("names", nargs="*")
    o = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.cuda.init()
    info = {"device": torch.cuda.get_device_name(0), "torch": torch.__version__,
            "cudnn": torch.backends.cudnn.version()}
    print(json.dumps({"info": info}), flush=True)
    for name, (flops, model, fn, inputs) in workloads().items():
        if o.names and name not in o.names:
            continue
        if model is not None:
            model.to("cuda")
        torch.cuda.synchronize()
        with torch.inference_mode():
            t0 = time.perf_counter()
            host_to_host(model, fn, inputs)
            cold = (time.perf_counter() - t0) * 1e3
            for _ in range(5):
                host_to_host(model, fn, inputs)
            times = []
            for _ in range(o.runs):
                t0 = time.perf_counter()
                host_to_host(model, fn, inputs)
                times.append((time.perf_counter() - t0) * 1e3)
            # Device time alone, with the inputs resident (CUDA events).
            dev = [t.to("cuda") for t in inputs]
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            ktimes = []
            for _ in range(o.runs):
                start.record()
                fn(model, dev)
                end.record()
                end.synchronize()
                ktimes.append(start.elapsed_time(end))
        warm = statistics.median(times)
        kernel = statistics.median(ktimes)
        print(json.dumps({"workload": name, "runtime": "pytorch-eager-cuda", "cold_ms": round(cold, 3),
                          "warm_ms": round(warm, 4), "device_ms": round(kernel, 4),
                          "gflops": round(flops / warm / 1e6, 2),
                          "device_gflops": round(flops / kernel / 1e6, 2)}), flush=True)


if __name__ == "__main__":
    sys.exit(main())
