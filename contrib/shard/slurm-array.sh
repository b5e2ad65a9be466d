#!/bin/bash
# One object, fetched by a Slurm job array: task K writes shard K of N.
# N is given, never taken from the array: a re-run of some indices, or an
# array that is not 1-N, would otherwise cut the object differently.
#   sbatch --array=1-8 contrib/shard/slurm-array.sh URL /scratch/big.shards 8
# Shard K is DIR/K once complete (DIR/K.part while it is not); a task whose
# shard is complete does nothing. Re-run the failed indices alone:
#   sbatch --array=3,5 contrib/shard/slurm-array.sh URL /scratch/big.shards 8
# then, when all tasks are done (cat fails, and no OUT appears, while a
# shard is missing):
#   cat /scratch/big.shards/{1..8} > /scratch/big.tmp && mv /scratch/big.tmp /scratch/big
# To pin every task to one version of the object, set RANGECAT_IF_MATCH to
# its ETag before sbatch (sbatch passes the environment on): a task that
# meets another version fails with exit 4 instead of mixing them.
#SBATCH --job-name=rangecat-shards
#SBATCH --cpus-per-task=2
#SBATCH --time=02:00:00
set -euo pipefail
if [ "$#" -ne 3 ]; then
	echo "usage: sbatch --array=1-N slurm-array.sh URL DIR N" >&2
	exit 1
fi
url=$1 dir=$2 n=$3
k=${SLURM_ARRAY_TASK_ID:?run as an array job: sbatch --array=1-$n}
case $n in '' | *[!0-9]* | 0*)
	echo "slurm-array.sh: N must be a whole number from 1 ($n)" >&2
	exit 1
	;;
esac
case $k in *[!0-9]* | 0*)
	echo "slurm-array.sh: array index $k is not one of 1-$n" \
		"(sbatch --array=1-$n)" >&2
	exit 1
	;;
esac
if [ "$k" -gt "$n" ]; then
	echo "slurm-array.sh: array index $k is not one of 1-$n" \
		"(sbatch --array=1-$n)" >&2
	exit 1
fi
mkdir -p "$dir"
if [ -e "$dir/$k" ]; then
	echo "slurm-array.sh: shard $k/$n is already complete: $dir/$k" >&2
	exit 0
fi
# A partial shard from a failed run is fetched anew: that run's version
# may not be this one's.
rangecat --progress=line --shard "$k/$n" "$url" >"$dir/$k.part"
mv "$dir/$k.part" "$dir/$k"
