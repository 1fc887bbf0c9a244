"""Times one model on every peer in the same run, interleaved, and prints a side-by-side table.

usage: /usr/bin/python3 bench/compare.py [--models RepVGG-A0,...] [--threads 1,2] [--rounds 5]
           [--runs 10] [--warmup 3] [--work /tmp/vggsim-bench]
           [--peers onednn,onednn-wino,ort,torch,vggsim[,vggsim-direct,vggsim-train]]
           [--format table|json] [--reuse]

Each round runs every peer once (--runs timed forwards after --warmup), in rotating order, so a
burst of load on the shared machine hits all peers alike; a peer's figure is the median over all
its timed forwards of all rounds. Every peer's logits are checked against vggsim's reference
interpreter (bench/export writes them); a peer whose max-abs error relative to the logits' max-abs
exceeds 1e-3 is reported as WRONG. Progress goes to stderr. --reuse keeps a model's earlier export
(model.ir, weights, input, logits, model.onnx) in the work directory instead of writing it again. Ratios are against the better of oneDNN's direct and Winograd.
The vggsim row comes from `vggsim bench MODEL --format json` when that command exists (it checks
its own logits against the interpreter on its own seeded input and reports times_ms and relerr).
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PY = "/usr/bin/python3"


def sh(cmd, env=None, **kw):
    e = dict(os.environ)
    e.update(env or {})
    r = subprocess.run(cmd, env=e, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {r.returncode}: {r.stderr.strip()[-2000:]}")
    return r.stdout


def load():
    return open("/proc/loadavg").read().split()[0]


def peer_cmd(peer, d, model, threads, runs, warmup, work):
    omp = {"OMP_NUM_THREADS": str(threads), "OMP_PROC_BIND": "close"}
    common = ["--runs", str(runs), "--warmup", str(warmup)]
    if peer == "onednn":
        return [os.path.join(work, "onednn_bench"), d] + common + ["--algo", "direct"], omp
    if peer == "onednn-wino":
        return [os.path.join(work, "onednn_bench"), d] + common + ["--algo", "winograd"], omp
    if peer == "ort":
        return ["node", os.path.join(HERE, "ort", "ort_bench.js"), d, "--threads", str(threads)] + common, {}
    if peer == "torch":
        return [PY, os.path.join(HERE, "torch_bench.py"), d, "--threads", str(threads)] + common, omp
    if peer == "vggsim":
        return [os.path.join(work, "vggsim"), "bench", model, "--threads", str(threads), "--format", "json",
                "--layer-runs", "0"] + common, {}
    if peer == "vggsim-direct":  # the direct kernels only (no Winograd), for the algorithm's share
        return [os.path.join(work, "vggsim"), "bench", model, "--threads", str(threads), "--format", "json",
                "--algo", "direct", "--layer-runs", "0"] + common, {}
    if peer == "vggsim-train":
        return [os.path.join(work, "vggsim"), "bench", model, "--threads", str(threads), "--format", "json",
                "--form", "train", "--layer-runs", "0"] + common, {}
    raise ValueError(peer)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", default="RepVGG-A0")
    ap.add_argument("--threads", default="2,1")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--work", default="/tmp/vggsim-bench")
    ap.add_argument("--peers", default="onednn,onednn-wino,ort,torch,vggsim")
    ap.add_argument("--format", default="table", choices=["table", "json"])
    ap.add_argument("--reuse", action="store_true", help="reuse earlier exports in --work")
    a = ap.parse_args()
    os.makedirs(a.work, exist_ok=True)
    peers = a.peers.split(",")
    sh(["cc", "-O2", "-o", os.path.join(a.work, "onednn_bench"), os.path.join(HERE, "onednn", "onednn_bench.c"), "-ldnnl", "-lm"])
    if "vggsim" in peers:
        sh(["go", "build", "-o", os.path.join(a.work, "vggsim"), "./cmd/vggsim"], cwd=ROOT)

    if "ort" in peers and not os.path.isdir(os.path.join(HERE, "ort", "node_modules")):
        sh(["npm", "install", "--no-audit", "--no-fund"], env={"ONNXRUNTIME_NODE_INSTALL": "skip"}, cwd=os.path.join(HERE, "ort"))
    rows = []
    for model in a.models.split(","):
        d = os.path.join(a.work, model)
        if not (a.reuse and os.path.exists(os.path.join(d, "logits.bin"))):
            print(f"compare: exporting {model}", file=sys.stderr)
            sh(["go", "run", "./bench/export", model, "-o", d], cwd=ROOT)
        if "ort" in peers and not (a.reuse and os.path.exists(os.path.join(d, "model.onnx"))):
            sh([PY, os.path.join(HERE, "torch_bench.py"), d, "--onnx", os.path.join(d, "model.onnx")])
        for threads in [int(t) for t in a.threads.split(",")]:
            times = {p: [] for p in peers}
            err, info = {}, {}
            loads = [load()]
            for r in range(a.rounds):
                order = peers[r % len(peers):] + peers[:r % len(peers)]
                for p in order:
                    cmd, env = peer_cmd(p, d, model, threads, a.runs, a.warmup, a.work)
                    print(f"compare: {model} threads {threads} round {r + 1}/{a.rounds}: {p} (load {load()})", file=sys.stderr)
                    try:
                        text = sh(cmd, env=env).strip()
                        try:
                            out = json.loads(text)
                        except json.JSONDecodeError:
                            out = json.loads(text.splitlines()[-1])
                    except (RuntimeError, json.JSONDecodeError) as e:
                        print(f"compare: {p} on {model}: {e}", file=sys.stderr)
                        continue
                    times[p] += out["times_ms"]
                    err[p] = out.get("relerr", float("nan"))
                    info[p] = out
                loads.append(load())
            med = {p: statistics.median(t) for p, t in times.items() if t}
            base = min([med[p] for p in ("onednn", "onednn-wino") if p in med] or [float("nan")])
            for p in peers:
                if p not in med:
                    continue
                rows.append(dict(model=model, threads=threads, peer=p, median_ms=med[p], min_ms=min(times[p]),
                                 n=len(times[p]), relerr=err[p], ratio_vs_onednn=med[p] / base,
                                 impl=info[p].get("impl", ""), load=" ".join(loads)))
    if a.format == "json":
        print(json.dumps(rows, indent=1))
        return
    print(f"{'model':<12} {'thr':>3} {'peer':<12} {'median ms':>10} {'min ms':>8} {'n':>4} {'vs oneDNN':>9} {'logits err':>10}  impl")
    for r in rows:
        ok = "" if r["relerr"] <= 1e-3 else " WRONG"
        print(f"{r['model']:<12} {r['threads']:>3} {r['peer']:<12} {r['median_ms']:>10.2f} {r['min_ms']:>8.2f} {r['n']:>4} "
              f"{r['ratio_vs_onednn']:>9.2f} {r['relerr']:>10.1e}{ok}  {r['impl']}")
    loads = sorted({r['load'] for r in rows})
    print("load average (1 min) before and after each round:", "; ".join(loads))


if __name__ == "__main__":
    main()
