#!/bin/sh
# Example container entrypoint: unpack a dataset or model archive (tar in
# any compression, zip, cpio) into a volume, then run the real program.
# Fails fast with rangecat's exit status (see rangecat(1), EXIT STATUS):
# 2-4 when the download does not finish, 6 when the archive is bad or
# holds unsafe entries.
#   DATA_URL=https://…/model.tar DATA_DIR=/models entrypoint.sh prog args…
set -eu
: "${DATA_URL:?set DATA_URL}"
DATA_DIR=${DATA_DIR:-/data}
mkdir -p "$DATA_DIR"
rangecat --progress=line -x "$DATA_DIR" "$DATA_URL"
exec "$@"
