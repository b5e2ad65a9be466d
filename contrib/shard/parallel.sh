#!/usr/bin/env bash
# Fetch one big object as N shards in parallel with GNU parallel, then join
# them in order into OUT. Locally:
#   contrib/shard/parallel.sh URL OUT [N]
# Across machines (each must have rangecat and its own credentials; the
# bytes come back over ssh as each job's stdout, into local files):
#   SSHLOGIN=host1,host2 contrib/shard/parallel.sh URL OUT 8
# The shards live in OUT.shards/ until OUT is whole: K when shard K is
# complete, K.part while it is not. A failed shard does not stop the
# others, and the script exits with its rangecat's status, naming it (and
# showing its messages); the same command run
# again fetches only what is missing, continuing a partial shard where it
# stopped. Every shard, in every run, is pinned to the ETag the first run
# saw (--if-match), so a file replaced in between is refused (exit 4),
# never spliced; a server without ETags gets partial shards fetched anew.
set -euo pipefail
url=$1 out=$2 n=${3:-4}
case $n in '' | *[!0-9]* | 0*)
	echo "parallel.sh: N must be a whole number from 1 ($n)" >&2
	exit 1
	;;
esac
dir=$out.shards
mkdir -p "$dir"
remote=()
[ -n "${SSHLOGIN:-}" ] && remote=(--sshlogin "$SSHLOGIN")

# The version every shard must be: the ETag of the first run, kept.
if [ ! -s "$dir/etag" ]; then
	rc=0
	stats=$(rangecat -q --stats -r 0-0 "$url" 2>&1 >/dev/null) || rc=$?
	if [ "$rc" != 0 ]; then
		echo "$stats" >&2
		exit "$rc"
	fi
	printf '%s\n' "${stats##* etag=}" >"$dir/etag"
fi
etag=$(cat "$dir/etag")
pin=()
if [ "$etag" = - ]; then
	echo "parallel.sh: no ETag: the shards cannot be pinned to one version" >&2
	rm -f "$dir"/*.part
else
	pin=(--if-match "$etag")
fi

# One job per missing shard: "K OFFSET", OFFSET the bytes already there.
jobs=()
for k in $(seq 1 "$n"); do
	[ -e "$dir/$k" ] && continue
	off=0
	[ -e "$dir/$k.part" ] && off=$(stat -c %s "$dir/$k.part")
	jobs+=("$k $off")
done
if [ "${#jobs[@]}" -gt 0 ]; then
	rm -f "$dir"/*.new "$dir"/*.new.err "$dir"/*.new.seq "$dir/joblog"
	# Each job's stdout is its shard's bytes, which parallel stores in
	# K.new on this machine (--results), wherever the job ran.
	cmd="rangecat -q -C {2} $(printf '%q ' "${pin[@]}")--shard {1}/$n $(printf %q "$url")"
	printf '%s\n' "${jobs[@]}" | parallel "${remote[@]}" -j "$n" --colsep ' ' \
		--results "$dir/{1}.new" --joblog "$dir/joblog" "$cmd" || :
	failed=() status=0
	for k in $(seq 1 "$n"); do
		[ -e "$dir/$k.new" ] || continue
		cat "$dir/$k.new" >>"$dir/$k.part"
		# Exitval is the joblog's 7th column, the shard the command's.
		st=$(awk -v s="--shard $k/$n" 'NR > 1 && index($0, s) { print $7 }' \
			"$dir/joblog")
		if [ "$st" = 0 ]; then
			mv "$dir/$k.part" "$dir/$k"
		else
			failed+=("$k")
			[ "$status" != 0 ] || status=${st:-1}
			sed 's/^/  /' "$dir/$k.new.err" >&2
		fi
		rm -f "$dir/$k.new" "$dir/$k.new.err" "$dir/$k.new.seq"
	done
	if [ "${#failed[@]}" -gt 0 ]; then
		if [ "$status" = 4 ]; then
			echo "parallel.sh: the object changed since the first run" \
				"(shard ${failed[*]}); remove $dir to start over" >&2
		else
			echo "parallel.sh: shard ${failed[*]} of $n failed; the" \
				"others are kept in $dir. Resume with the same" \
				"command:" >&2
			echo "  $(printf '%q ' "$0" "$url" "$out" "$n")" >&2
		fi
		exit "$status"
	fi
fi
for k in $(seq 1 "$n"); do cat "$dir/$k"; done >"$out.tmp"
mv "$out.tmp" "$out"
rm -rf "$dir"
