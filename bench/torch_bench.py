"""PyTorch eager baseline: times a bench/export model and checks its logits.

usage: /usr/bin/python3 bench/torch_bench.py DIR --threads N --runs N --warmup N [--onnx out.onnx]
Prints one JSON line: {"peer": "pytorch", "times_ms": [...], "relerr": ...}.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import irnet  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--onnx", help="also export the model to this ONNX file (opset 13)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    net = irnet.Net(os.path.join(a.dir, "model.ir"), os.path.join(a.dir, "weights.bin")).eval()
    shape = next(n["shape"] for n in net.nodes if n["op"] == "input")
    x = torch.from_numpy(np.fromfile(os.path.join(a.dir, "input.bin"), dtype="<f4").reshape((1,) + shape))
    want = np.fromfile(os.path.join(a.dir, "logits.bin"), dtype="<f4")
    if a.onnx:
        torch.onnx.export(net, x, a.onnx, opset_version=13, input_names=["input"], output_names=["logits"])
        return
    times = []
    with torch.no_grad():
        for r in range(a.warmup + a.runs):
            t0 = time.perf_counter()
            y = net(x)
            t1 = time.perf_counter()
            if r >= a.warmup:
                times.append((t1 - t0) * 1e3)
    print(json.dumps({"peer": "pytorch", "threads": a.threads, "times_ms": times,
                      "relerr": irnet.relerr(y.numpy().ravel(), want)}))


if __name__ == "__main__":
    main()
