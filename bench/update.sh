#!/usr/bin/env bash
# Update from v1 to v2 over HTTP: ihop clone against casync extract with a seed, both
# served by one nginx on 127.0.0.1, RUNS times each (interleaved); medians and ratios.
#
# Published (made once, kept as a cache under $IHOP_BENCH_DIR/update/www):
#   v1.cba, v2.cba          ihop compress $IHOP_COMPRESS_ARGS (default zstd level 3, the
#                           codec and level casync uses, so the bytes compare chunking and
#                           protocol, not compressors; set IHOP_COMPRESS_ARGS= for brotli)
#   v1.caibx, v2.caibx      casync make into one store v1v2.castr (casync defaults)
# Each run:
#   ihop    a store holding release v1 (cloned once, copied fresh for every run), then
#           timed: ihop clone URL/v2.cba STORE/v2
#   casync  timed: casync extract --store=URL/v1v2.castr --seed=v1.img URL/v2.caibx OUT
#           (the device keeps v1 as a flat image, which is casync's seed)
# Both timings end with `sync -f` on the output's file system, inside the timed command:
# an update is done when it is on disk, and a tool that fsyncs must not lose to one that
# leaves its writes in the page cache.
#
# Reported per tool (medians):
#   downloaded   sum of nginx's $bytes_sent (headers included) for the run's requests
#   requests     lines in nginx's access log for the run
#   wall         seconds, including the JVM start for ihop
#   CPU          user + system seconds of the tool's processes (not nginx's)
#   written      bytes the tool's processes caused to be written to storage, from the
#                kernel's I/O accounting (write_bytes, via GNU time %O): same meter for both
#   new on disk  disk space the update takes, as allocated blocks: ihop, the chunk files
#                that were not in the store before plus the v2 store dictionary; casync, the
#                output image (casync punches holes for runs of zeros, so it is sparse)
# Results are checked once: casync's output must equal v2.img; ihop's release v2 is read
# from the store files by bench/store-cat.py (independent of ihop) and through `ihop serve`
# + nbdcopy (when serve exists), and both must equal v2.img.
#
# Usage: bench/update.sh         (RUNS=N, IHOP_COMPRESS_ARGS="...")
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

need_tool casync casync
need_tool /usr/bin/time time
need_tool curl curl
V1=$IMAGES/v1.img V2=$IMAGES/v2.img
{ [ -f "$V1" ] && [ -f "$V2" ]; } || die "no images in $IMAGES: run bench/make-images.sh first"
IHOP_COMPRESS_ARGS=${IHOP_COMPRESS_ARGS---compression zstd --compression-level 3}
OUT=$WORK/update
WWW=$OUT/www
mkdir -p "$WWW"

tools=(casync)
if ihop_ready && ihop_has compress && ihop_has clone; then
  tools=(ihop casync)
else
  log "this ihop lacks compress or clone: measuring casync only"
fi

# publish: archives and the casync store, remade when an image is newer or the ihop
# compression arguments changed.
publish() {
  local v
  if [ ! -f "$WWW/v2.caibx" ] || [ "$V1" -nt "$WWW/v1.caibx" ] || [ "$V2" -nt "$WWW/v2.caibx" ]; then
    log "casync make v1, v2 into v1v2.castr"
    rm -rf "$WWW/v1v2.castr" "$WWW"/*.caibx
    for v in v1 v2; do casync make --store="$WWW/v1v2.castr" "$WWW/$v.caibx" "$IMAGES/$v.img" >/dev/null; done
  fi
  if [ "${tools[0]}" = ihop ]; then
    if [ ! -f "$WWW/v2.cba" ] || [ "$V1" -nt "$WWW/v1.cba" ] || [ "$V2" -nt "$WWW/v2.cba" ] \
       || [ "$(cat "$WWW/cba.args" 2>/dev/null)" != "$IHOP_COMPRESS_ARGS" ]; then
      log "ihop compress v1, v2 ($IHOP_COMPRESS_ARGS)"
      for v in v1 v2; do
              # shellcheck disable=SC2086  # word splitting wanted: a list of arguments
        "$IHOP" compress -i "$IMAGES/$v.img" "$WWW/$v.cba" $IHOP_COMPRESS_ARGS -f >/dev/null
      done
      printf '%s' "$IHOP_COMPRESS_ARGS" >"$WWW/cba.args"
    fi
  fi
}

# chunk_list DIR: "path allocated-512-byte-blocks" of every chunk file in an ihop store, sorted.
chunk_list() { find "$1/chunks" -type f -name '*.chunk' -printf '%p %b\n' 2>/dev/null | sort; }
# allocated FILE: bytes of disk blocks allocated to FILE.
allocated() { echo $(($(stat -c '%b * %B' "$1"))); }

SERVE_PID=
cleanup() {
  [ -n "$SERVE_PID" ] && { kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; }
  nginx_stop
}
trap cleanup EXIT

# verify_ihop STORE: checks release v2 against v2.img twice: read by hand from the store
# files (bench/store-cat.py, independent of ihop's code) and through `ihop serve` + nbdcopy.
verify_ihop() {
  local by_hand via_serve sock=$OUT/verify.sock
  if python3 "$BENCH_ROOT/store-cat.py" "$1/v2" | cmp -s - "$V2"; then by_hand=identical; else by_hand=DIFFERS; fi
  if ! ihop_has serve; then
    echo "store files $by_hand to v2.img (not served: no ihop serve yet)"; return 0
  fi
  rm -f "$sock" "$OUT/v2.readback"
  "$IHOP" serve --socket "$sock" "$1/v2" >"$OUT/serve.out" 2>&1 & SERVE_PID=$!
  for _ in $(seq 200); do [ -S "$sock" ] && break; sleep 0.1; done
  nbdcopy --no-extents "nbd+unix:///?socket=$sock" "$OUT/v2.readback" 2>>"$OUT/serve.out" || true
  kill "$SERVE_PID" 2>/dev/null || true; wait "$SERVE_PID" 2>/dev/null || true; SERVE_PID=
  if cmp -s "$OUT/v2.readback" "$V2"; then via_serve=identical; else via_serve=DIFFERS; fi
  rm -f "$OUT/v2.readback" "$sock"
  echo "store files $by_hand, served $via_serve to v2.img"
}

publish
nginx_start "$WWW"
log "serving $WWW at $NGINX_URL"

if [ "${tools[0]}" = ihop ]; then
  log "ihop: cloning v1 once (the device's state before the update)"
  rm -rf "$OUT/store-v1"
  m=$(log_mark)
  "$IHOP" clone "$NGINX_URL/v1.cba" "$OUT/store-v1/v1" >"$OUT/clone-v1.out" 2>&1 \
    || { cat "$OUT/clone-v1.out" >&2; die "ihop clone of v1 failed"; }
  read -r v1_bytes v1_reqs < <(log_since "$m")
  log "ihop v1 clone: $(mib "$v1_bytes") MiB in $v1_reqs requests"
fi

declare -A dl req wall cpu wr new check
for ((r = 1; r <= RUNS; r++)); do
  for t in "${tools[@]}"; do
    case $t in
      ihop)
        rm -rf "$OUT/store"; cp -a "$OUT/store-v1" "$OUT/store"
        chunk_list "$OUT/store" >"$OUT/chunks.before"
        sync
        m=$(log_mark)
        timed "$OUT/ihop" bash -c '"$1" clone "$2" "$3" && sync -f "$3"' _ "$IHOP" "$NGINX_URL/v2.cba" "$OUT/store/v2"
        read -r b n < <(log_since "$m")
        chunk_list "$OUT/store" >"$OUT/chunks.after"
        nb=$(comm -13 "$OUT/chunks.before" "$OUT/chunks.after" | awk '{ s += $2 * 512 } END { print s + 0 }')
        nb=$((nb + $(allocated "$OUT/store/v2")))
        if [ "$r" = 1 ]; then check[$t]=$(verify_ihop "$OUT/store"); fi
        ;;
      casync)
        rm -f "$OUT/v2.out.img"
        sync
        m=$(log_mark)
        timed "$OUT/casync" bash -c 'casync extract --store="$1/v1v2.castr" --seed="$2" "$1/v2.caibx" "$3" && sync -f "$3"' \
          _ "$NGINX_URL" "$V1" "$OUT/v2.out.img"
        read -r b n < <(log_since "$m")
        nb=$(allocated "$OUT/v2.out.img")
        if [ "$r" = 1 ]; then
          if cmp -s "$OUT/v2.out.img" "$V2"; then check[$t]="identical to v2.img"; else check[$t]="DIFFERS from v2.img"; fi
        fi
        ;;
    esac
    log "run $r $t: $(mib "$b") MiB in $n requests, ${TIMED_WALL}s (CPU ${TIMED_CPU}s), written $(mib "$TIMED_WRITTEN") MiB, new on disk $(mib "$nb") MiB"
    dl[$t]+="$b "; req[$t]+="$n "; wall[$t]+="$TIMED_WALL "; cpu[$t]+="$TIMED_CPU "; wr[$t]+="$TIMED_WRITTEN "; new[$t]+="$nb "
  done
done

echo
echo "update v1 -> v2 over HTTP (nginx on 127.0.0.1), median of $RUNS runs ($(nproc) cores)"
busy_note
declare -A md mr mw mc mwr mn
for t in "${tools[@]}"; do
  md[$t]=$(median "${dl[$t]}"); mr[$t]=$(median "${req[$t]}"); mw[$t]=$(median "${wall[$t]}"); mc[$t]=$(median "${cpu[$t]}")
  mwr[$t]=$(median "${wr[$t]}"); mn[$t]=$(median "${new[$t]}")
done
{
  printf 'tool\tdownloaded MiB\trequests\twall s\tCPU s\twritten MiB\tnew on disk MiB\tresult\n'
  for t in "${tools[@]}"; do
    printf '%s\t%s\t%s\t%.2f\t%.2f\t%s\t%s\t%s\n' "$t" "$(mib "${md[$t]}")" "${mr[$t]}" "${mw[$t]}" "${mc[$t]}" \
      "$(mib "${mwr[$t]}")" "$(mib "${mn[$t]}")" "${check[$t]}"
  done
} | table
published="casync store (v1+v2) $(mib "$(find "$WWW/v1v2.castr" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }')") MiB"
if [ "${tools[0]}" = ihop ]; then
  published+="; v1.cba $(mib "$(stat -c %s "$WWW/v1.cba")") MiB, v2.cba $(mib "$(stat -c %s "$WWW/v2.cba")") MiB ($IHOP_COMPRESS_ARGS)"
  published+="; ihop's first clone of v1 downloaded $(mib "$v1_bytes") MiB in $v1_reqs requests"
fi
echo "published: $published"
if [ "${#tools[@]}" -gt 1 ]; then
  echo
  echo "downloaded ihop/casync: $(ratio "${md[ihop]}" "${md[casync]}")  (target <= 1.00)"
  echo "requests   ihop/casync: $(ratio "${mr[ihop]}" "${mr[casync]}")"
  echo "wall time  ihop/casync: $(ratio "${mw[ihop]}" "${mw[casync]}")  (target <= 1.00)"
  echo "CPU time   ihop/casync: $(ratio "${mc[ihop]}" "${mc[casync]}")"
  echo "written    ihop/casync: $(ratio "${mwr[ihop]}" "${mwr[casync]}")"
  echo "new on disk ihop/casync: $(ratio "${mn[ihop]}" "${mn[casync]}")"
fi
for t in "${tools[@]}"; do
  case ${check[$t]} in *DIFFERS*) die "$t did not reproduce v2.img: its figures above do not count" ;; esac
done
