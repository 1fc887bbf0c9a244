#!/bin/bash
# cpu1.sh — 1-thread CPU milliseconds per forward of vggsim and the peers, for a shared
# machine where wall times are mostly other processes' turns: each program runs LO and then
# HI timed forwards under bash's time (user + sys, its children included), three times;
# the median of (CPU(HI) - CPU(LO)) / (HI - LO) is its CPU time per forward. Start-up
# (loading a weight file of 30-90 MiB) varies by a few ms between runs, so HI - LO must be
# large enough for the forwards to dominate it (default LO=5, HI=45; 2 and 22 gave
# impossible figures for an 8 ms network). Needs the exports and onednn_bench of a
# bench/compare.py run in WORK (default /tmp/vggsim-bench) and a vggsim binary.
#   [LO=5] [HI=45] bench/cpu1.sh [WORK] [MODEL...]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
work=${1:-/tmp/vggsim-bench}
shift || true
models=${*:-RepVGG-A0}
export OMP_NUM_THREADS=1 VGGSIM_THREADS=1
TIMEFORMAT='%U %S'
cpu() { { time "$@" >/dev/null 2>&1; } 2>&1 | awk '{print $1+$2}'; }
LO=${LO:-5} HI=${HI:-45}
one() { a=$(cpu "$@" "$LO"); b=$(cpu "$@" "$HI"); echo "($b - $a) * 1000 / ($HI - $LO)" | bc -l; }
per() { for _ in 1 2 3; do one "$@"; done | sort -g | sed -n 2p | cut -c1-6; }
/usr/bin/python3 -c "import numpy as np; np.save('$work/x.npy', np.random.rand(1,3,224,224).astype('float32'))"
for m in $models; do
	d=$work/$m
	for f in deploy train; do
		"$work/vggsim" build "$m" --form "$f" -o "$d/vggsim-$f" >/dev/null 2>&1
		exe=$(ls "$d/vggsim-$f" | grep -v '\.' | grep -v main | head -1)
		runner() { "$d/vggsim-$f/$exe" -r "$1" "$d/vggsim-$f/$exe.weights" "$work/x.npy" "$work/y.npy"; }
		echo "$m vggsim-$f $(per runner) ms"
	done
	echo "$m onednn $(per "$work/onednn_bench" "$d" --warmup 1 --algo direct --runs) ms"
	echo "$m onednn-wino $(per "$work/onednn_bench" "$d" --warmup 1 --algo winograd --runs) ms"
	echo "$m ort $(per node "$here/ort/ort_bench.js" "$d" --threads 1 --warmup 1 --runs) ms"
	echo "$m torch $(per /usr/bin/python3 "$here/torch_bench.py" "$d" --threads 1 --warmup 1 --runs) ms"
	echo "load average $(cut -d' ' -f1 /proc/loadavg)"
done
