#!/usr/bin/env bash
# The soak run (docs/reliability.md, "Soak run"); not part of CI. For --minutes it runs two
# prefork servers of the example daemon on 127.0.0.1, each with serve's defaults plus
# --max-calls 1000 (a child is recycled every 1,000 connections): one with --job hello, one with
# --job wait (a server runs one job; the wait job sleeps 10 ms per request). Against both:
#
#   load   io.prefork.bench.soak.SoakLoad: hello (20 connections, closed loop) and wait (50) clients
#          that must get every answer; abusive ones that the server must cut: slow (a byte every
#          100 ms), silent (send nothing: the 10 s read timeout cuts them), garbage (random bytes),
#          never-read (a request whose answer is never read, the socket held 15 s)
#   chaos  on each server: `ctl restart` every 10 s; every 5 s a random child killed with SIGKILL:
#          a child JVM whose /proc/PID/status PPid is the master, frozen (SIGSTOP), then looked up
#          in `ctl status --json` read while it is frozen (a pid not in the table is let go), its
#          BUSY slots and the connections it holds counted, and killed: only the connections it
#          held may fail. The wait server's chaos runs 2.5 s after the hello server's.
#
# It reports requests and failures per client kind, the outcomes of the abusive clients, every
# kill with the BUSY slots of its child, the RSS and descriptors of masters and children (at the
# start of the load, every 10 s, at its end), and what was left behind after the stop (processes,
# shm segments). Its last line:
#
#   soak: requests N errors E (allowed A by killed busy children) rss master X->Y MB fds X->Y ...
#
# Exit 0 only if E <= A, every failure was in flight at a kill of its server (the last one before
# it ended) and no kill cost more requests than its child held connections, both serves and the
# load exited 0, and no process or segment was left behind.
#
#   benchmarks/soak/soak.sh [--minutes 10] [--out DIR]
#
# Options:
#   --minutes M          length of the load and the chaos (default 10; fractions: --seconds)
#   --seconds S          the same in seconds (development runs)
#   --out DIR            where everything goes (default: a new /tmp/prefork-soak.XXXXXX)
#   --port-base P        the hello server listens on P, the wait server on P+1 (default 19480)
#   --key-base K         their shm keys are K+1 and K+2 (default 0x7e5a0000)
#   --kill-every S       seconds between kills on each server (default 5; 0: none)
#   --restart-every S    seconds between restarts of each server (default 10; 0: none)
#   --max-calls N        serve --max-calls (default 1000)
#   --serve-args "..."   more options for both `serve`s
#   --load-args "..."    more options for SoakLoad (--hello N --wait N --slow N --silent N
#                        --garbage N --never-read N --hold-ms MS --timeout-ms MS)
#   --java PATH          the java to run everything with (default: java on the PATH)
# Needs the built jars: mvn -B -DskipTests package (from the repository's root).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SECONDS_TOTAL=600
OUT=""
PORT_BASE=19480
KEY_BASE=0x7e5a0000
KILL_EVERY=5
RESTART_EVERY=10
MAX_CALLS=1000
SERVE_ARGS=""
LOAD_ARGS=""
JAVA=${JAVA:-java}
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) SECONDS_TOTAL=$(awk -v m="$2" 'BEGIN { printf "%d", m * 60 }'); shift 2 ;;
    --seconds) SECONDS_TOTAL=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --port-base) PORT_BASE=$2; shift 2 ;;
    --key-base) KEY_BASE=$2; shift 2 ;;
    --kill-every) KILL_EVERY=$2; shift 2 ;;
    --restart-every) RESTART_EVERY=$2; shift 2 ;;
    --max-calls) MAX_CALLS=$2; shift 2 ;;
    --serve-args) SERVE_ARGS=$2; shift 2 ;;
    --load-args) LOAD_ARGS=$2; shift 2 ;;
    --java) JAVA=$2; shift 2 ;;
    -h|--help) sed -n '2,43p' "$0"; exit 0 ;;
    *) echo "soak.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ! [ "$SECONDS_TOTAL" -ge 10 ] 2>/dev/null || [ "$SECONDS_TOTAL" -gt 3600 ]; then
  echo "soak.sh: the run is 10 s to 60 minutes" >&2; exit 2
fi

EXAMPLES_JAR=$ROOT/prefork-examples/target/prefork-examples.jar
BENCH_JAR=$ROOT/benchmarks/target/benchmarks.jar
for jar in "$EXAMPLES_JAR" "$BENCH_JAR"; do
  [ -f "$jar" ] || { echo "soak.sh: $jar is missing; build it with: mvn -B -DskipTests package" >&2; exit 1; }
done
OUT=${OUT:-$(mktemp -d /tmp/prefork-soak.XXXXXX)}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)

SERVERS=(hello wait)
declare -A PORT=([hello]=$PORT_BASE [wait]=$((PORT_BASE + 1)))
declare -A KEY=([hello]=$(printf '0x%08x' $((KEY_BASE + 1))) [wait]=$(printf '0x%08x' $((KEY_BASE + 2))))
declare -A OFFSET_MS=([hello]=0 [wait]=2500)   # the wait server's chaos runs 2.5 s later
declare -A MASTER=()
declare -A STOPPED=()   # masters seen to exit (waited for): never signalled again
LOAD_PID=""
LOOP_PIDS=()
# A JVM that starts fast for ctl (it runs every few seconds on a loaded machine), at a higher
# priority than the load, so that the chaos keeps its schedule and a frozen child stays frozen for
# as short a time as possible (root only; otherwise at the normal priority).
CTL_JVM=(-XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xss512k -XX:-UsePerfData)
CTL_NICE=()
if nice -n -10 true 2>/dev/null && [ "$(nice -n -10 nice)" -lt "$(nice)" ]; then CTL_NICE=(nice -n -10); fi

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }
log() { echo "soak: $*" >&2; }

ctl() { # key args...
  local key=$1
  shift
  "${CTL_NICE[@]}" "$JAVA" "${CTL_JVM[@]}" -jar "$EXAMPLES_JAR" ctl --shm-key "$key" "$@"
}

ppid_of() { awk '/^PPid:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
rss_kb_of() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
threads_of() { awk '/^Threads:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true; }
# The sockets (by inode) a process has open.
sockets_of() {
  local f l
  for f in /proc/"$1"/fd/*; do
    l=$(readlink "$f" 2>/dev/null) || continue
    case "$l" in socket:*) echo "$l" ;; esac
  done | sort -u
}
# Connections a (frozen) child holds: its sockets that its master does not have (the listening
# socket, inherited, is the master's too). More than its BUSY slots when a worker had accepted a
# connection but not yet marked its slot busy at the instant of the SIGSTOP.
held_by() { comm -23 <(sockets_of "$1") <(sockets_of "$2") | wc -l; }
fds_of() { local n; n=$(ls "/proc/$1/fd" 2>/dev/null | wc -l) || true; echo "$n"; }

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
shm_present() { ipcs -m | awk -v k="$1" '$1 == k { f = 1 } END { exit !f }'; }
shm_unattached() { ipcs -m | awk -v k="$1" '$1 == k && $6 == 0 { f = 1 } END { exit !f }'; }
# Processes of a server's children: ChildMain with the server's key on its command line.
children_by_key() { pgrep -f "io.prefork.core.ChildMain $1 " || true; }

# Ends a process we started and every process under it, by pid: frozen first, so that it starts
# nothing new meanwhile (a chaos loop between two commands).
kill_tree() { # signal pid
  local c kids
  kill -STOP "$2" 2>/dev/null || return 0
  kids=$(pgrep -P "$2" 2>/dev/null || true)
  for c in $kids; do kill_tree "$1" "$c"; done
  kill "-$1" "$2" 2>/dev/null || true
  kill -CONT "$2" 2>/dev/null || true
}

# A child frozen by a kill loop is in $OUT/frozen-SERVER until it is killed: the clean-up kills it.
kill_frozen() {
  local s pid
  for s in "${SERVERS[@]}"; do
    [ -f "$OUT/frozen-$s" ] || continue
    pid=$(cat "$OUT/frozen-$s")
    if [ -n "${MASTER[$s]:-}" ] && [ "$(ppid_of "$pid")" = "${MASTER[$s]}" ]; then
      kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$OUT/frozen-$s"
  done
}

stop_server() { # server; wait-down via SIGTERM, then force
  local s=$1 pid=${MASTER[$1]:-} i kids k
  [ -n "$pid" ] && [ -z "${STOPPED[$1]:-}" ] || return 0
  kids=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ' || true)
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 1 450); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "the $s master (pid $pid) did not stop within 45 s: killing it and its children"
    for k in $(pgrep -P "$pid" 2>/dev/null || true); do kill -KILL "$k" 2>/dev/null || true; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  STOPPED[$s]=1
  for k in $kids; do                          # children outlive a killed master by < 1 s
    for i in $(seq 1 30); do kill -0 "$k" 2>/dev/null || continue 2; sleep 0.1; done
    [ -n "$(ppid_of "$k")" ] && grep -q ChildMain "/proc/$k/cmdline" 2>/dev/null &&
      kill -KILL "$k" 2>/dev/null || true
  done
  if shm_unattached "${KEY[$s]}"; then ipcrm -M "${KEY[$s]}" 2>/dev/null || true; fi
}

CLEANED=0
cleanup() {
  local -
  set +e
  [ "$CLEANED" = 1 ] && return 0
  CLEANED=1
  local p s
  for p in "${LOOP_PIDS[@]}"; do kill_tree TERM "$p"; done
  for p in "${LOOP_PIDS[@]}"; do wait "$p" 2>/dev/null; done
  kill_frozen
  if [ -n "$LOAD_PID" ]; then kill_tree TERM "$LOAD_PID"; wait "$LOAD_PID" 2>/dev/null; LOAD_PID=""; fi
  for s in "${SERVERS[@]}"; do stop_server "$s"; done
  return 0
}
on_signal() {
  local left
  log "interrupted: stopping everything"
  cleanup
  left=$(check_leftovers)
  if [ -n "$left" ]; then log "left behind: $left"; else log "stopped; nothing left behind"; fi
  exit 130
}
trap cleanup EXIT
trap on_signal INT TERM HUP

# Writes what is left of this run (processes, segments) to leftovers.txt; prints it.
check_leftovers() {
  local s pid left=()
  for s in "${SERVERS[@]}"; do
    pid=${MASTER[$s]:-}
    if [ -n "$pid" ] && [ -z "${STOPPED[$s]:-}" ] && kill -0 "$pid" 2>/dev/null; then left+=("process: $s master pid $pid"); fi
    for pid in $(children_by_key "${KEY[$s]}"); do
      left+=("process: $s child pid $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | cut -c1-120)")
    done
    if shm_present "${KEY[$s]}"; then left+=("shm: $(ipcs -m | awk -v k="${KEY[$s]}" '$1 == k')"); fi
  done
  if [ -n "$LOAD_PID" ] && kill -0 "$LOAD_PID" 2>/dev/null; then left+=("process: SoakLoad pid $LOAD_PID"); fi
  for pid in "${LOOP_PIDS[@]}"; do
    if kill -0 "$pid" 2>/dev/null; then left+=("process: chaos loop pid $pid"); fi
  done
  : >"$OUT/leftovers.txt"
  for s in "${left[@]}"; do echo "$s" >>"$OUT/leftovers.txt"; done
  cat "$OUT/leftovers.txt"
}

for s in "${SERVERS[@]}"; do
  if port_busy "${PORT[$s]}"; then log "port ${PORT[$s]} is in use by another process: use --port-base"; exit 1; fi
  if shm_present "${KEY[$s]}"; then log "shm key ${KEY[$s]} is in use (ipcs -m): use --key-base"; exit 1; fi
done

# ---- the servers -------------------------------------------------------------------------------
# One after the other: two masters of the same jar that start together both train the children's
# class-data archive on the same class-list file, and the one that loses runs without the archive
# for the rest of its life (docs/reliability.md, "Soak run"). So the second starts once the first's
# children map the archive, or once the first has built it (or failed to).
archive_settled() { # server
  local c cmd
  grep -q 'class-data archive' "$OUT/serve-$1.log" 2>/dev/null && return 0
  for c in $(pgrep -P "${MASTER[$1]}" 2>/dev/null || true); do
    cmd=$(tr '\0' ' ' <"/proc/$c/cmdline" 2>/dev/null || true)
    case "$cmd" in
      *DumpLoadedClassList*) return 1 ;;            # training: the archive is being made
    esac
  done
  return 0                                          # mapped, or no archive at all (--class-data-dir none)
}
for s in "${SERVERS[@]}"; do
  # shellcheck disable=SC2086
  "$JAVA" -jar "$EXAMPLES_JAR" serve --bind 127.0.0.1 --port "${PORT[$s]}" --shm-key "${KEY[$s]}" \
    --job "$s" --max-calls "$MAX_CALLS" $SERVE_ARGS >"$OUT/serve-$s.log" 2>&1 &
  MASTER[$s]=$!
  for i in $(seq 1 1200); do
    grep -q '^prefork listening on' "$OUT/serve-$s.log" 2>/dev/null && break
    kill -0 "${MASTER[$s]}" 2>/dev/null || break
    sleep 0.1
  done
  line=$(grep -m1 '^prefork listening on' "$OUT/serve-$s.log" || true)
  if [ -z "$line" ]; then
    log "the $s server did not start; see $OUT/serve-$s.log"; tail -5 "$OUT/serve-$s.log" >&2; exit 1
  fi
  pid=$(sed -n 's/.*master pid \([0-9]*\).*/\1/p' <<<"$line")
  [ "$pid" = "${MASTER[$s]}" ] || { log "the $s server's master is pid $pid, not ${MASTER[$s]}"; exit 1; }
  log "$line"
  for i in $(seq 1 900); do archive_settled "$s" && break; sleep 0.1; done
done

# A class-data archive for ctl's JVM: it starts every few seconds, on a loaded machine.
if "$JAVA" -XX:ArchiveClassesAtExit="$OUT/ctl.jsa" "${CTL_JVM[@]}" -jar "$EXAMPLES_JAR" \
     ctl --shm-key "${KEY[hello]}" status --json >/dev/null 2>"$OUT/ctl-archive.log" && [ -f "$OUT/ctl.jsa" ]; then
  CTL_JVM+=(-XX:SharedArchiveFile="$OUT/ctl.jsa")
fi

# ---- samples of masters and children: procs.tsv -------------------------------------------------
echo -e "ms\tphase\tserver\trole\tpid\trss_kb\tfds\tthreads" >"$OUT/procs.tsv"
sample() { # phase
  local s m c t
  t=$(now_ms)
  for s in "${SERVERS[@]}"; do
    m=${MASTER[$s]}
    echo -e "$t\t$1\t$s\tmaster\t$m\t$(rss_kb_of "$m")\t$(fds_of "$m")\t$(threads_of "$m")" >>"$OUT/procs.tsv"
    for c in $(pgrep -P "$m" 2>/dev/null || true); do
      echo -e "$t\t$1\t$s\tchild\t$c\t$(rss_kb_of "$c")\t$(fds_of "$c")\t$(threads_of "$c")" >>"$OUT/procs.tsv"
    done
  done
}

START_MS=$(( $(now_ms) + 2000 ))        # the load and the chaos begin together
END_MS=$(( START_MS + SECONDS_TOTAL * 1000 ))

sleep_until() { # epoch ms
  local d=$(( $1 - $(now_ms) ))
  if [ "$d" -gt 0 ]; then sleep "$(printf '%d.%03d' $((d / 1000)) $((d % 1000)))"; fi
}

# ---- the chaos ---------------------------------------------------------------------------------
echo -e "server\tstop_ms\tkill_ms\tpid\tbusy\tslots\theld\tresult" >"$OUT/kills.tsv"
echo -e "server\tms\trc\ttook_ms\toutput" >"$OUT/restarts.tsv"

kill_loop() { # server
  set +e                                         # a loop in its own subshell: it never stops early
  local s=$1 key=${KEY[$1]} master=${MASTER[$1]} next status p cand n pick stop_ms kill_ms busy slots held
  next=$(( START_MS + ${OFFSET_MS[$s]} + KILL_EVERY * 1000 ))
  while [ "$next" -lt "$END_MS" ]; do
    sleep_until "$next"
    next=$(( next + KILL_EVERY * 1000 ))
    while [ "$next" -le "$(now_ms)" ]; do next=$(( next + KILL_EVERY * 1000 )); done  # behind: skip
    # A child JVM of this master (the kernel's PPid), frozen, then found in `ctl status --json`:
    # one ctl per kill, and the table is read while the child can change nothing in it.
    cand=()
    for p in $(pgrep -P "$master" 2>/dev/null); do
      grep -q 'io.prefork.core.ChildMain' "/proc/$p/cmdline" 2>/dev/null && cand+=("$p")
    done
    n=${#cand[@]}
    if [ "$n" -eq 0 ]; then
      echo -e "$s\t$(now_ms)\t\t\t\t\t\tskipped: the master has no child" >>"$OUT/kills.tsv"; continue
    fi
    pick=${cand[$((RANDOM % n))]}
    echo "$pick" >"$OUT/frozen-$s"
    if [ "$(ppid_of "$pick")" != "$master" ] || ! kill -STOP "$pick" 2>/dev/null; then
      rm -f "$OUT/frozen-$s"
      echo -e "$s\t$(now_ms)\t\t$pick\t\t\t\tskipped: gone before SIGSTOP" >>"$OUT/kills.tsv"; continue
    fi
    stop_ms=$(now_ms)
    if ! status=$(ctl "$key" status --json 2>>"$OUT/ctl-errors.log"); then
      kill -CONT "$pick" 2>/dev/null || true; rm -f "$OUT/frozen-$s"
      echo -e "$s\t$stop_ms\t\t$pick\t\t\t\tskipped: ctl status failed" >>"$OUT/kills.tsv"; continue
    fi
    busy=$(grep -o "\"pid\":$pick,\"state\":\"BUSY\"" <<<"$status" | wc -l || true)
    slots=$(grep -o "\"pid\":$pick,\"state\":" <<<"$status" | wc -l || true)
    held=$(held_by "$pick" "$master")
    if [ "$slots" -eq 0 ]; then                       # not (or no longer) in the table: not ours to kill
      kill -CONT "$pick" 2>/dev/null || true; rm -f "$OUT/frozen-$s"
      echo -e "$s\t$stop_ms\t\t$pick\t$busy\t$slots\t$held\tskipped: not in ctl status" >>"$OUT/kills.tsv"; continue
    fi
    if [ "$(ppid_of "$pick")" != "$master" ]; then     # a frozen child can't exit; the master may kill it
      rm -f "$OUT/frozen-$s"
      echo -e "$s\t$stop_ms\t\t$pick\t$busy\t$slots\t$held\tskipped: no longer a child of the master" >>"$OUT/kills.tsv"; continue
    fi
    kill -KILL "$pick" 2>/dev/null || true
    kill_ms=$(now_ms)
    rm -f "$OUT/frozen-$s"
    echo -e "$s\t$stop_ms\t$kill_ms\t$pick\t$busy\t$slots\t$held\tkilled" >>"$OUT/kills.tsv"
  done
}

restart_loop() { # server
  set +e
  local s=$1 next t0 out rc
  next=$(( START_MS + ${OFFSET_MS[$s]} + RESTART_EVERY * 1000 ))
  while [ "$next" -lt "$END_MS" ]; do
    sleep_until "$next"
    next=$(( next + RESTART_EVERY * 1000 ))
    while [ "$next" -le "$(now_ms)" ]; do next=$(( next + RESTART_EVERY * 1000 )); done
    t0=$(now_ms)
    rc=0
    out=$(ctl "${KEY[$s]}" restart 2>&1) || rc=$?
    out=${out//$'\t'/ }
    echo -e "$s\t$t0\t$rc\t$(( $(now_ms) - t0 ))\t${out//$'\n'/ }" >>"$OUT/restarts.tsv"
  done
}

sample_loop() {
  set +e
  local next=$(( START_MS + 10000 ))
  while [ "$next" -lt "$END_MS" ]; do
    sleep_until "$next"
    next=$(( next + 10000 ))
    sample load
  done
}

sleep_until "$START_MS"
sample start
log "load and chaos for $SECONDS_TOTAL s from $(date -d "@$((START_MS / 1000))" '+%F %T'); out $OUT"
# shellcheck disable=SC2086
"$JAVA" -XX:+UseSerialGC -Xmx256m -cp "$BENCH_JAR" io.prefork.bench.soak.SoakLoad \
  --hello-port "${PORT[hello]}" --wait-port "${PORT[wait]}" --seconds "$SECONDS_TOTAL" \
  --out "$OUT" $LOAD_ARGS >"$OUT/load.log" 2>&1 &
LOAD_PID=$!
for s in "${SERVERS[@]}"; do
  if [ "$KILL_EVERY" -gt 0 ]; then kill_loop "$s" & LOOP_PIDS+=($!); fi
  if [ "$RESTART_EVERY" -gt 0 ]; then restart_loop "$s" & LOOP_PIDS+=($!); fi
done
sample_loop & LOOP_PIDS+=($!)

for p in "${LOOP_PIDS[@]}"; do wait "$p" || true; done
LOOP_PIDS=()
rc=0
wait "$LOAD_PID" || rc=$?
LOAD_PID=""
[ "$rc" = 0 ] || log "SoakLoad exited with status $rc; see $OUT/load.log"
sample end

# ---- the stop, and what is left ----------------------------------------------------------------
for s in "${SERVERS[@]}"; do
  ctl "${KEY[$s]}" status --json >"$OUT/final-status-$s.json" 2>>"$OUT/ctl-errors.log" || true
  ctl "${KEY[$s]}" status >"$OUT/final-status-$s.txt" 2>>"$OUT/ctl-errors.log" || true
done
for s in "${SERVERS[@]}"; do
  ctl "${KEY[$s]}" wdown >>"$OUT/stop.log" 2>&1 || log "ctl wdown of the $s server failed"
done
declare -A SERVE_RC=()
for s in "${SERVERS[@]}"; do
  pid=${MASTER[$s]}
  for i in $(seq 1 600); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    log "the $s master did not stop within 60 s of ctl wdown"
    SERVE_RC[$s]=timeout
  else
    src=0; wait "$pid" || src=$?; SERVE_RC[$s]=$src; STOPPED[$s]=1
  fi
  echo "$s serve exit status: ${SERVE_RC[$s]}" >>"$OUT/stop.log"
done
for i in $(seq 1 50); do                      # children leave within a second of their master
  [ -z "$(children_by_key "${KEY[hello]}")$(children_by_key "${KEY[wait]}")" ] && break
  sleep 0.1
done
LEFT=$(check_leftovers)
{
  echo "# ps after the stop: processes of this run's keys, ports or directory (none expected)"
  ps -eo pid,ppid,stat,etime,args |
    awk -v a="${KEY[hello]}" -v b="${KEY[wait]}" -v c="--port ${PORT[hello]}" -v d="--port ${PORT[wait]}" \
      -v e="$OUT" -v self=$$ -v parent=$PPID 'NR == 1 || ((index($0, a) || index($0, b) || index($0, c) ||
        index($0, d) || index($0, e)) && $1 != self && $1 != parent && !index($0, "awk -v a="))' | cut -c1-200
  echo "# ipcs -m after the stop"
  ipcs -m
} >"$OUT/after-stop.txt"
cleanup                                        # anything still running (only if the stop failed)
trap - EXIT
[ -n "$LEFT" ] && log "left behind: $LEFT"

"$JAVA" -XX:+UseSerialGC -cp "$BENCH_JAR" io.prefork.bench.soak.SoakReport --dir "$OUT" \
  --load-exit "$rc" --serve-exit "hello=${SERVE_RC[hello]},wait=${SERVE_RC[wait]}" \
  --load-average "$(cut -d' ' -f1-3 /proc/loadavg)"
