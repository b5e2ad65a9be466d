#!/bin/bash
# One object, fetched by a Slurm job array: task K writes shard K of N.
#   sbatch --array=1-8 contrib/shard/slurm-array.sh URL /scratch/big.shards
# then, when all tasks are done:
#   cat /scratch/big.shards/{1..8} > /scratch/big
#SBATCH --job-name=rangecat-shards
#SBATCH --cpus-per-task=2
#SBATCH --time=02:00:00
set -euo pipefail
url=$1 dir=$2
n=${SLURM_ARRAY_TASK_COUNT:?run as an array job}
k=${SLURM_ARRAY_TASK_ID:?run as an array job}
mkdir -p "$dir"
exec rangecat --progress=line --shard "$k/$n" "$url" > "$dir/$k"
