#!/usr/bin/env bash
# Peak RSS (VmHWM) of ihop compress, clone (over HTTP from nginx), extract and serve for a
# 1 GiB image, with the heap limits a small device would use. Usage:
#   bench/memory.sh [SIZE_BYTES] [WORK_DIR]
# Heaps: compress -Xmx256m, clone/extract/serve -Xmx64m (override with COMPRESS_HEAP / HEAP).
# Needs nginx (for clone) and nbdcopy (for serve; skipped without it).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/java-home.sh"
size=${1:-1073741824}
work=${2:-$(mktemp -d /tmp/ihop-memory.XXXXXX)}
compress_heap=${COMPRESS_HEAP:-256m}
heap=${HEAP:-64m}
jar="$root/ihop-cli/target/ihop.jar"
[ -f "$jar" ] || (cd "$root" && mvn -q -B -DskipTests package >&2)
mkdir -p "$work/www"
ihop() { "$JAVA_HOME/bin/java" "$@"; }

# Runs "$@" in the background, samples VmHWM of the process every 50 ms, prints
# "<label>: <seconds> s, peak RSS <MiB> MiB" when it ends; fails if the command fails.
measure() {
  local label=$1; shift
  local start=$SECONDS peak=0 hwm
  "$@" >"$work/$label.out" 2>"$work/$label.err" &
  local pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
    [ -n "$hwm" ] && [ "$hwm" -gt "$peak" ] && peak=$hwm
    sleep 0.05
  done
  if ! wait "$pid"; then
    echo "$label failed:" >&2; cat "$work/$label.err" >&2; return 1
  fi
  printf '%-28s %6d s, peak RSS %5d MiB\n' "$label:" $((SECONDS - start)) $((peak / 1024))
}

echo "image: $size bytes in $work (heap: compress -Xmx$compress_heap, others -Xmx$heap)"
[ -f "$work/image.img" ] || "$JAVA_HOME/bin/java" "$root/bench/GenerateImage.java" "$work/image.img" "$size"

measure "compress (-Xmx$compress_heap)" ihop "-Xmx$compress_heap" --enable-native-access=ALL-UNNAMED -jar "$jar" \
  compress -f -i "$work/image.img" --compression zstd --compression-level 1 "$work/www/image.cba"

port=$(( 20000 + RANDOM % 20000 ))
mkdir -p "$work/nginx"
cat >"$work/nginx/nginx.conf" <<CONF
daemon off; worker_processes 1; error_log $work/nginx/error.log; pid $work/nginx/nginx.pid;
events { worker_connections 64; }
http { access_log off; client_body_temp_path $work/nginx; proxy_temp_path $work/nginx; fastcgi_temp_path $work/nginx;
  uwsgi_temp_path $work/nginx; scgi_temp_path $work/nginx;
  server { listen 127.0.0.1:$port; root $work/www; } }
CONF
nginx=$(command -v nginx || echo /usr/sbin/nginx)
"$nginx" -c "$work/nginx/nginx.conf" -p "$work/nginx" &
nginx_pid=$!
trap 'kill $nginx_pid 2>/dev/null || true' EXIT
sleep 0.5
rm -rf "$work/store"
measure "clone over HTTP (-Xmx$heap)" ihop "-Xmx$heap" --enable-native-access=ALL-UNNAMED -jar "$jar" \
  clone "http://127.0.0.1:$port/image.cba" "$work/store/v1"

measure "extract (-Xmx$heap)" ihop "-Xmx$heap" --enable-native-access=ALL-UNNAMED -jar "$jar" \
  extract -f "$work/store/v1" "$work/extracted.img"
cmp "$work/image.img" "$work/extracted.img" && rm "$work/extracted.img"

if command -v nbdcopy >/dev/null; then
  sock="$work/nbd.sock"
  ihop "-Xmx$heap" --enable-native-access=ALL-UNNAMED -jar "$jar" serve --socket "$sock" "$work/store/v1" 2>"$work/serve.err" &
  serve_pid=$!
  for _ in $(seq 100); do [ -S "$sock" ] && break; sleep 0.1; done
  start=$SECONDS
  nbdcopy "nbd+unix:///v1?socket=$sock" - | cmp - "$work/image.img"
  hwm=$(awk '/^VmHWM:/ {print $2}' "/proc/$serve_pid/status")
  kill "$serve_pid"; wait "$serve_pid" || true
  printf '%-28s %6d s, peak RSS %5d MiB\n' "serve, read whole (-Xmx$heap):" $((SECONDS - start)) $((hwm / 1024))
else
  echo "serve: skipped (nbdcopy not installed)"
fi
