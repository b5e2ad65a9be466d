#!/usr/bin/env bash
# Fetch one big object as N shards in parallel with GNU parallel, then join
# them in order. Locally:
#   contrib/shard/parallel.sh URL OUT [N]
# Across machines (each must have rangecat; shards come back over ssh):
#   SSHLOGIN=host1,host2 contrib/shard/parallel.sh URL OUT 8
# Each job's exit status is rangecat's; a failed shard is fetched again by
# the same command (its stderr prints the exact resume command).
set -euo pipefail
url=$1 out=$2 n=${3:-4}
dir=$(mktemp -d "${out}.shards.XXXXXX")
trap 'rm -rf "$dir"' EXIT
remote=()
[ -n "${SSHLOGIN:-}" ] && remote=(--sshlogin "$SSHLOGIN")
# --halt now,fail=1: one failed shard stops the rest, with its exit status.
seq 1 "$n" | parallel "${remote[@]}" --halt now,fail=1 -j "$n" \
	"rangecat -q --shard {}/$n $(printf %q "$url") > $(printf %q "$dir")/{}"
for k in $(seq 1 "$n"); do cat "$dir/$k"; done > "$out"
