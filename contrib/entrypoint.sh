#!/bin/sh
# Example container entrypoint: unpack a dataset or model archive (tar in
# any compression, zip, cpio) into a volume, then run the real program.
#   DATA_URL=https://…/model.tar DATA_DIR=/models entrypoint.sh prog args…
#
# - Fails fast with rangecat's exit status (see rangecat(1), EXIT STATUS):
#   2-4 when the download does not finish, 6 when the archive is bad or
#   holds unsafe entries. The program is never run after a failed or
#   interrupted unpack.
# - SIGTERM and SIGINT (docker stop, pod deletion, Ctrl-C) go to rangecat,
#   which stops at once; the entrypoint then exits with its status (143
#   for SIGTERM, 130 for SIGINT). Once the program runs it is exec'd, so
#   it gets the signals itself.
# - DATA_DIR/.complete is written only after rangecat unpacked the whole
#   archive and verified it. It holds the SHA-256 of DATA_URL (not the URL,
#   which may carry a signed query). A restarted container that finds it,
#   for the same DATA_URL, skips the download; without it the directory
#   may hold a partial tree from an interrupted run, which the next run
#   unpacks over. DATA_REFRESH=1 always downloads again.
# - Progress goes to stderr as plain lines (for docker logs) unless
#   RANGECAT_PROGRESS or RANGECAT_QUIET says otherwise.
set -eu
: "${DATA_URL:?set DATA_URL}"
DATA_DIR=${DATA_DIR:-/data}
marker=$DATA_DIR/.complete
if [ -z "${RANGECAT_PROGRESS:-}" ] && [ -z "${RANGECAT_QUIET:-}" ]; then
	RANGECAT_PROGRESS=line
	export RANGECAT_PROGRESS
fi
want=$(printf '%s' "$DATA_URL" | sha256sum | cut -d' ' -f1)

if [ "${DATA_REFRESH:-0}" = 1 ] || [ ! -f "$marker" ] ||
	[ "$(cat "$marker")" != "$want" ]; then
	mkdir -p "$DATA_DIR"
	rm -f "$marker"
	# In the background, so that this shell can pass signals on: a
	# shell waiting on a foreground command runs its traps only after
	# the command ends, and PID 1 gets no default action for SIGTERM.
	# (An asynchronous command of a non-interactive shell starts with
	# SIGINT ignored; rangecat installs its own handler.)
	child='' sig=''
	trap 'sig=TERM; [ -z "$child" ] || kill -TERM "$child" 2>/dev/null || :' TERM
	trap 'sig=INT; [ -z "$child" ] || kill -INT "$child" 2>/dev/null || :' INT
	rangecat -x "$DATA_DIR" "$DATA_URL" &
	child=$!
	# A signal that came before rangecat started
	[ -z "$sig" ] || kill -"$sig" "$child" 2>/dev/null || :
	status=0
	wait "$child" || status=$?
	# A trapped signal ends wait early, with 128+N while rangecat still
	# runs: wait again for rangecat's own status.
	while kill -0 "$child" 2>/dev/null; do
		status=0
		wait "$child" || status=$?
	done
	trap - TERM INT
	[ "$status" -eq 0 ] || exit "$status"
	printf '%s\n' "$want" >"$marker.tmp"
	mv -f "$marker.tmp" "$marker"
fi
[ "$#" -gt 0 ] || exit 0
exec "$@"
