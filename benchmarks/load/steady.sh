#!/usr/bin/env bash
# A steady load for 60 s after the ramp: how often the pool changes size (the workloads issue's
# target: at most 2 spawns and retirements in all). `serve` with its defaults (plus
# --prefork-args), wrk at a fixed concurrency; the pool's changes are the master's "pool grew" and
# "pool retired" log lines, counted during the ramp and during the steady window apart.
#
#   benchmarks/load/steady.sh [--job wait|cpu|hello] [--connections N] [--ramp S] [--steady S]
#                             [--prefork-args "..."] [--port N] [--shm-key KEY]
#
# Loopback only; the server is stopped and its segment removed on every exit.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
JAR=${PREFORK_JAR:-$ROOT/prefork-examples/target/prefork-examples.jar}
JOB=wait CONNS=200 RAMP=10 STEADY=60 ARGS="" PORT=19190 KEY=0x5e7ad1
while [ $# -gt 0 ]; do
  case "$1" in
    --job) JOB=$2; shift 2 ;;
    --connections) CONNS=$2; shift 2 ;;
    --ramp) RAMP=$2; shift 2 ;;
    --steady) STEADY=$2; shift 2 ;;
    --prefork-args) ARGS=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --shm-key) KEY=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "steady.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
command -v wrk >/dev/null || { echo "steady.sh: needs wrk (apt-get install wrk)" >&2; exit 1; }
[ -f "$JAR" ] || { echo "steady.sh: no $JAR: build it (mvn -B -DskipTests package)" >&2; exit 1; }
OUT=$(mktemp -d /tmp/prefork-steady.XXXXXX)
SERVE=""
cleanup() {
  if [ -n "$SERVE" ] && kill -0 "$SERVE" 2>/dev/null; then
    kill -TERM "$SERVE" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$SERVE" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVE" 2>/dev/null || true
  fi
  ipcrm -M "$KEY" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# shellcheck disable=SC2086
java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xms8m -Xmx128m -jar "$JAR" serve --bind 127.0.0.1 \
  --port "$PORT" --shm-key "$KEY" --job "$JOB" $ARGS >"$OUT/serve.log" 2>&1 &
SERVE=$!
deadline=$((SECONDS + 60))
until grep -qs "ready:" "$OUT/serve.log"; do
  kill -0 "$SERVE" 2>/dev/null || { echo "steady.sh: serve ended; see $OUT/serve.log" >&2; exit 1; }
  [ $SECONDS -lt $deadline ] || { echo "steady.sh: serve not ready in 60 s; see $OUT/serve.log" >&2; exit 1; }
  sleep 0.2
done
changes() { grep -cE "pool (grew|retired)" "$OUT/serve.log" || true; }
held() { grep -c "pool held" "$OUT/serve.log" || true; }
before=$(changes)
wrk -t2 -c"$CONNS" -d"$((RAMP + STEADY))s" --timeout 5s "http://127.0.0.1:$PORT/" >"$OUT/wrk.txt" 2>&1 &
WRK=$!
sleep "$RAMP"
ramp=$(( $(changes) - before ))
at_steady=$(changes)
wait "$WRK" || true
steady=$(( $(changes) - at_steady ))
children=$(java -jar "$JAR" ctl --shm-key "$KEY" status --json | grep -o '"childCount":[0-9]*' | cut -d: -f2)
echo "job $JOB c=$CONNS, serve ${ARGS:-(defaults)}: ramp ${RAMP}s: $ramp pool changes; steady ${STEADY}s: $steady pool changes; $children children at the end; $(held) 'held' log lines"
grep -E "Requests/sec|Socket errors|Non-2xx" "$OUT/wrk.txt" | sed 's/^ */  wrk: /'
grep -E "pool (grew|retired|held)" "$OUT/serve.log" | sed 's/^/  /' | tail -12
echo "files: $OUT"
