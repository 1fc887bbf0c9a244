#!/bin/bash
# A Slurm job array running one shard of a vggsim study per task, then a merge.
#
#   sbatch --array=0-15 docs/studies/cluster/slurm.sh docs/studies/array-size.yaml
#   # when all tasks are done:
#   vggsim sweep merge results/part-*.csv -o results.csv
#
# Each task runs every 16th point of the grid starting at its index, on all the CPUs Slurm
# gives it, and can be requeued: --resume keeps what a killed task already wrote.
#SBATCH --job-name=vggsim-sweep
#SBATCH --cpus-per-task=4
#SBATCH --time=01:00:00
#SBATCH --output=results/slurm-%A_%a.log
#SBATCH --requeue
set -euo pipefail
study=${1:?usage: sbatch --array=0-N-1 slurm.sh STUDY.yaml}
n=${SLURM_ARRAY_TASK_COUNT:?run as an array job}
i=${SLURM_ARRAY_TASK_ID}
mkdir -p results
exec vggsim sweep "$study" --shard "$i/$n" --jobs "${SLURM_CPUS_PER_TASK:-1}" \
  --resume -o "results/part-$(printf %04d "$i").csv"
