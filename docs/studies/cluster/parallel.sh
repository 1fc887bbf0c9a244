#!/bin/bash
# GNU parallel: the same 16 shards on the hosts of a parallel --sshloginfile (or on this
# machine without one), then the merge. Remote hosts need the study and results/ on a
# shared file system (or add --transferfile/--return).
#
#   docs/studies/cluster/parallel.sh docs/studies/array-size.yaml 16 [--sshloginfile hosts]
set -euo pipefail
study=${1:?usage: parallel.sh STUDY.yaml SHARDS [parallel options]}
n=${2:?shards}
shift 2
mkdir -p results
seq 0 $((n - 1)) | parallel "$@" --halt now,fail=1 \
  vggsim sweep "$study" --shard {}/"$n" --resume --quiet -o results/part-{}.csv
vggsim sweep merge results/part-*.csv -o results.csv
