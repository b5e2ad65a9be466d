#!/bin/sh
# Example container entrypoint: unpack a dataset or model tarball into a
# volume, then run the real program. Fails fast with rangecat's own exit
# status (see rangecat(1), EXIT STATUS) when the download does not finish,
# and with tar's when the archive is bad.
#   DATA_URL=https://…/model.tar DATA_DIR=/models entrypoint.sh prog args…
set -eu
: "${DATA_URL:?set DATA_URL}"
DATA_DIR=${DATA_DIR:-/data}
mkdir -p "$DATA_DIR"
status_file=$(mktemp)
tar_status=0
{
	rc=0
	rangecat --progress=line "$DATA_URL" || rc=$?
	echo "$rc" >"$status_file"
} | tar -x -C "$DATA_DIR" || tar_status=$?
status=$(cat "$status_file")
rm -f "$status_file"
[ "$status" -eq 0 ] || exit "$status"
[ "$tar_status" -eq 0 ] || exit "$tar_status"
exec "$@"
