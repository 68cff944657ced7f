#!/usr/bin/env bash
# Side-by-side load run: prefork's example daemon and its peers, each on its own port, the same wrk
# command at each, alternating, then medians and ratios. See docs/performance.md ("Load runs").
#
#   benchmarks/load/run.sh                      # one request per connection, c=50 and c=200, 3 rounds
#   benchmarks/load/run.sh --mode keepalive --conns 50
#   benchmarks/load/run.sh --peers "prefork c" --prefork-args "--min 2 --max 4 --threads 8"
#
# Options:
#   --mode close|keepalive   close: wrk -H 'Connection: close' (one request per connection), the
#                            hello job; keepalive: HTTP/1.1 keep-alive, the hello-ka job (default close)
#   --conns "50 200"         wrk connection counts (default "50 200")
#   --rounds N               rounds; each round runs every peer once per connection count, in a
#                            rotating order (default 3)
#   --duration 8s            wrk -d (default 8s)
#   --warmup 3s              one unmeasured wrk run per peer before the rounds (default 3s; 0 skips)
#   --peers "..."            any of: prefork c jdk netty nginx (default: all that are available)
#   --prefork-args "..."     extra options for `serve` (default none: its recommended defaults)
#   --java PATH              the java for prefork and the Java peers (default: java on PATH)
#   --out DIR                where raw wrk output and results.tsv go (default: a new temp dir)
#
# It installs nothing. Missing wrk stops it; a missing peer is skipped with how to get it:
#   wrk, nginx:  apt-get install wrk nginx-light
#   C original:  ../shared/anchors/seed-c (built out of tree into the output dir, with make and gcc)
#   jars:        mvn -B -DskipTests package
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODE=close
CONNS="50 200"
ROUNDS=3
DURATION=8s
WARMUP=3s
PEERS=""
PREFORK_ARGS=""
JAVA=java
OUT=""
SEED_C=${SEED_C:-$ROOT/../shared/anchors/seed-c}

while [ $# -gt 0 ]; do
  case "$1" in
    --mode) MODE=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --peers) PEERS=$2; shift 2 ;;
    --prefork-args) PREFORK_ARGS=$2; shift 2 ;;
    --java) JAVA=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,27p' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$MODE" in close|keepalive) ;; *) echo "run.sh: --mode is close or keepalive" >&2; exit 2 ;; esac

if ! command -v wrk >/dev/null; then
  echo "run.sh: wrk is not installed; get it with: apt-get install wrk" >&2
  exit 1
fi
EXAMPLES_JAR=$ROOT/prefork-examples/target/prefork-examples.jar
BENCH_JAR=$ROOT/benchmarks/target/benchmarks.jar
for jar in "$EXAMPLES_JAR" "$BENCH_JAR"; do
  if [ ! -f "$jar" ]; then
    echo "run.sh: $jar is missing; build it with: mvn -B -DskipTests package" >&2
    exit 1
  fi
done
OUT=${OUT:-$(mktemp -d /tmp/prefork-load.XXXXXX)}
mkdir -p "$OUT"

# Ports and keys of this run (the C original never removes its segment: we do).
BASE=${LOAD_BASE_PORT:-19100}
declare -A PORT=([prefork]=$BASE [c]=$((BASE + 1)) [jdk]=$((BASE + 2)) [netty]=$((BASE + 3)) [nginx]=$((BASE + 4)))
PREFORK_KEY=0x7e5f0001
C_KEY=0x7e5f0002

# Which peers can run.
available=""
want=${PEERS:-"prefork c jdk netty nginx"}
for p in $want; do
  case "$p" in
    prefork|jdk|netty) available="$available $p" ;;
    c)
      if [ -d "$SEED_C" ] && command -v make >/dev/null && command -v gcc >/dev/null; then
        available="$available c"
      else
        echo "run.sh: skipping the C original: needs $SEED_C, make and gcc (apt-get install build-essential)" >&2
      fi ;;
    nginx)
      if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then
        available="$available nginx"
      else
        echo "run.sh: skipping nginx: not installed; get it with: apt-get install nginx-light" >&2
      fi ;;
    *) echo "run.sh: unknown peer $p" >&2; exit 2 ;;
  esac
done
read -r -a RUN <<<"$available"
[ ${#RUN[@]} -gt 0 ] || { echo "run.sh: no peer to run" >&2; exit 1; }

declare -A PID=()
cleanup() {
  set +e
  for p in "${!PID[@]}"; do
    case "$p" in
      c) kill -KILL -- "-${PID[$p]}" 2>/dev/null ;;                 # its own process group
      prefork) kill -TERM "${PID[$p]}" 2>/dev/null ;;              # wait-down, removes its shm
      nginx) kill -QUIT "${PID[$p]}" 2>/dev/null ;;
      *) kill -TERM "${PID[$p]}" 2>/dev/null ;;
    esac
  done
  for p in "${!PID[@]}"; do
    for _ in $(seq 1 100); do kill -0 "${PID[$p]}" 2>/dev/null || break; sleep 0.1; done
    wait "${PID[$p]}" 2>/dev/null
  done
  if [ -n "${PID[c]:-}" ]; then
    for _ in $(seq 1 30); do pgrep -g "${PID[c]}" >/dev/null 2>&1 || break; sleep 0.1; done
    ipcrm -M "$C_KEY" 2>/dev/null
  fi
  PID=()
}
trap cleanup EXIT INT TERM

wait_port() { # port, name
  for _ in $(seq 1 300); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "run.sh: $2 did not listen on port $1; see $OUT/$2.log" >&2
  exit 1
}

JOB=hello
KA_FLAG=""
if [ "$MODE" = keepalive ]; then JOB=hello-ka; KA_FLAG=--keepalive; fi
# A keep-alive connection holds its worker for its whole life (as in httpd's prefork and worker
# MPMs): with fewer workers than connections the rest wait in the accept queue, unserved, and wrk
# reports no error for them. So in keep-alive mode prefork gets workers for every connection:
# 2 children of ceil(max conns / 2) threads, unless --prefork-args says otherwise.
if [ "$MODE" = keepalive ] && [ -z "$PREFORK_ARGS" ]; then
  max_conns=0
  for c in $CONNS; do [ "$c" -gt "$max_conns" ] && max_conns=$c; done
  PREFORK_ARGS="--threads $(( (max_conns + 1) / 2 ))"
  echo "keep-alive: prefork runs with $PREFORK_ARGS (2 children), a worker for every connection"
fi
PEER_JVM=(-XX:+UseSerialGC -Xmx256m)

start_peer() {
  local p=$1 port=${PORT[$1]}
  case "$p" in
    prefork)
      # shellcheck disable=SC2086
      "$JAVA" -jar "$EXAMPLES_JAR" serve --port "$port" --shm-key "$PREFORK_KEY" --job "$JOB" \
        $PREFORK_ARGS >"$OUT/prefork.log" 2>&1 &
      PID[prefork]=$! ;;
    c)
      if [ ! -x "$OUT/seed-c/ready_fork_block" ]; then
        mkdir -p "$OUT/seed-c" && cp -r "$SEED_C/." "$OUT/seed-c/" && make -s -C "$OUT/seed-c" >/dev/null 2>&1
      fi
      local bin=ready_fork_block
      [ "$MODE" = keepalive ] && bin=ready_fork_block_ka
      ipcrm -M "$C_KEY" 2>/dev/null || true
      setsid "$OUT/seed-c/$bin" -F -p "$port" -k "$C_KEY" -n 50 -x 200 >"$OUT/c.log" 2>&1 &
      PID[c]=$!
      disown "${PID[c]}" ;;                                  # no "Killed" notice at the end
    jdk)
      "$JAVA" "${PEER_JVM[@]}" -cp "$BENCH_JAR" io.prefork.bench.load.ThreadPoolServer \
        --port "$port" --threads 16 $KA_FLAG >"$OUT/jdk.log" 2>&1 &
      PID[jdk]=$! ;;
    netty)
      "$JAVA" "${PEER_JVM[@]}" -cp "$BENCH_JAR" io.prefork.bench.load.NettyServer \
        --port "$port" --threads 2 $KA_FLAG >"$OUT/netty.log" 2>&1 &
      PID[netty]=$! ;;
    nginx)
      mkdir -p "$OUT/nginx"
      cat >"$OUT/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $OUT/nginx/nginx.pid;
error_log $OUT/nginx/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $OUT/nginx; proxy_temp_path $OUT/nginx; fastcgi_temp_path $OUT/nginx;
  uwsgi_temp_path $OUT/nginx; scgi_temp_path $OUT/nginx;
  server {
    listen 127.0.0.1:$port backlog=511;
    location / { default_type text/plain; return 200 "hello\n"; }
  }
}
EOF
      "$(command -v nginx || echo /usr/sbin/nginx)" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" \
        -g 'daemon off;' >"$OUT/nginx.log" 2>&1 &
      PID[nginx]=$! ;;
  esac
  wait_port "$port" "$p"
}

WRK_HDR=()
[ "$MODE" = close ] && WRK_HDR=(-H 'Connection: close')

# wrk's latency in ms (its unit suffixes: us, ms, s)
to_ms() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'; }

run_wrk() { # peer, conns, round -> one line in results.tsv
  local p=$1 c=$2 r=$3 f="$OUT/wrk-$1-c$2-r$3.txt"
  wrk -t2 -c"$c" -d"$DURATION" --latency "${WRK_HDR[@]}" "http://127.0.0.1:${PORT[$p]}/" >"$f" 2>&1 || true
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$f")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$f")")
  errs=$(awk '/Socket errors:/ {gsub(",",""); s+=$4+$6+$8+$10} /Non-2xx/ {s+=$5} END {print s+0}' "$f")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$MODE" "$p" "$c" "$r" "${rps:-0}" "$p50" "$p99" "$errs" >>"$OUT/results.tsv"
  printf '  %-8s c=%-4s round %s: %10s req/s  p50 %8s ms  p99 %8s ms  errors %s\n' "$p" "$c" "$r" "${rps:-0}" "$p50" "$p99" "$errs"
}

echo "load run: mode $MODE, conns [$CONNS], $ROUNDS rounds of wrk -t2 -d$DURATION, peers: ${RUN[*]}"
echo "output: $OUT"
for p in "${RUN[@]}"; do
  start_peer "$p"
  echo "  started $p on port ${PORT[$p]}"
done
if [ "$WARMUP" != 0 ]; then
  for p in "${RUN[@]}"; do
    for c in $CONNS; do
      wrk -t2 -c"$c" -d"$WARMUP" "${WRK_HDR[@]}" "http://127.0.0.1:${PORT[$p]}/" >/dev/null 2>&1 || true
    done
  done
fi
: >"$OUT/results.tsv"
n=${#RUN[@]}
for r in $(seq 1 "$ROUNDS"); do
  for c in $CONNS; do
    for i in $(seq 0 $((n - 1))); do           # rotate the order each round
      run_wrk "${RUN[$(((i + r - 1) % n))]}" "$c" "$r"
    done
  done
done
if [ -n "${PID[prefork]:-}" ] && command -v ps >/dev/null; then
  echo "prefork processes after the runs (the pool may have grown):"
  pgrep -P "${PID[prefork]}" | xargs -r ps -o pid=,rss= -p | awk '{n++; s+=$2} END {printf "  %d children, %.1f MB RSS each on average\n", n, s/n/1024}' || true
fi
cleanup

echo
echo "medians over $ROUNDS rounds (mode $MODE):"
awk -F'\t' '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { k = $2 SUBSEP $3; n[k]++; R[k, n[k]] = $5; P50[k, n[k]] = $6; P99[k, n[k]] = $7; E[k] += $8
    if (!($2 in seenp)) { seenp[$2] = 1; peers[++np] = $2 }
    if (!($3 in seenc)) { seenc[$3] = 1; conns[++nc] = $3 } }
  END {
    printf "%-8s %6s %12s %10s %10s %8s %10s %12s %10s\n", "peer", "conns", "req/s", "p50 ms", "p99 ms", "errors", "rps/C", "p99/C p99", "rps/nginx"
    for (ci = 1; ci <= nc; ci++) {
      c = conns[ci]
      for (pi = 1; pi <= np; pi++) {
        p = peers[pi]; k = p SUBSEP c
        if (!n[k]) continue
        delete a; for (i = 1; i <= n[k]; i++) a[i] = R[k, i]; rps[p] = median(a, n[k])
        delete a; for (i = 1; i <= n[k]; i++) a[i] = P50[k, i]; p50[p] = median(a, n[k])
        delete a; for (i = 1; i <= n[k]; i++) a[i] = P99[k, i]; p99[p] = median(a, n[k])
      }
      for (pi = 1; pi <= np; pi++) {
        p = peers[pi]; k = p SUBSEP c
        if (!n[k]) continue
        rc = ("c" in rps && rps["c"] > 0) ? sprintf("%.2f", rps[p] / rps["c"]) : "-"
        pc = ("c" in p99 && p99["c"] > 0) ? sprintf("%.2f", p99[p] / p99["c"]) : "-"
        rn = ("nginx" in rps && rps["nginx"] > 0) ? sprintf("%.2f", rps[p] / rps["nginx"]) : "-"
        printf "%-8s %6s %12.0f %10.2f %10.2f %8d %10s %12s %10s\n", p, c, rps[p], p50[p], p99[p], E[k], rc, pc, rn
      }
      delete rps; delete p50; delete p99
    }
  }' "$OUT/results.tsv" | tee "$OUT/summary.txt"
