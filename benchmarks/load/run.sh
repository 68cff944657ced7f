#!/usr/bin/env bash
# Side-by-side load run: prefork's example daemon and its peers, each on its own port, the same wrk
# command at each, alternating, then medians and ratios. See docs/performance.md ("Load runs" and
# "Workload suite"; suite.sh runs every workload with this and timeline.sh).
#
#   benchmarks/load/run.sh                      # hello, one request per connection, c=50 and c=200
#   benchmarks/load/run.sh --workload hello-ka --conns 50
#   benchmarks/load/run.sh --workload wait --conns 200
#   benchmarks/load/run.sh --peers "prefork c" --prefork-args "--min 2 --max 4 --threads 8"
#
# Options:
#   --workload W             hello: HelloHttpJob, wrk -H 'Connection: close' (one request per
#                            connection); hello-ka: HelloKeepAliveJob over HTTP/1.1 keep-alive;
#                            wait: WaitJob (10 ms, then hello; the C original's _sleep build);
#                            cpu: CpuJob (~0.2 ms of Java work); the last two one request per
#                            connection (default hello)
#   --mode close|keepalive   the same as --workload hello / hello-ka (kept for old commands)
#   --conns "50 200"         wrk connection counts (default "50 200")
#   --rounds N               rounds; each round runs every peer once per connection count, in a
#                            rotating order (default 3)
#   --duration 8s            wrk -d (default 8s)
#   --warmup 3s              one unmeasured wrk run per peer and count before the rounds (0 skips)
#   --peers "..."            any of: prefork c jdk vthreads netty nginx (default: all that run the
#                            workload here: c has no cpu job, netty and nginx only hello)
#   --prefork-args "..."     extra options for `serve` (default none: its recommended defaults;
#                            for hello-ka only, --threads ceil(max conns / 2) unless given)
#   --jdk-threads N          the jdk peer's fixed pool (default 16; for hello-ka and wait the
#                            largest connection count, a thread per connection)
#   --java PATH              the java for prefork and the jdk and netty peers (default: java)
#   --java25 PATH            the java of the vthreads peer, 21 or later
#                            (default /usr/lib/jvm/temurin-25-jdk-amd64/bin/java)
#   --out DIR                where raw wrk output and results.tsv go (default: a new temp dir)
#   --append                 add to DIR/results.tsv instead of starting it anew
#
# It installs nothing. Missing wrk stops it; a missing peer is skipped with how to get it:
#   wrk, nginx:  apt-get install wrk nginx-light
#   C original:  ../shared/anchors/seed-c (built out of tree into the output dir, with make and gcc)
#   jars:        mvn -B -DskipTests package
# Ports LOAD_BASE_PORT (19100) to +5 and shm keys LOAD_KEY_BASE+1, +2 (0x7e5f0001, 2) of this host.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORKLOAD=hello
CONNS="50 200"
ROUNDS=3
DURATION=8s
WARMUP=3s
PEERS=""
JDK_THREADS=""
OUT=""
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
    --workload) WORKLOAD=$2; shift 2 ;;
    --mode)
      case "$2" in close) WORKLOAD=hello ;; keepalive) WORKLOAD=hello-ka ;;
        *) echo "run.sh: --mode is close or keepalive" >&2; exit 2 ;; esac
      shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --warmup) WARMUP=$2; shift 2 ;;
    --peers) PEERS=$2; shift 2 ;;
    --prefork-args) PREFORK_ARGS=$2; shift 2 ;;
    --jdk-threads) JDK_THREADS=$2; shift 2 ;;
    --java) JAVA=$2; shift 2 ;;
    --java25) JAVA25=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --append) APPEND=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "run.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$WORKLOAD" in hello|hello-ka|wait|cpu) ;;
  *) echo "run.sh: --workload is hello, hello-ka, wait or cpu (burst and restart: timeline.sh)" >&2; exit 2 ;;
esac

if ! command -v wrk >/dev/null; then
  echo "run.sh: wrk is not installed; get it with: apt-get install wrk" >&2
  exit 1
fi
OUT=${OUT:-$(mktemp -d /tmp/prefork-load.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# shellcheck source=peers.sh
. "$ROOT/benchmarks/load/peers.sh"
check_jars run.sh

max_conns=0
for c in $CONNS; do [ "$c" -gt "$max_conns" ] && max_conns=$c; done
KEEPALIVE=0
[ "$WORKLOAD" = hello-ka ] && KEEPALIVE=1
# A keep-alive connection holds its worker for its whole life (as in httpd's prefork and worker
# MPMs), and so does a waiting one for its 10 ms: with fewer workers than connections the rest
# wait in the accept queue (for keep-alive unserved for the whole run, and wrk reports no error
# for them). So the jdk peer gets a thread per connection there; prefork runs as serve decides
# (its defaults: 128 workers, growing to 256 when all are busy) unless --prefork-args says
# otherwise.
if [ -z "$JDK_THREADS" ]; then
  case "$WORKLOAD" in hello-ka|wait) JDK_THREADS=$max_conns ;; *) JDK_THREADS=16 ;; esac
fi

available=""
for p in ${PEERS:-$ALL_PEERS}; do
  if peer_runs "$p" "$WORKLOAD" run.sh; then available="$available $p"
  elif [ -n "$PEERS" ]; then echo "run.sh: $p does not run $WORKLOAD here: left out" >&2; fi
done
read -r -a RUN <<<"$available"
[ ${#RUN[@]} -gt 0 ] || { echo "run.sh: no peer to run" >&2; exit 1; }

# The traps write to the script's own stderr (fd 9), not to the file of the command in progress.
exec 9>&2
trap 'stop_all 2>&9' EXIT
trap 'echo "run.sh: interrupted: stopping the peers" >&9; stop_all 2>&9; exit 130' INT TERM

WRK_HDR=()
[ "$WORKLOAD" != hello-ka ] && WRK_HDR=(-H 'Connection: close')

# wrk's latency in ms (its unit suffixes: us, ms, s)
to_ms() { awk -v v="$1" 'BEGIN { n=v+0; if (v ~ /us$/) n/=1000; else if (v ~ /ms$/) n=n; else if (v ~ /s$/) n*=1000; printf "%.3f", n }'; }

run_wrk() { # peer, conns, round -> one line in results.tsv
  local p=$1 c=$2 r=$3 f="$OUT/wrk-$WORKLOAD-$1-c$2-r$3.txt"
  in_background wrk -t2 -c"$c" -d"$DURATION" --latency "${WRK_HDR[@]}" "http://127.0.0.1:${PORT[$p]}/" >"$f" 2>&1 || true
  local rps p50 p99 errs
  rps=$(awk '/^Requests\/sec:/ {print $2}' "$f")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' "$f")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' "$f")")
  errs=$(awk '/Socket errors:/ {gsub(",",""); s+=$4+$6+$8+$10} /Non-2xx/ {s+=$5} END {print s+0}' "$f")
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t-\n' "$WORKLOAD" "$p" "$c" "$r" "${rps:-0}" "$p50" "$p99" "$errs" >>"$OUT/results.tsv"
  printf '  %-8s c=%-4s round %s: %10s req/s  p50 %8s ms  p99 %8s ms  errors %s\n' "$p" "$c" "$r" "${rps:-0}" "$p50" "$p99" "$errs"
}

echo "load run: workload $WORKLOAD, conns [$CONNS], $ROUNDS rounds of wrk -t2 -d$DURATION, peers: ${RUN[*]}"
echo "output: $OUT"
started=()
for p in "${RUN[@]}"; do
  if start_peer "$p" "$WORKLOAD"; then
    echo "  started $p on port ${PORT[$p]}"
    started+=("$p")
  else
    echo "run.sh: $p did not start: left out" >&2
    stop_peer "$p"
  fi
done
[ ${#started[@]} -gt 0 ] || { echo "run.sh: no peer started" >&2; exit 1; }
RUN=("${started[@]}")
if [ "$WARMUP" != 0 ]; then
  for p in "${RUN[@]}"; do
    for c in $CONNS; do
      in_background wrk -t2 -c"$c" -d"$WARMUP" "${WRK_HDR[@]}" "http://127.0.0.1:${PORT[$p]}/" >/dev/null 2>&1 || true
    done
  done
fi
[ "$APPEND" = 1 ] || : >"$OUT/results.tsv"
rows_before=$(wc -l <"$OUT/results.tsv")
n=${#RUN[@]}
for r in $(seq 1 "$ROUNDS"); do
  for c in $CONNS; do
    for i in $(seq 0 $((n - 1))); do           # rotate the order each round
      run_wrk "${RUN[$(((i + r - 1) % n))]}" "$c" "$r"
    done
  done
done
if [ -n "${PID[prefork]:-}" ]; then
  echo "prefork processes after the runs (the pool may have grown):"
  pgrep -P "${PID[prefork]}" | xargs -r ps -o pid=,rss= -p | awk '{n++; s+=$2} END {if (n) printf "  %d children, %.1f MB RSS each on average\n", n, s/n/1024}' || true
fi
stop_all

echo
echo "medians over $ROUNDS rounds (workload $WORKLOAD):"
tail -n +"$((rows_before + 1))" "$OUT/results.tsv" | awk -F'\t' '
  function median(a, n,   i, j, t) {
    for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j >= 1 && a[j] > t; j--) a[j + 1] = a[j]; a[j + 1] = t }
    return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
  }
  { k = $2 SUBSEP $3; n[k]++; R[k, n[k]] = $5; P50[k, n[k]] = $6; P99[k, n[k]] = $7; E[k] += $8
    if (!($2 in seenp)) { seenp[$2] = 1; peers[++np] = $2 }
    if (!($3 in seenc)) { seenc[$3] = 1; conns[++nc] = $3 } }
  END {
    printf "%-8s %6s %12s %10s %10s %8s %10s %12s %8s %10s\n", "peer", "conns", "req/s", "p50 ms", "p99 ms", "errors", "rps/pref", "p99/pref p99", "rps/C", "rps/nginx"
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
        rp = ("prefork" in rps && rps["prefork"] > 0) ? sprintf("%.2f", rps[p] / rps["prefork"]) : "-"
        pp = ("prefork" in p99 && p99["prefork"] > 0) ? sprintf("%.2f", p99[p] / p99["prefork"]) : "-"
        rc = ("c" in rps && rps["c"] > 0) ? sprintf("%.2f", rps[p] / rps["c"]) : "-"
        rn = ("nginx" in rps && rps["nginx"] > 0) ? sprintf("%.2f", rps[p] / rps["nginx"]) : "-"
        printf "%-8s %6s %12.0f %10.2f %10.2f %8d %10s %12s %8s %10s\n", p, c, rps[p], p50[p], p99[p], E[k], rp, pp, rc, rn
      }
      delete rps; delete p50; delete p99
    }
  }' | tee "$OUT/summary-$WORKLOAD.txt"
