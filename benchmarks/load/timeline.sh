#!/usr/bin/env bash
# Timelines, second by second, with TimelineLoad (wrk gives totals only): a burst on an idle server,
# and a restart under load. Each round starts every peer afresh, in a rotating order, runs the
# load, stops it. See docs/performance.md ("Workload suite").
#
#   benchmarks/load/timeline.sh --workload burst     # idle, then 200 connections of the wait job
#   benchmarks/load/timeline.sh --workload restart   # the cpu job at c=50 (20 s of warm-up), `ctl restart` at 5 s
#
# Options:
#   --workload burst|restart  burst: the server just started and idle (--idle s after a 1 s prelude
#                            at 4 connections that loads the code paths), then --conns at once for
#                            --duration s, then --tail s without load (prefork and c: the pool
#                            shrinking back); restart: --prelude s of warm-up, then --duration s
#                            with prefork's restart sent at --restart-at s (what `ctl restart` does)
#   --rounds N               (default 3)
#   --conns N                (burst 200, restart 50)
#   --duration S             seconds of measured load (default 20)
#   --idle S / --tail S      burst: idle seconds before / seconds after the load (default 3 / 8)
#   --client-warm-up S       burst: seconds the load client first warms its own JIT against a
#                            server inside its JVM, the peer untouched (default 4; 0: a cold client)
#   --prelude S              restart: seconds of warm-up load before second 0 (default 20: the
#                            CPU job is still warming up its JIT at 5-10 s, see performance.md)
#   --restart-at S           restart: the second of the restart (default 5)
#   --peers "..."            burst: prefork c jdk vthreads (default all); restart: prefork only
#   --prefork-args "..."     extra options for `serve` (default none: its recommended defaults)
#   --java PATH / --java25 PATH / --out DIR / --append      as for run.sh
# Writes DIR/timeline-W-PEER-rN.tsv (one line a second) and a line per round to DIR/results.tsv:
# workload peer conns round req/s p50 p99 errors note (the note: burst plateau=,ramp_s=,
# peak_children=; restart steady=,after=,after_pct=,dip_pct=).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
WORKLOAD=""
ROUNDS=3
CONNS=""
DURATION=20
IDLE=3
TAIL=8
CLIENT_WARM_UP=4
PRELUDE=20
RESTART_AT=5
PEERS=""
OUT=""
APPEND=0
while [ $# -gt 0 ]; do
  case "$1" in
    --workload) WORKLOAD=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --duration) DURATION=$2; shift 2 ;;
    --idle) IDLE=$2; shift 2 ;;
    --tail) TAIL=$2; shift 2 ;;
    --client-warm-up) CLIENT_WARM_UP=$2; shift 2 ;;
    --prelude) PRELUDE=$2; shift 2 ;;
    --restart-at) RESTART_AT=$2; shift 2 ;;
    --peers) PEERS=$2; shift 2 ;;
    --prefork-args) PREFORK_ARGS=$2; shift 2 ;;
    --java) JAVA=$2; shift 2 ;;
    --java25) JAVA25=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --append) APPEND=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "timeline.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$WORKLOAD" in
  burst) CONNS=${CONNS:-200} ;;
  restart) CONNS=${CONNS:-50} ;;
  *) echo "timeline.sh: --workload is burst or restart" >&2; exit 2 ;;
esac
OUT=${OUT:-$(mktemp -d /tmp/prefork-timeline.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# shellcheck source=peers.sh
. "$ROOT/benchmarks/load/peers.sh"
check_jars timeline.sh
JDK_THREADS=$CONNS     # burst: a thread per connection, as for wait

available=""
for p in ${PEERS:-$ALL_PEERS}; do
  if peer_runs "$p" "$WORKLOAD" timeline.sh; then available="$available $p"
  elif [ -n "$PEERS" ]; then echo "timeline.sh: $p does not run $WORKLOAD here: left out" >&2; fi
done
read -r -a RUN <<<"$available"
[ ${#RUN[@]} -gt 0 ] || { echo "timeline.sh: no peer to run" >&2; exit 1; }

# The traps write to the script's own stderr (fd 9), not to the file of the command in progress.
exec 9>&2
trap 'stop_all 2>&9' EXIT
trap 'echo "timeline.sh: interrupted: stopping the peers" >&9; stop_all 2>&9; exit 130' INT TERM

load_args() { # peer -> TimelineLoad's phase options
  case "$WORKLOAD" in
    burst)
      local tail=0
      case "$1" in prefork|c) tail=$TAIL ;; esac           # a pool that can shrink back
      # The client warms its own JIT first, against a server inside its JVM: otherwise its own
      # warm-up (it spends more CPU than the server at c=200) is measured as the server's.
      echo "--client-warm-up $CLIENT_WARM_UP --duration $DURATION --prelude 1 --prelude-conns 4 --idle $IDLE --tail $tail" ;;
    restart)
      echo "--duration $DURATION --prelude $PRELUDE --restart-at $RESTART_AT" ;;
  esac
}

echo "timeline run: workload $WORKLOAD ($(job_of "$WORKLOAD") job), c=$CONNS, $ROUNDS rounds, peers: ${RUN[*]}"
echo "output: $OUT"
[ "$APPEND" = 1 ] || : >"$OUT/results.tsv"
n=${#RUN[@]}
for r in $(seq 1 "$ROUNDS"); do
  for i in $(seq 0 $((n - 1))); do
    p=${RUN[$(((i + r - 1) % n))]}
    if ! start_peer "$p" "$WORKLOAD" "r$r"; then
      echo "  $p round $r: did not start; left out of this round" >&2
      stop_peer "$p"
      continue
    fi
    shm=()
    [ "$p" = prefork ] && shm=(--shm-key "$PREFORK_KEY")
    base="$OUT/timeline-$WORKLOAD-$p-r$r"
    # shellcheck disable=SC2046
    in_background "$JAVA" "${TOOL_JVM[@]}" -cp "$BENCH_JAR" io.prefork.bench.load.TimelineLoad \
      --port "${PORT[$p]}" --conns "$CONNS" $(load_args "$p") --server-pid "${PID[$p]}" "${shm[@]}" \
      --out "$base.tsv" >"$base.out" 2>&1 || echo "timeline.sh: TimelineLoad failed for $p; see $base.out" >&2
    stop_peer "$p"
    total=$(awk -F'\t' '$1 == "TOTAL"' "$base.out")
    if [ -z "$total" ]; then
      echo "  $p round $r: no result (see $base.out)"
      continue
    fi
    IFS=$'\t' read -r _ rps p50 p99 errs note <<<"$total"
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$WORKLOAD" "$p" "$CONNS" "$r" "$rps" "$p50" "$p99" "$errs" "$note" >>"$OUT/results.tsv"
    printf '  %-8s c=%-4s round %s: %10s req/s  p50 %8s ms  p99 %8s ms  errors %s  %s\n' "$p" "$CONNS" "$r" "$rps" "$p50" "$p99" "$errs" "$note"
  done
done
stop_all
