#!/usr/bin/env bash
# The workload suite in one command: every workload against every peer that runs it, in the same
# sitting, then one summary table (Markdown, medians, ratios against prefork) and one chart (SVG).
# See docs/performance.md ("Workload suite").
#
#   benchmarks/load/suite.sh            # full: 3 rounds, about 12-13 minutes on a 2-core VM
#   benchmarks/load/suite.sh --quick    # 1 round, shorter runs: about 3-4 minutes
#
# Workloads (wrk, run.sh):   hello     HelloHttpJob, one request per connection, c=50 and c=200
#                            hello-ka  HelloKeepAliveJob, HTTP/1.1 keep-alive, c=50 and c=200
#                            wait      WaitJob (10 ms, then hello), one request per connection, c=200
#                            cpu       CpuJob (~0.2 ms of Java work), one request per connection, c=50;
#                                      each peer warms up 10 s first (quick: 4 s), the others 2 s
#                                      (quick: 1 s): the JIT's steady state, reached later by two JVMs
# (TimelineLoad, timeline.sh): burst   idle server, then 200 connections of the wait job at once
#                            restart   the cpu job at c=50, `ctl restart` after 20 s of warm-up and 5 s more
#
# Options:
#   --quick                  1 round; wrk 3 s (1 s warm-up); burst 12 s; restart 15 s
#   --rounds N               rounds (default 3; --quick 1)
#   --workloads "..."        a subset, in this order (default: hello hello-ka wait cpu burst restart)
#   --peers "..."            a subset of: prefork c jdk vthreads netty nginx (default: every peer
#                            that runs the workload here)
#   --prefork-args "..."     extra options for `serve` (default none: its recommended defaults;
#                            hello-ka alone gets --threads 25, a worker per connection, as in run.sh)
#   --java PATH / --java25 PATH   as for run.sh
#   --out DIR                the run's directory (default: a new /tmp/prefork-suite.XXXXXX)
#   --build                  (re)build the jars first (mvn -B -q -DskipTests package); they are
#                            built anyway when missing
#   --docs                   also copy the chart to docs/img/workloads.svg (the table to paste
#                            into docs/performance.md is DIR/summary.md)
#
# Loopback only; every process and shm segment it starts is stopped and removed at the end, on
# Ctrl-C and on failure. Needs wrk (apt-get install wrk); nginx-light and the C original's
# folder, make and gcc for those peers; Temurin 25 (or any JDK 21+) for the virtual threads.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
QUICK=0
ROUNDS=""
WORKLOADS="hello hello-ka wait cpu burst restart"
PASS=()          # options passed on to run.sh and timeline.sh
OUT=""
BUILD=0
DOCS=0
while [ $# -gt 0 ]; do
  case "$1" in
    --quick) QUICK=1; shift ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --workloads) WORKLOADS=$2; shift 2 ;;
    --peers|--prefork-args|--java|--java25) PASS+=("$1" "$2"); shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --build) BUILD=1; shift ;;
    --docs) DOCS=1; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "suite.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for w in $WORKLOADS; do
  case "$w" in hello|hello-ka|wait|cpu|burst|restart) ;;
    *) echo "suite.sh: unknown workload $w" >&2; exit 2 ;; esac
done
if [ "$QUICK" = 1 ]; then
  ROUNDS=${ROUNDS:-1}; DUR=3s; WARM=1s; CPU_WARM=4s; BURST=(--duration 12 --idle 2 --tail 4); RESTART=(--duration 15 --prelude 3)
else
  ROUNDS=${ROUNDS:-3}; DUR=4s; WARM=2s; CPU_WARM=10s; BURST=(--duration 20 --idle 2 --tail 6); RESTART=(--duration 20 --prelude 20)
fi
command -v wrk >/dev/null || { echo "suite.sh: wrk is not installed; get it with: apt-get install wrk" >&2; exit 1; }

if [ "$BUILD" = 1 ] || [ ! -f "$ROOT/prefork-examples/target/prefork-examples.jar" ] ||
   [ ! -f "$ROOT/benchmarks/target/benchmarks.jar" ]; then
  echo "building the jars (mvn -B -q -DskipTests package) ..."
  (cd "$ROOT" && mvn -B -q -DskipTests package)
fi
OUT=${OUT:-$(mktemp -d /tmp/prefork-suite.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
: >"$OUT/results.tsv"

# What was measured: the report's title and the doc's label.
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
branch=$(git -C "$ROOT" rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
dirty=""
git -C "$ROOT" diff --quiet HEAD -- 2>/dev/null || dirty="+changes"
JAVA_BIN=java
JAVA25_BIN=/usr/lib/jvm/temurin-25-jdk-amd64/bin/java
for ((i = 0; i < ${#PASS[@]}; i += 2)); do
  case "${PASS[$i]}" in --java) JAVA_BIN=${PASS[$((i + 1))]} ;; --java25) JAVA25_BIN=${PASS[$((i + 1))]} ;; esac
done
{
  echo "date=$(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "mode=$([ "$QUICK" = 1 ] && echo quick || echo full)"
  echo "rounds=$ROUNDS"
  echo "build=$branch@$commit$dirty"
  echo "java=java $("$JAVA_BIN" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')"
  echo "java25=vthreads on java $("$JAVA25_BIN" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}' || true)"
  echo "host=$(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"
} >"$OUT/build.txt"

CHILD=""
on_signal() {
  echo "suite.sh: interrupted" >&2
  if [ -n "$CHILD" ]; then kill -TERM "$CHILD" 2>/dev/null; wait "$CHILD" 2>/dev/null; fi
  exit 130
}
trap on_signal INT TERM
step() { # the sub-runner in the background, so that a signal reaches it at once
  "$@" &
  CHILD=$!
  local rc=0
  wait "$CHILD" || rc=$?
  CHILD=""
  return $rc
}

start=$(date +%s)
echo "workload suite: $([ "$QUICK" = 1 ] && echo quick || echo full), $ROUNDS round(s), workloads: $WORKLOADS"
echo "output: $OUT"
failed=""
for w in $WORKLOADS; do
  echo
  echo "=== $w ($(( $(date +%s) - start )) s in)"
  echo "load_$w=$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/build.txt"   # how busy the machine was
  case "$w" in
    hello|hello-ka) conns="50 200" ;;
    cpu) conns=50 ;;
    wait) conns=200 ;;
  esac
  case "$w" in
    hello|hello-ka|wait|cpu)
      warm=$WARM
      [ "$w" = cpu ] && warm=$CPU_WARM
      step "$ROOT/benchmarks/load/run.sh" --workload "$w" --conns "$conns" --rounds "$ROUNDS" \
        --duration "$DUR" --warmup "$warm" --out "$OUT" --append "${PASS[@]}" ||
        failed="$failed $w" ;;
    burst)
      step "$ROOT/benchmarks/load/timeline.sh" --workload burst --rounds "$ROUNDS" "${BURST[@]}" \
        --out "$OUT" --append "${PASS[@]}" || failed="$failed $w" ;;
    restart)
      step "$ROOT/benchmarks/load/timeline.sh" --workload restart --rounds "$ROUNDS" "${RESTART[@]}" \
        --out "$OUT" --append "${PASS[@]}" || failed="$failed $w" ;;
  esac
done
echo
echo "=== report ($(( $(date +%s) - start )) s in)"
echo "load_end=$(cut -d' ' -f1 /proc/loadavg)" >>"$OUT/build.txt"
java -cp "$ROOT/benchmarks/target/benchmarks.jar" io.prefork.bench.load.SuiteReport "$OUT" | tee "$OUT/summary.txt"
if [ "$DOCS" = 1 ]; then
  mkdir -p "$ROOT/docs/img"
  cp "$OUT/workloads.svg" "$ROOT/docs/img/workloads.svg"
  echo "chart copied to docs/img/workloads.svg; the table for docs/performance.md: $OUT/summary.md"
fi
kb=${LOAD_KEY_BASE:-0x7e5f0000}
left=$(ipcs -m | awk -v a="$(printf '0x%08x' $((kb + 1)))" -v b="$(printf '0x%08x' $((kb + 2)))" '$1 == a || $1 == b' | wc -l)
echo "done in $(( $(date +%s) - start )) s; shm segments of this run left: $left"
if [ -n "$failed" ]; then
  echo "suite.sh: these workloads failed:$failed (see the logs in $OUT)" >&2
  exit 1
fi
