#!/usr/bin/env bash
# Block serving speed: `ihop serve` of a cloned release against `nbdkit file` of the flat
# image, both over a Unix socket, side by side, RUNS times each; medians and ratios.
#
#   sequential  nbdcopy --no-extents nbd+unix:///?socket=S null:
#               reads the whole export SEQ_PASSES times (default 5, one pass of 512 MiB
#               takes well under a second), default request size and count (--no-extents
#               so that neither server can skip the image's holes by answering block
#               status: every byte is read and sent). nbdcopy opens 4 connections when the
#               server advertises multi-conn, else one, so it is measured twice: as nbdcopy
#               chooses, and with --connections=1 (what one kernel nbd client does).
#   random      fio --ioengine=nbd --rw=randread --bs=4k at iodepth 1 and 32, one job,
#               FIO_SECONDS (default 15) per measurement over the whole export; fio's
#               random sequence is seeded the same for every run (randrepeat), so both
#               servers get the same offsets.
# The servers: `nbdkit -r -U S file file=v1.img` (its defaults: 16 threads, parallel model),
# `ihop serve --socket S STORE/v1`, where STORE/v1 is cloned from v1.cba (made with ihop
# compress, zstd level 3) served by a throwaway nginx, and, to tell the NBD server's cost
# from the chunk store's, `ihop serve --socket S v1.img` on the flat image (ihop-file). Both read from the page cache:
# WARMUP (default 3) untimed sequential passes warm each freshly started server (WARMUP=0: none).
#
# Usage: bench/serve.sh            (RUNS=N, FIO_SECONDS=N, SEQ_PASSES=N, SERVERS="ihop nbdkit")
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

need_tool nbdkit nbdkit
need_tool nbdcopy libnbd-bin
need_tool nbdinfo libnbd-bin
need_tool fio fio
need_tool python3 python3
fio --enghelp 2>/dev/null | grep -qw nbd || die "this fio has no nbd ioengine"
FIO_SECONDS=${FIO_SECONDS:-15}
SEQ_PASSES=${SEQ_PASSES:-5}
IMAGE=$IMAGES/v1.img
[ -f "$IMAGE" ] || die "no image at $IMAGE: run bench/make-images.sh first"
OUT=$WORK/serve
mkdir -p "$OUT"
STORE=$OUT/store

servers=(nbdkit)
if ihop_ready && ihop_has serve && ihop_has clone && ihop_has compress; then
  servers=(ihop ihop-file nbdkit)
else
  log "this ihop lacks serve, clone or compress: measuring nbdkit only"
fi
# SERVERS="ihop-file nbdkit" picks some of them.
if [ -n "${SERVERS:-}" ]; then read -r -a servers <<<"$SERVERS"; fi

# The ihop release to serve: cloned once from a zstd-3 archive of v1, kept as a cache.
prepare_store() {
  [ -f "$STORE/v1" ] && [ "$STORE/v1" -nt "$IMAGE" ] && return 0
  log "preparing the ihop store (compress v1, clone it over HTTP)"
  rm -rf "$STORE" "$OUT/www"; mkdir -p "$OUT/www"
  "$IHOP" compress -i "$IMAGE" "$OUT/www/v1.cba" --compression zstd --compression-level 3 -f >/dev/null
  nginx_start "$OUT/www"
  "$IHOP" clone "$NGINX_URL/v1.cba" "$STORE/v1" >"$OUT/clone.out" 2>&1 || { nginx_stop; cat "$OUT/clone.out" >&2; die "ihop clone failed"; }
  nginx_stop
  rm -rf "$OUT/www"
}

SERVER_PID=
SOCK=$OUT/nbd.sock
stop_server() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  SERVER_PID=
  rm -f "$SOCK"
}
trap 'stop_server; nginx_stop' EXIT

start_server() {
  stop_server
  case $1 in
    nbdkit) nbdkit -f -r -U "$SOCK" file "file=$IMAGE" 2>"$OUT/nbdkit.err" & ;;
    ihop)   "$IHOP" serve --socket "$SOCK" "$STORE/v1" >"$OUT/ihop.out" 2>"$OUT/ihop.err" & ;;
    ihop-file) "$IHOP" serve --socket "$SOCK" "$IMAGE" >"$OUT/ihop-file.out" 2>"$OUT/ihop-file.err" & ;;
  esac
  SERVER_PID=$!
  for _ in $(seq 200); do
    [ -S "$SOCK" ] && nbdinfo --size "$URI" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || break
    sleep 0.1
  done
  cat "$OUT/$1.err" >&2 2>/dev/null || true
  die "$1 did not start serving on $SOCK"
}
URI="nbd+unix:///?socket=$SOCK"

# fio_iops QD: median-free single fio run; prints IOPS.
fio_iops() {
  fio --name=randread --ioengine=nbd --uri="$URI" --rw=randread --bs=4k --iodepth="$1" \
      --runtime="$FIO_SECONDS" --time_based --output-format=json --output="$OUT/fio.json" >/dev/null 2>"$OUT/fio.err" \
    || { cat "$OUT/fio.err" >&2; die "fio failed"; }
  python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["jobs"][0]["read"]["iops"]))' "$OUT/fio.json"
}

for s in "${servers[@]}"; do
  case $s in
    ihop) prepare_store ;;
    ihop-file | nbdkit) ;;
    *) die "unknown server '$s' in SERVERS (ihop, ihop-file, nbdkit)" ;;
  esac
done

declare -A seq seq1 qd1 qd32 conns
size=
for ((r = 1; r <= RUNS; r++)); do
  for s in "${servers[@]}"; do
    start_server "$s"
    size=$(nbdinfo --size "$URI")
    [ "$size" = "$(stat -c %s "$IMAGE")" ] \
      || die "$s exports $size bytes, but v1.img has $(stat -c %s "$IMAGE"): it does not serve the v1 release"
    if nbdinfo --can multi-conn "$URI" >/dev/null 2>&1; then conns[$s]="4 (multi-conn)"; else conns[$s]=1; fi
    # Every server is started afresh each run: untimed passes warm it (the JIT for ihop,
    # file descriptors and caches for both), as a long-running device server would be.
    # One pass leaves ihop's release path half-compiled; three reach steady state.
    for ((w = 0; w < ${WARMUP:-3}; w++)); do nbdcopy --no-extents "$URI" null:; done
    timed "$OUT/nbdcopy" bash -c 'for _ in $(seq "$1"); do nbdcopy --no-extents "$2" null:; done' _ "$SEQ_PASSES" "$URI"
    seq[$s]+="$TIMED_WALL "; last_seq=$TIMED_WALL
    timed "$OUT/nbdcopy" bash -c 'for _ in $(seq "$1"); do nbdcopy --no-extents -C 1 "$2" null:; done' _ "$SEQ_PASSES" "$URI"
    seq1[$s]+="$TIMED_WALL "
    i1=$(fio_iops 1); i32=$(fio_iops 32)
    qd1[$s]+="$i1 "; qd32[$s]+="$i32 "
    log "run $r $s: sequential ${SEQ_PASSES}x: ${last_seq}s, with 1 conn ${TIMED_WALL}s; QD1 $i1 IOPS, QD32 $i32 IOPS"
    stop_server
  done
done

echo
echo "serve: export $(mib "$size") MiB over a Unix socket, median of $RUNS runs ($(nproc) cores)"
busy_note
declare -A mseq mseq1 mq1 mq32
for s in "${servers[@]}"; do
  mseq[$s]=$(calc "$SEQ_PASSES * $size / 1048576 / $(median "${seq[$s]}")")
  mseq1[$s]=$(calc "$SEQ_PASSES * $size / 1048576 / $(median "${seq1[$s]}")")
  mq1[$s]=$(median "${qd1[$s]}"); mq32[$s]=$(median "${qd32[$s]}")
done
{
  printf 'server\tseq MiB/s (nbdcopy)\tconnections\tseq MiB/s (1 conn)\t4K rand QD1 IOPS\t4K rand QD32 IOPS\n'
  for s in "${servers[@]}"; do
    printf '%s\t%.1f\t%s\t%.1f\t%.0f\t%.0f\n' "$s" "${mseq[$s]}" "${conns[$s]}" "${mseq1[$s]}" "${mq1[$s]}" "${mq32[$s]}"
  done
} | table
echo
if [[ " ${servers[*]} " == *" ihop "* && " ${servers[*]} " == *" nbdkit "* ]]; then
  echo "ihop/nbdkit sequential:        $(ratio "${mseq[ihop]}" "${mseq[nbdkit]}")  (target >= 0.8)"
  echo "ihop/nbdkit sequential 1 conn: $(ratio "${mseq1[ihop]}" "${mseq1[nbdkit]}")  (target >= 0.8)"
  echo "ihop/nbdkit QD1 IOPS:          $(ratio "${mq1[ihop]}" "${mq1[nbdkit]}")  (target >= 0.8)"
  echo "ihop/nbdkit QD32 IOPS:         $(ratio "${mq32[ihop]}" "${mq32[nbdkit]}")  (target >= 0.8)"
fi
if [[ " ${servers[*]} " == *" ihop-file "* && " ${servers[*]} " == *" nbdkit "* ]]; then
  echo "ihop-file/nbdkit (no store):   sequential $(ratio "${mseq[ihop-file]}" "${mseq[nbdkit]}"), 1 conn $(ratio "${mseq1[ihop-file]}" "${mseq1[nbdkit]}"), QD1 $(ratio "${mq1[ihop-file]}" "${mq1[nbdkit]}"), QD32 $(ratio "${mq32[ihop-file]}" "${mq32[nbdkit]}")"
fi
