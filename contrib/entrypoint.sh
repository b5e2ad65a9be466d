#!/bin/sh
# Example container entrypoint: unpack a dataset or model archive into a
# volume, then run the real program. Fails fast with rangecat's exit status
# (see rangecat(1), EXIT STATUS) when the download does not complete.
#   DATA_URL=https://…/model.tar  DATA_DIR=/models  entrypoint.sh prog args…
set -eu
: "${DATA_URL:?set DATA_URL}"
DATA_DIR=${DATA_DIR:-/data}
mkdir -p "$DATA_DIR"
status=0
{ rangecat --progress=line "$DATA_URL" || status=$?; echo "$status" > /tmp/rangecat.status; } |
	tar -x -C "$DATA_DIR"
status=$(cat /tmp/rangecat.status)
[ "$status" -eq 0 ] || exit "$status"
exec "$@"
