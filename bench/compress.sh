#!/usr/bin/env bash
# Compression throughput: ihop compress (zstd level 3, and the brotli default) against
# casync make, on the same image, RUNS times each (interleaved, so drift of the machine hits
# every tool alike); prints medians of wall time, MiB/s (image size / wall time), peak RSS
# and output size, then the ratios.
#
# What is compared, and why it is a fair pair:
#   casync make --store=S X.caibx IMAGE   casync's defaults: buzhash chunking, window 48,
#       chunks min 16 / avg 64 / max 256 KiB, each chunk compressed with zstd at level 3
#       (compressor.c: ZSTD_initCStream(..., 3)), SHA-512/256 chunk ids, one file per chunk.
#   ihop compress --compression zstd --compression-level 3
#       bita's chunker defaults (rollsum, min 16 / avg 64 KiB / max 16 MiB), zstd level 3,
#       BLAKE2b-512 chunk ids, one archive file; hashing and compression on as many threads
#       as there are cores (its --threads default). casync's defaults are used as they are.
#   ihop compress (brotli level 6, bita's default) for reference: slower, smaller.
# Each run starts with an empty output (a casync store that already holds the chunks would
# skip their compression). The image is read once before timing, so every tool reads it
# from the page cache. Wall time includes the JVM start for ihop: that is what a user waits.
# CPU s is user + system time of the tool's processes: on a shared machine it moves less
# than wall time. Peak RSS is GNU time's maximum resident set size; the JVM runs with its
# default heap limit (a quarter of RAM) unless JAVA_OPTS says otherwise (e.g. -Xmx128m).
#
# Usage: bench/compress.sh [IMAGE]        (default: v1.img from bench/make-images.sh; RUNS=N)
set -euo pipefail
# shellcheck source=bench/lib.sh
. "$(dirname "$0")/lib.sh"

IMAGE=${1:-$IMAGES/v1.img}
[ -f "$IMAGE" ] || die "no image at $IMAGE: run bench/make-images.sh first"
need_tool casync casync
need_tool /usr/bin/time time
OUT=$WORK/compress
mkdir -p "$OUT"
size=$(stat -c %s "$IMAGE")

tools=(casync)
if ihop_ready && ihop_has compress; then
  tools=(ihop-zstd ihop-brotli casync)
else
  log "this ihop has no 'compress' command yet: measuring casync only"
fi

# run_tool TOOL: one timed run into a fresh output; sets TIMED_* and OUT_BYTES.
run_tool() {
  case $1 in
    ihop-zstd)
      rm -f "$OUT/v1-zstd.cba"
      timed "$OUT/ihop-zstd" "$IHOP" compress -i "$IMAGE" "$OUT/v1-zstd.cba" --compression zstd --compression-level 3 -f
      OUT_BYTES=$(stat -c %s "$OUT/v1-zstd.cba") ;;
    ihop-brotli)
      rm -f "$OUT/v1-brotli.cba"
      timed "$OUT/ihop-brotli" "$IHOP" compress -i "$IMAGE" "$OUT/v1-brotli.cba" -f
      OUT_BYTES=$(stat -c %s "$OUT/v1-brotli.cba") ;;
    casync)
      rm -rf "$OUT/v1.castr" "$OUT/v1.caibx"
      timed "$OUT/casync" casync make --store="$OUT/v1.castr" "$OUT/v1.caibx" "$IMAGE"
      # Chunk files plus the index: what would be published.
      OUT_BYTES=$(find "$OUT/v1.castr" "$OUT/v1.caibx" -type f -printf '%s\n' | awk '{ s += $1 } END { print s }') ;;
  esac
}

declare -A walls cpus rss outb
cat "$IMAGE" >/dev/null
log "image $IMAGE: $(mib "$size") MiB; $RUNS runs of: ${tools[*]}"
for ((r = 1; r <= RUNS; r++)); do
  for t in "${tools[@]}"; do
    sync
    run_tool "$t"
    log "run $r $t: ${TIMED_WALL}s (CPU ${TIMED_CPU}s), $(mib $((TIMED_RSS_KIB * 1024))) MiB RSS, $(mib "$OUT_BYTES") MiB out"
    walls[$t]+="$TIMED_WALL "; cpus[$t]+="$TIMED_CPU "; rss[$t]+="$TIMED_RSS_KIB "; outb[$t]=$OUT_BYTES
  done
done

declare -A mibs mwall mcpu mrss
for t in "${tools[@]}"; do
  mwall[$t]=$(median "${walls[$t]}"); mcpu[$t]=$(median "${cpus[$t]}"); mrss[$t]=$(median "${rss[$t]}")
  mibs[$t]=$(calc "$size / 1048576 / ${mwall[$t]}")
done
echo
echo "compress: $(basename "$IMAGE"), $(mib "$size") MiB, median of $RUNS runs ($(nproc) cores)"
busy_note
{
  printf 'tool\twall s\tMiB/s\tCPU s\tpeak RSS MiB\toutput MiB\toutput/image\n'
  for t in "${tools[@]}"; do
    printf '%s\t%.2f\t%.1f\t%.2f\t%.1f\t%s\t%s\n' "$t" "${mwall[$t]}" "${mibs[$t]}" "${mcpu[$t]}" "$(calc "${mrss[$t]} / 1024")" \
      "$(mib "${outb[$t]}")" "$(ratio "${outb[$t]}" "$size" 3)"
  done
} | table
if [ "${#tools[@]}" -gt 1 ]; then
  echo
  echo "throughput ratio ihop-zstd/casync:   $(ratio "${mibs[ihop-zstd]}" "${mibs[casync]}")  (target >= 1.5)"
  echo "throughput ratio ihop-brotli/casync: $(ratio "${mibs[ihop-brotli]}" "${mibs[casync]}")"
  echo "CPU time ratio ihop-zstd/casync:     $(ratio "${mcpu[ihop-zstd]}" "${mcpu[casync]}")  (CPU s / wall s = cores a tool kept busy)"
  echo "output size ratio ihop-zstd/casync:  $(ratio "${outb[ihop-zstd]}" "${outb[casync]}")"
fi
