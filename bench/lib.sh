# shellcheck shell=bash disable=SC2034  # the variables set here are read by the scripts that source this
# Shared helpers for the benchmark scripts in bench/: configuration, medians, timed runs,
# ratios, tables and a throwaway nginx. Sourced, never run; the caller sets -euo pipefail.
#
# Environment knobs (all optional):
#   RUNS            runs per measurement, the median is reported (default 3)
#   IHOP_BENCH_DIR  where images, archives and stores are kept (default /var/tmp/ihop-bench;
#                   kept across runs as a cache, outside the repository because the images
#                   and casync stores are hundreds of MiB)
#   IHOP            the ihop launcher to measure (default: ./ihop at the repository root)

BENCH_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_ROOT/.." && pwd)
RUNS=${RUNS:-3}
WORK=${IHOP_BENCH_DIR:-/var/tmp/ihop-bench}
IHOP=${IHOP:-$REPO_ROOT/ihop}
IMAGES=$WORK/images
mkdir -p "$WORK"

# Other processes on a shared 2-core machine skew every timing here. busy_sample, called
# by timed just before each timed command, measures for one second how much of the machine's
# CPU is in use while none of ours runs; busy_note reports the highest such figure.
BUSY_MAX=0
busy_sample() {
  local a b
  a=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  sleep 1
  b=$(awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9, $5 + $6 }' /proc/stat)
  BUSY_MAX=$(awk -v a="$a" -v b="$b" -v m="$BUSY_MAX" 'BEGIN { split(a, x, " "); split(b, y, " ")
    busy = y[1] - x[1]; idle = y[2] - x[2]; p = (busy + idle) > 0 ? 100 * busy / (busy + idle) : 0
    printf "%.0f\n", (p > m ? p : m) }')
}
busy_note() {
  local warn=""
  [ "$BUSY_MAX" -gt 15 ] && warn=" - other processes were busy, figures are noisy: rerun on an idle machine"
  echo "machine: $(nproc) cores; CPU used by other processes just before a timed run: up to $BUSY_MAX%$warn"
}

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# need_tool PROGRAM DEBIAN_PACKAGE: installs the package when the program is missing.
# Retries while another process holds the dpkg lock (apt may be running elsewhere).
need_tool() {
  command -v "$1" >/dev/null 2>&1 && return 0
  log "installing $2 for $1"
  local try
  for try in 1 2 3 4 5 6 7 8 9 10; do
    if DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>"$WORK/apt.err"; then
      return 0
    fi
    if grep -q 'Could not get lock\|dpkg frontend lock' "$WORK/apt.err"; then sleep 15; continue; fi
    if grep -q 'Unable to locate package' "$WORK/apt.err" && [ "$try" = 1 ]; then
      apt-get update -q >/dev/null; continue
    fi
    cat "$WORK/apt.err" >&2; die "could not install $2"
  done
  die "dpkg lock busy for too long while installing $2"
}

# median "N N ...": the median of the whitespace-separated numbers given (mean of the middle
# two for an even count).
median() {
  awk '{ for (i = 1; i <= NF; i++) print $i }' <<<"$*" | sort -g | awk '{ v[NR] = $1 } END {
    if (NR == 0) { print "nan"; exit }
    if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# ratio A B [DECIMALS]: A/B, or "n/a" when B is zero or either is not a number.
ratio() {
  awk -v a="$1" -v b="$2" -v d="${3:-2}" 'BEGIN {
    if (a !~ /^[0-9.eE+-]+$/ || b !~ /^[0-9.eE+-]+$/ || b + 0 == 0) { print "n/a"; exit }
    printf "%.*f\n", d, a / b }'
}

# calc EXPR: floating-point arithmetic via awk, printed with up to 6 significant decimals.
calc() { awk "BEGIN { printf \"%.6g\n\", $1 }"; }

mib() { awk -v b="$1" 'BEGIN { printf "%.1f\n", b / 1048576 }'; }

# timed OUT_PREFIX CMD...: runs CMD, stdout/stderr to OUT_PREFIX.out/.err, and sets
# TIMED_WALL (seconds, nanosecond clock) and TIMED_RSS_KIB (peak resident set of the command
# and its waited-for children, from GNU time's "%M") and TIMED_WRITTEN (bytes the command
# and its children caused to be written to storage: GNU time's "%O", the kernel's
# write_bytes I/O accounting in 512-byte units) and TIMED_CPU (user + system seconds of the
# command and its children: less disturbed than wall time when other processes compete for
# the cores). Fails (with the output) when CMD fails.
timed() {
  local prefix=$1; shift
  local t0 t1
  busy_sample
  t0=$(date +%s.%N)
  if ! /usr/bin/time -f '%M %O %U %S' -o "$prefix.rss" "$@" >"$prefix.out" 2>"$prefix.err"; then
    echo "command failed: $*" >&2; tail -n 20 "$prefix.err" >&2; return 1
  fi
  t1=$(date +%s.%N)
  TIMED_WALL=$(calc "$t1 - $t0")
  local user sys
  read -r TIMED_RSS_KIB TIMED_WRITTEN user sys < <(tail -n 1 "$prefix.rss")
  TIMED_CPU=$(calc "$user + $sys")
  TIMED_WRITTEN=$((TIMED_WRITTEN * 512))
}

# table: formats tab-separated stdin as an aligned table with a rule under the header line.
table() {
  awk -F'\t' '{ for (i = 1; i <= NF; i++) { c[NR, i] = $i; if (length($i) > w[i]) w[i] = length($i) }
                if (NF > nf) nf = NF; n = NR }
    END { for (r = 1; r <= n; r++) {
            line = ""
            for (i = 1; i <= nf; i++) line = line sprintf(i == 1 ? "%-*s" : "  %*s", w[i], c[r, i])
            print line
            if (r == 1) { rule = ""; for (i = 1; i <= length(line); i++) rule = rule "-"; print rule } } }'
}

# ihop_ready: makes sure the launcher has built the jar so no build lands inside a timing.
ihop_ready() {
  [ -x "$IHOP" ] || die "ihop launcher not found at $IHOP"
  "$IHOP" --help >/dev/null 2>&1 || die "ihop does not start: $IHOP --help failed"
}

# ihop_has COMMAND: whether this ihop build has the subcommand (others are still being written).
# Read from the command list of --help: an unknown subcommand does not always fail.
ihop_has() { "$IHOP" --help 2>/dev/null | awk '/^Commands:/ { c = 1; next } c { print $1 }' | grep -qx -- "$1"; }

# free_port: a TCP port on 127.0.0.1 with nothing listening.
free_port() {
  local p
  for _ in $(seq 50); do
    p=$((20000 + RANDOM % 20000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return 0; fi
  done
  die "no free port found"
}

# nginx_start DOCROOT: serves DOCROOT on 127.0.0.1:$NGINX_PORT (chosen here) with an unbuffered
# access log at $NGINX_LOG: "method uri status bytes_sent range" per request. Range requests and
# keep-alive behave as in a stock nginx; sendfile stays on as it would in production.
nginx_start() {
  need_tool nginx nginx-light
  local docroot=$1
  NGINX_DIR=$WORK/nginx
  NGINX_PORT=$(free_port)
  NGINX_LOG=$NGINX_DIR/access.log
  mkdir -p "$NGINX_DIR"
  : >"$NGINX_LOG"
  cat >"$NGINX_DIR/nginx.conf" <<CONF
worker_processes 1;
pid $NGINX_DIR/nginx.pid;
error_log $NGINX_DIR/error.log warn;
events { worker_connections 256; }
http {
  types { application/octet-stream cba caibx cacnk; }
  default_type application/octet-stream;
  sendfile on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  client_body_temp_path $NGINX_DIR/tmp;
  log_format bench '\$request_method \$uri \$status \$bytes_sent "\$http_range"';
  server {
    listen 127.0.0.1:$NGINX_PORT;
    root $docroot;
    access_log $NGINX_LOG bench;
  }
}
CONF
  mkdir -p "$NGINX_DIR/tmp"
  nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" -g 'daemon on;' || die "nginx did not start"
  NGINX_URL=http://127.0.0.1:$NGINX_PORT
  local _
  for _ in $(seq 50); do
    curl -s -o /dev/null "$NGINX_URL/" && return 0
    sleep 0.1
  done
  die "nginx not answering on $NGINX_URL"
}

nginx_stop() {
  [ -n "${NGINX_DIR:-}" ] && [ -f "$NGINX_DIR/nginx.pid" ] || return 0
  nginx -c "$NGINX_DIR/nginx.conf" -p "$NGINX_DIR" -s stop 2>/dev/null || true
}

# log_mark: the current line count of the access log; log_since MARK: "bytes requests"
# served since that mark.
log_mark() { wc -l <"$NGINX_LOG"; }
log_since() { tail -n +"$(($1 + 1))" "$NGINX_LOG" | awk '{ b += $4; n++ } END { printf "%d %d\n", b, n }'; }
