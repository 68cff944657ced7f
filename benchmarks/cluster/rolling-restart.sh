#!/usr/bin/env bash
# A rolling restart of three prefork servers behind HAProxy, under load, counting what the clients
# saw (docs/scaling.md, "The rolling-restart test"); not part of CI (about 75 s).
#
#   benchmarks/cluster/rolling-restart.sh [--duration 60] [--out DIR]
#
# Three "hosts" on this machine: `serve` (the hello job) on 127.0.0.2, 127.0.0.3 and 127.0.0.4, each
# on port 16905 with its HTTP endpoint on port 19405 of the same address, its own shm key
# (KEY_BASE+1..3) and class-data directory, --min 2 --max 3 --threads 8 --drain-delay 5. HAProxy on
# 127.0.0.1:18080 balances them (leastconn, maxconn 24 = 3 x 8) and checks each every second:
# the master's /readyz, then a request through a worker (fall 2, rise 2). wrk runs through HAProxy
# for --duration s; under that load:
#   1. `ctl restart` app1, app2, app3 in turn, each until its restart is complete (every child of
#      the new generation), its /readyz answers 200 and HAProxy has it UP;
#   2. `ctl wdown` app2: its /readyz turns 503, HAProxy takes it DOWN within the drain delay, the
#      master stops (its shm segment gone); a new master on the same address, port and key; HAProxy
#      has it UP again;
#   3. the rest of the load; then every master stopped by wait-down.
# It prints a timeline, HAProxy's counters and server state changes, and wrk's totals. Its last
# line is
#   requests N errors E
# N: wrk's requests; E: what clients saw go wrong, wrk's socket errors (connect, read, write,
# timeout) plus its non-2xx/3xx responses. Requests that HAProxy retried or redispatched and that
# then succeeded are not errors (the client got its 200): they are printed with HAProxy's counters.
# Exit status: 0 when the whole sequence ran and E is 0; 1 otherwise (the reason is printed);
# 2 on a usage error.
#
# Options:
#   --duration S      seconds of wrk load (default 60); the sequence must end --settle s before it
#   --settle S        seconds of load before the first restart, and at least after the last step
#                     (default 5)
#   --conns N         wrk connections (default 50)
#   --wrk-threads N   wrk threads (default 2)
#   --timeout S       wrk's request timeout: a slower answer counts as an error (default 2, wrk's)
#   --drain-delay S   serve --drain-delay (default 5; must exceed HAProxy's time to take a server
#                     DOWN, inter + fastinter + the check timeout = 2.25 s here)
#   --retries N       HAProxy's retries (default 3, each on another server: option redispatch 1);
#                     --retries 0 --drain-delay 0 is the negative control, where clients see errors
#   --replace NAME    the server that is waited down and replaced (default app2)
#   --out DIR         logs and configuration go here, and stay (default: a temporary directory,
#                     removed at the end unless the run failed or --keep)
#   --keep            keep the temporary directory of a run that passed
#   --build           (re)build the jar first (mvn -B -q -o -DskipTests package)
#   --java PATH       the JVM for serve and ctl (default: java on the PATH)
# Environment: CLUSTER_PORT (16905), CLUSTER_METRICS_PORT (19405), CLUSTER_LB_PORT (18080),
# CLUSTER_STATS_PORT (18081: HAProxy's stats page, /stats and /stats;csv), CLUSTER_KEY_BASE
# (0x7e5c0000).
#
# Loopback addresses only, no namespaces. Every process it starts (wrk, HAProxy, the masters and
# their children, each master in a process group of its own) is stopped and every shm segment of its
# keys removed at the end, on Ctrl-C and on failure; it then checks that nothing is left. Every wait
# has a deadline. Needs wrk, haproxy (apt-get install wrk haproxy) and curl.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
DURATION=60
SETTLE=5
CONNS=50
WRK_THREADS=2
WRK_TIMEOUT=2
DRAIN=5
RETRIES=3
REPLACE=app2
OUT=""
KEEP=0
BUILD=0
JAVA=${JAVA:-java}
while [ $# -gt 0 ]; do
  case "$1" in
    --duration) DURATION=$2; shift 2 ;;
    --settle) SETTLE=$2; shift 2 ;;
    --conns) CONNS=$2; shift 2 ;;
    --wrk-threads) WRK_THREADS=$2; shift 2 ;;
    --timeout) WRK_TIMEOUT=$2; shift 2 ;;
    --drain-delay) DRAIN=$2; shift 2 ;;
    --retries) RETRIES=$2; shift 2 ;;
    --replace) REPLACE=$2; shift 2 ;;
    --out) OUT=$2; KEEP=1; shift 2 ;;
    --keep) KEEP=1; shift ;;
    --build) BUILD=1; shift ;;
    --java) JAVA=$2; shift 2 ;;
    -h|--help) awk 'NR > 1 && /^#/ {print; next} NR > 1 {exit}' "$0"; exit 0 ;;
    *) echo "rolling-restart.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
for v in DURATION SETTLE CONNS WRK_THREADS WRK_TIMEOUT DRAIN RETRIES; do
  [[ ${!v} =~ ^[0-9]+$ ]] || { echo "rolling-restart.sh: --${v,,} must be a whole number, was ${!v}" >&2; exit 2; }
done
case "$REPLACE" in app1|app2|app3) ;; *) echo "rolling-restart.sh: --replace is app1, app2 or app3" >&2; exit 2 ;; esac
[ "$DURATION" -ge 30 ] || { echo "rolling-restart.sh: --duration must be at least 30 s" >&2; exit 2; }
# HAProxy below: inter 1s, fastinter 250ms, fall 2, timeout check 1s: a server whose /readyz turned
# 503 is DOWN at most 1 + 0.25 + 1 s later. The drain must outlast that, or connections are sent to
# a socket that is closing.
# Less is allowed as a negative control: the run should then count errors.
if [ "$DRAIN" -lt 3 ]; then
  echo "rolling-restart.sh: WARNING: --drain-delay $DRAIN is under HAProxy's 2.25 s to take a server DOWN: expect errors" >&2
fi

for tool in wrk haproxy curl ipcs; do
  command -v "$tool" >/dev/null || [ -x "/usr/sbin/$tool" ] ||
    { echo "rolling-restart.sh: $tool is not installed (apt-get install wrk haproxy curl)" >&2; exit 1; }
done
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
JAR=$ROOT/prefork-examples/target/prefork-examples.jar
CTL_SCRIPT=$ROOT/prefork-examples/src/main/dist/prefork-ctl
if [ "$BUILD" = 1 ] || [ ! -f "$JAR" ]; then
  echo "building the jar (mvn -B -q -o -DskipTests package) ..."
  (cd "$ROOT" && mvn -B -q -o -DskipTests package)
fi
[ -f "$JAR" ] || { echo "rolling-restart.sh: $JAR is missing; build it with: mvn -B -DskipTests package" >&2; exit 1; }

PORT=${CLUSTER_PORT:-16905}
MPORT=${CLUSTER_METRICS_PORT:-19405}
LB_PORT=${CLUSTER_LB_PORT:-18080}
STATS_PORT=${CLUSTER_STATS_PORT:-18081}
KEY_BASE=${CLUSTER_KEY_BASE:-0x7e5c0000}
NAMES=(app1 app2 app3)
declare -A ADDR=([app1]=127.0.0.2 [app2]=127.0.0.3 [app3]=127.0.0.4)
declare -A KEY=()
for i in 1 2 3; do KEY[app$i]=$(printf '0x%08x' $((KEY_BASE + i))); done
declare -A MASTER=()      # name -> the master's pid (also its process group: setsid)
declare -A RUNS=()        # name -> how many masters it had (the replacement is the 2nd)
ALL_MASTERS=()            # every master this run started, for the clean-up
WRK_PID=""
HAPROXY_PID=""
FAILED=""                 # why the run failed, if it did
OK_SO_FAR=1

# ---- time and the timeline ---------------------------------------------------------------------
T0=${EPOCHREALTIME/./}
now_us() { echo "${EPOCHREALTIME/./}"; }
ms_since() { local t=${EPOCHREALTIME/./}; echo $(((t - $1) / 1000)); }
since() { local t=${EPOCHREALTIME/./}; printf '%d.%d' $(((t - T0) / 1000000)) $(((t - T0) % 1000000 / 100000)); }
clock() { local t=$EPOCHREALTIME f; f=${t#*.}; printf '%(%H:%M:%S)T.%s' "${t%.*}" "${f:0:3}"; }
ev() { # the timeline: the wall clock, seconds since the script started, what happened
  local line
  line=$(printf '%s  t=%5ss  %s' "$(clock)" "$(since)" "$*")
  echo "$line"
  [ -z "$OUT" ] || echo "$line" >>"$OUT/timeline.txt"
}
fail() { FAILED="${FAILED:+$FAILED; }$*"; ev "FAILED: $*"; OK_SO_FAR=0; }

# wait_for WHAT SECONDS CMD...: runs CMD every 0.1 s until it succeeds; false after SECONDS, with a
# message naming WHAT. A background job that must stay alive meanwhile can be named in ALIVE (pid)
# and ALIVE_WHAT.
ALIVE=""
ALIVE_WHAT=""
wait_for() {
  local what=$1 secs=$2
  shift 2
  local deadline=$(( $(now_us) + secs * 1000000 ))
  while :; do
    if "$@"; then return 0; fi
    if [ -n "$ALIVE" ] && ! kill -0 "$ALIVE" 2>/dev/null; then
      fail "$ALIVE_WHAT exited while waiting for $what"; return 1
    fi
    if [ "$(now_us)" -ge "$deadline" ]; then
      fail "timed out after $secs s waiting for $what"; return 1
    fi
    sleep 0.1
  done
}

# ---- probes --------------------------------------------------------------------------------------
port_busy() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
shm_present() { ipcs -m | awk -v k="$1" '$1 == k { f = 1 } END { exit !f }'; }
readyz_code() { curl -s -o /dev/null -m 1 -w '%{http_code}' "http://${ADDR[$1]}:$MPORT/readyz" || true; }
ready() { [ "$(readyz_code "$1")" = 200 ]; }
not_ready() { [ "$(readyz_code "$1")" != 200 ]; }
status_json() { curl -s -m 1 "http://${ADDR[$1]}:$MPORT/status.json" || true; }
# HAProxy's CSV (show stat), one field of a line: lb_field PROXY SERVER FIELD.
lb_csv() { curl -s -m 1 "http://127.0.0.1:$STATS_PORT/stats;csv;norefresh" || true; }
lb_field() {
  lb_csv | awk -F, -v px="$1" -v sv="$2" -v f="$3" '
    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == px && $2 == sv { print $(col[f]); exit }'
}
lb_up() { [ "$(lb_field prefork_http "$1" status)" = UP ] && [ "$(lb_field prefork_http "$1" check_status)" = L7OK ]; }
lb_down() { [ "$(lb_field prefork_http "$1" status)" = DOWN ]; }
master_gone() { ! kill -0 "${MASTER[$1]}" 2>/dev/null; }
# The restart of $1 is complete: generation above $2, RUNNING, every child of that generation.
# Every /readyz answer but 200 during a restart goes to readyz-restarts.txt (000: no answer within
# 1 s), and is counted.
RESTART_POLLS=0
RESTART_NOT_READY=0
restart_done() {
  local j gen state gens r
  RESTART_POLLS=$((RESTART_POLLS + 1))
  r=$(curl -s -m 1 -w ' %{http_code}' "http://${ADDR[$1]}:$MPORT/readyz" | tr -d '\n' || true)
  if [ "${r##* }" != 200 ]; then
    RESTART_NOT_READY=$((RESTART_NOT_READY + 1))
    echo "$(clock) $1 ${r##* } ${r% *}" >>"$OUT/readyz-restarts.txt"
  fi
  j=$(status_json "$1")
  gen=$(sed -n 's/^{"masterPid":[0-9]*,"generation":\([0-9]*\),.*/\1/p' <<<"$j")
  state=$(sed -n 's/^{"masterPid":[0-9]*,"generation":[0-9]*,"state":"\([A-Z_]*\)".*/\1/p' <<<"$j")
  [ -n "$gen" ] && [ "$gen" -gt "$2" ] && [ "$state" = RUNNING ] || return 1
  gens=$(grep -o '"generation":[0-9]*' <<<"$j" | tail -n +2 | sort -u | tr '\n' ' ')
  [ "$gens" = "\"generation\":$gen " ]
}
generation_of() { sed -n 's/^{"masterPid":[0-9]*,"generation":\([0-9]*\),.*/\1/p' <<<"$(status_json "$1")"; }
not_ready_codes() { # name: "(503 x2, 000 x1)" from readyz-restarts.txt (one restart a server)
  [ -f "$OUT/readyz-restarts.txt" ] || return 0
  awk -v n="$1" '$2 == n { c[$3]++ } END { s = ""; for (k in c) s = s (s == "" ? "" : ", ") k " x" c[k]; if (s != "") printf " (%s)", s }' "$OUT/readyz-restarts.txt"
}
children_of() { # "N children (pids), generation G"
  local j
  j=$(status_json "$1")
  printf '%s children, generation %s' "$(sed -n 's/.*"childCount":\([0-9]*\).*/\1/p' <<<"$j")" \
    "$(sed -n 's/^{"masterPid":[0-9]*,"generation":\([0-9]*\),.*/\1/p' <<<"$j")"
}

# The drain as the logs tell it: the master's wait-down start and the drain's end (its children
# asked to go, the socket closed), and HAProxy's DOWN between them. Clocks of one machine.
ms_of_day() { # HH:MM:SS.mmm
  local h m sec ms
  IFS=:. read -r h m sec ms <<<"$1"
  echo $(( ((10#$h * 60 + 10#$m) * 60 + 10#$sec) * 1000 + 10#$ms ))
}
drain_times() { # name
  local log=$OUT/$1-${RUNS[$1]}.log begin end down b e d
  begin=$(grep -m1 'wait-down: not ready any more' "$log" | cut -c1-12)
  end=$(grep -m1 'wait-down: .* finish their connections' "$log" | cut -c1-12)
  down=$(grep -m1 -E "^[0-9-]+T[^ ]* Server prefork_http/$1 is DOWN" "$OUT/haproxy.log" |
    sed -E 's/^[0-9-]+T([0-9:]{8}\.[0-9]{3}).*/\1/')
  if [ -z "$begin" ] || [ -z "$end" ] || [ -z "$down" ]; then
    ev "$1: the drain's times are not all in the logs (wait-down '$begin', drain end '$end', HAProxy DOWN '$down')"
    return 0
  fi
  b=$(ms_of_day "$begin") e=$(ms_of_day "$end") d=$(ms_of_day "$down")
  [ "$e" -ge "$b" ] || e=$((e + 86400000))          # past midnight
  [ "$d" -ge "$b" ] || d=$((d + 86400000))
  ev "$1: per the logs: wait-down at $begin, HAProxy DOWN $((d - b)) ms later, the drain ended (socket closed) $((e - b)) ms after it began"
  if [ "$d" -ge "$e" ] && [ "$DRAIN" -ge 3 ]; then
    fail "HAProxy took $1 DOWN $((d - e)) ms after its drain had ended"; return 1
  fi
}

ctl() { # name args...: the fast ctl wrapper, its class-data archive in this run's directory
  local name=$1
  shift
  XDG_CACHE_HOME=$OUT/cache PREFORK_JAR=$JAR JAVA=$JAVA timeout 20 sh "$CTL_SCRIPT" \
    --shm-key "${KEY[$name]}" "$@"
}

# ---- clean-up ------------------------------------------------------------------------------------
# The process groups of every master this run started (children are in their master's group).
group_alive() { pgrep -g "$1" >/dev/null 2>&1; }
stop_masters() { # wdown|fdown: asks every live master, then kills what is left after a deadline
  local how=$1 name pid t deadline
  for name in "${NAMES[@]}"; do
    pid=${MASTER[$name]:-}
    { [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; } || continue
    ctl "$name" "$how" >>"$OUT/stop.log" 2>&1 || kill -TERM "$pid" 2>/dev/null || true
  done
  if [ "$how" = wdown ]; then t=$((DRAIN + 15)); else t=10; fi
  deadline=$(( $(now_us) + t * 1000000 ))
  for pid in "${ALL_MASTERS[@]}"; do
    while group_alive "$pid" && [ "$(now_us)" -lt "$deadline" ]; do sleep 0.1; done
    if group_alive "$pid"; then
      echo "rolling-restart.sh: process group $pid (a master and its children) still there after $t s of ctl $how: killing it" >&2
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
}
CLEANED=0
cleanup() {
  local -
  set +e
  [ "$CLEANED" = 1 ] && return 0
  CLEANED=1
  local how=${1:-fdown} pid name left=() i
  if [ -n "$WRK_PID" ]; then kill -TERM "$WRK_PID" 2>/dev/null; wait "$WRK_PID" 2>/dev/null; WRK_PID=""; fi
  [ -z "$OUT" ] || stop_masters "$how"
  if [ -n "$HAPROXY_PID" ]; then
    kill -USR1 "$HAPROXY_PID" 2>/dev/null      # soft stop
    for i in $(seq 1 50); do kill -0 "$HAPROXY_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$HAPROXY_PID" 2>/dev/null
    wait "$HAPROXY_PID" 2>/dev/null
  fi
  for name in "${NAMES[@]}"; do                # segments of masters that were killed
    if shm_present "${KEY[$name]}"; then
      echo "rolling-restart.sh: shm key ${KEY[$name]} ($name) left: removing it" >&2
      ipcrm -M "${KEY[$name]}" 2>/dev/null
    fi
  done
  # What is left, checked: none of our processes, none of our segments.
  for pid in "${ALL_MASTERS[@]}"; do group_alive "$pid" && left+=("process group $pid: $(pgrep -g "$pid" | tr '\n' ' ')"); done
  [ -n "$HAPROXY_PID" ] && kill -0 "$HAPROXY_PID" 2>/dev/null && left+=("haproxy pid $HAPROXY_PID")
  for name in "${NAMES[@]}"; do shm_present "${KEY[$name]}" && left+=("shm key ${KEY[$name]}"); done
  if [ ${#left[@]} -gt 0 ]; then
    echo "rolling-restart.sh: LEFT BEHIND: ${left[*]}" >&2
    OK_SO_FAR=0
  fi
  if [ -n "$OUT" ]; then
    if [ "$KEEP" = 1 ] || [ "$OK_SO_FAR" != 1 ]; then
      echo "logs and configuration: $OUT" >&2
    else
      rm -rf "$OUT"
    fi
  fi
  return 0
}
on_signal() {
  echo "rolling-restart.sh: interrupted: stopping everything" >&2
  OK_SO_FAR=0
  cleanup fdown
  exit 130
}
trap 'cleanup fdown' EXIT
trap on_signal INT TERM HUP

# ---- checks before anything starts ---------------------------------------------------------------
busy=""
for name in "${NAMES[@]}"; do
  for p in "$PORT" "$MPORT"; do
    port_busy "${ADDR[$name]}" "$p" && busy="$busy ${ADDR[$name]}:$p"
  done
  if shm_present "${KEY[$name]}"; then
    echo "rolling-restart.sh: shm key ${KEY[$name]} is in use (ipcs -m); set CLUSTER_KEY_BASE" >&2; exit 1
  fi
done
for p in "$LB_PORT" "$STATS_PORT"; do port_busy 127.0.0.1 "$p" && busy="$busy 127.0.0.1:$p"; done
if [ -n "$busy" ]; then
  echo "rolling-restart.sh: already in use by another process:$busy; set CLUSTER_PORT, CLUSTER_METRICS_PORT, CLUSTER_LB_PORT or CLUSTER_STATS_PORT" >&2
  exit 1
fi
if [ -z "$OUT" ]; then OUT=$(mktemp -d /tmp/prefork-cluster.XXXXXX); fi
mkdir -p "$OUT/cache"
OUT=$(cd "$OUT" && pwd)
: >"$OUT/timeline.txt"

# ---- the servers ---------------------------------------------------------------------------------
start_master() { # name: a new master of that host, in a session (and process group) of its own
  local name=$1 n log
  n=$(( ${RUNS[$name]:-0} + 1 ))
  RUNS[$name]=$n
  log=$OUT/$name-$n.log
  mkdir -p "$OUT/cds-$name"
  setsid "$JAVA" -XX:+UseSerialGC -Xmx128m -jar "$JAR" serve --job hello \
    --bind "${ADDR[$name]}" --port "$PORT" --shm-key "${KEY[$name]}" \
    --metrics-bind "${ADDR[$name]}" --metrics-port "$MPORT" \
    --min 2 --max 3 --threads 8 --drain-delay "$DRAIN" \
    --class-data-dir "$OUT/cds-$name" >"$log" 2>&1 &
  MASTER[$name]=$!
  ALL_MASTERS+=("$!")
}
master_listening() { grep -q '^prefork listening on' "$OUT/$1-${RUNS[$1]}.log" 2>/dev/null; }
wait_master_ready() { # name: listening, then /readyz 200
  local name=$1
  ALIVE=${MASTER[$name]} ALIVE_WHAT="the $name master (see $OUT/$name-${RUNS[$name]}.log)"
  local rc=0 pid
  wait_for "$name's master to listen on ${ADDR[$name]}:$PORT" 60 master_listening "$name" || rc=1
  if [ $rc = 0 ]; then
    pid=$(sed -n 's/^prefork listening on .*master pid \([0-9]*\).*/\1/p' "$OUT/$name-${RUNS[$name]}.log" | head -1)
    [ "$pid" = "${MASTER[$name]}" ] || { fail "$name's master is pid $pid, not ${MASTER[$name]} (setsid forked?)"; rc=1; }
  fi
  [ $rc != 0 ] || wait_for "$name's /readyz to answer 200" 60 ready "$name" || rc=1
  ALIVE="" ALIVE_WHAT=""
  [ $rc = 0 ] || tail -5 "$OUT/$name-${RUNS[$name]}.log" >&2 || true
  return $rc
}

echo "rolling restart of 3 prefork servers behind HAProxy under wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s"
echo "output: $OUT"
for name in "${NAMES[@]}"; do start_master "$name"; done
ev "started 3 masters: app1 ${ADDR[app1]}:$PORT (pid ${MASTER[app1]}), app2 ${ADDR[app2]}:$PORT (pid ${MASTER[app2]}), app3 ${ADDR[app3]}:$PORT (pid ${MASTER[app3]}); --min 2 --max 3 --threads 8 --drain-delay $DRAIN"
for name in "${NAMES[@]}"; do wait_master_ready "$name" || exit 1; done
ev "all three /readyz 200"
# Before the load: each master's children's class-data archive (built once from its first child, a
# few seconds of CPU), and ctl's own (its first run writes it).
archive_settled() { grep -q 'class-data archive' "$OUT/$1-1.log"; }
for name in "${NAMES[@]}"; do
  ALIVE=${MASTER[$name]} ALIVE_WHAT="the $name master"
  wait_for "$name's children's class-data archive" 60 archive_settled "$name" || exit 1
done
ALIVE="" ALIVE_WHAT=""
ctl app1 status >/dev/null 2>>"$OUT/ctl.log" || { fail "ctl status of app1 failed (see $OUT/ctl.log)"; exit 1; }
ev "children's class-data archives built; ctl's archive written"

# ---- HAProxy -------------------------------------------------------------------------------------
cat >"$OUT/haproxy.cfg" <<EOF
global
    log stdout format iso local0 info
    stats socket $OUT/haproxy.sock mode 600 level admin
    maxconn 2000

defaults
    mode    http
    log     global
    timeout connect 2s
    timeout client  30s
    timeout server  30s
    timeout queue   10s
    timeout check   1s
    # A connection a server refused or that timed out is tried again, up to 3 times, each time on
    # another server: requests that never reached a worker are safe to send elsewhere.
    retries $RETRIES
    option  redispatch 1
    retry-on conn-failure

frontend web
    bind 127.0.0.1:$LB_PORT
    option httplog
    # Only what went wrong is logged: errors, retries, redispatches, 5xx (not every request).
    option dontlog-normal
    default_backend prefork_http

backend prefork_http
    balance leastconn
    # One connection = one prefork worker: no idle server-side connections.
    option http-server-close
    # The master's readiness on its HTTP endpoint (503 from the first moment of a wait-down), then
    # a request through a worker.
    option httpchk
    http-check connect port $MPORT
    http-check send meth GET uri /readyz
    http-check expect status 200
    http-check connect
    http-check send meth GET uri /
    http-check expect status 200
    # DOWN within inter + fastinter (+ timeout check) of /readyz turning 503: 2.25 s at most,
    # under serve's --drain-delay ($DRAIN s). maxconn = maxChildren x threads (3 x 8).
    default-server check inter 1s fastinter 250ms downinter 1s fall 2 rise 2 maxconn 24
    server app1 ${ADDR[app1]}:$PORT
    server app2 ${ADDR[app2]}:$PORT
    server app3 ${ADDR[app3]}:$PORT

frontend stats
    bind 127.0.0.1:$STATS_PORT
    stats enable
    stats uri /stats
    no log
EOF
"$HAPROXY" -c -q -f "$OUT/haproxy.cfg" || { fail "haproxy -c rejected $OUT/haproxy.cfg"; exit 1; }
"$HAPROXY" -db -f "$OUT/haproxy.cfg" >"$OUT/haproxy.log" 2>&1 &
HAPROXY_PID=$!
ALIVE=$HAPROXY_PID ALIVE_WHAT="haproxy (see $OUT/haproxy.log)"
for name in "${NAMES[@]}"; do wait_for "HAProxy to have $name UP (L7OK)" 15 lb_up "$name" || exit 1; done
ALIVE="" ALIVE_WHAT=""
ev "HAProxy on 127.0.0.1:$LB_PORT (pid $HAPROXY_PID): app1, app2, app3 UP (L7OK)"

# ---- the load, and the sequence under it ---------------------------------------------------------
wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout "${WRK_TIMEOUT}s" --latency \
  "http://127.0.0.1:$LB_PORT/" >"$OUT/wrk.txt" 2>&1 &
WRK_PID=$!
WRK_START=$(now_us)
WRK_END=$((WRK_START + DURATION * 1000000))
ev "wrk started: -t$WRK_THREADS -c$CONNS -d${DURATION}s --timeout ${WRK_TIMEOUT}s through HAProxy (pid $WRK_PID)"

# Every step of the sequence, in this function: false at the first failure (already reported).
sequence() {
  local name old gen t
  ALIVE=$WRK_PID ALIVE_WHAT="wrk"
  sleep "$SETTLE"
  for name in "${NAMES[@]}"; do
    old=$(generation_of "$name")
    [ -n "$old" ] || { fail "no status.json from $name"; return 1; }
    ev "$name: ctl restart ($(children_of "$name"))"
    t=$(now_us)
    ctl "$name" restart >>"$OUT/ctl.log" 2>&1 || { fail "ctl restart of $name failed (see $OUT/ctl.log)"; return 1; }
    RESTART_POLLS=0 RESTART_NOT_READY=0
    wait_for "$name's restart to complete (every child of generation $((old + 1)))" 40 restart_done "$name" "$old" || return 1
    ev "$name: restart complete $(ms_since "$t") ms after ctl started: $(children_of "$name"); /readyz non-200 in $RESTART_NOT_READY of $RESTART_POLLS polls$(not_ready_codes "$name")"
    wait_for "$name's /readyz 200" 10 ready "$name" || return 1
    wait_for "HAProxy to have $name UP" 10 lb_up "$name" || return 1
    ev "$name: /readyz 200, HAProxy UP"
  done

  name=$REPLACE
  ev "$name: ctl wdown ($(children_of "$name"); drain delay $DRAIN s)"
  t=$(now_us)
  ctl "$name" wdown >>"$OUT/ctl.log" 2>&1 || { fail "ctl wdown of $name failed (see $OUT/ctl.log)"; return 1; }
  wait_for "$name's /readyz to turn non-200" 5 not_ready "$name" || return 1
  ev "$name: /readyz $(readyz_code "$name") $(ms_since "$t") ms after ctl started"
  wait_for "HAProxy to take $name DOWN" $((DRAIN + 5)) lb_down "$name" || return 1
  # The drain ends when the master closes its listening socket: it must still accept now, or
  # HAProxy was still sending to a server whose socket was closing.
  local open=0
  port_busy "${ADDR[$name]}" "$PORT" && open=1
  ev "$name: HAProxy DOWN $(ms_since "$t") ms after ctl started; ${ADDR[$name]}:$PORT still accepting: $([ $open = 1 ] && echo yes || echo no)"
  if [ $open = 0 ] && [ "$DRAIN" -ge 3 ]; then
    fail "HAProxy took $name DOWN only after its socket had closed (the drain delay of $DRAIN s ended first)"; return 1
  fi
  wait_for "$name's master (pid ${MASTER[$name]}) to exit" $((DRAIN + 40)) master_gone "$name" || return 1
  local src=0
  wait "${MASTER[$name]}" 2>/dev/null || src=$?
  ev "$name: master exited ($src) $(ms_since "$t") ms after ctl started: $(tail -1 "$OUT/$name-${RUNS[$name]}.log" | sed 's/^[0-9:.]* [A-Z]* [a-z]* - //')"
  [ "$src" = 0 ] || { fail "$name's master exited with status $src after ctl wdown"; return 1; }
  drain_times "$name" || return 1
  if shm_present "${KEY[$name]}"; then fail "$name's master exited but left shm key ${KEY[$name]}"; return 1; fi
  start_master "$name"
  ev "$name: replacement master on ${ADDR[$name]}:$PORT, shm key ${KEY[$name]} (pid ${MASTER[$name]})"
  wait_master_ready "$name" || return 1
  ev "$name: replacement /readyz 200: $(children_of "$name")"
  ALIVE=$WRK_PID ALIVE_WHAT="wrk"
  wait_for "HAProxy to have the replacement $name UP" 15 lb_up "$name" || return 1
  ev "$name: HAProxy UP again"
  ALIVE="" ALIVE_WHAT=""
  return 0
}
if sequence; then
  left_us=$((WRK_END - $(now_us)))
  if [ "$left_us" -lt $((SETTLE * 1000000)) ]; then
    fail "the sequence ended $((left_us / 1000)) ms before the load (less than --settle $SETTLE s): raise --duration"
  else
    ev "sequence done; $((left_us / 1000000)) s of load left"
  fi
fi
ALIVE="" ALIVE_WHAT=""
if [ "$OK_SO_FAR" != 1 ] && kill -0 "$WRK_PID" 2>/dev/null; then
  kill -INT "$WRK_PID" 2>/dev/null || true     # wrk prints its totals on SIGINT
  ev "wrk stopped early"
fi
rc=0
deadline=$((WRK_END + 15 * 1000000))
while kill -0 "$WRK_PID" 2>/dev/null && [ "$(now_us)" -lt "$deadline" ]; do sleep 0.2; done
if kill -0 "$WRK_PID" 2>/dev/null; then
  fail "wrk did not end within 15 s of its duration"
  kill -KILL "$WRK_PID" 2>/dev/null || true
fi
wait "$WRK_PID" || rc=$?
WRK_PID=""
[ "$rc" = 0 ] || [ "$OK_SO_FAR" != 1 ] || fail "wrk exited with status $rc (see $OUT/wrk.txt)"
ev "wrk finished"

# ---- what HAProxy saw (before the stop adds its own DOWNs), then the stop -------------------------
lb_csv >"$OUT/haproxy-stats.csv"
grep -E '^[0-9-]+T[^ ]* Server prefork_http/.* is (UP|DOWN)' "$OUT/haproxy.log" >"$OUT/haproxy-changes.txt" || true
# option dontlog-normal: a request is logged only if it went wrong, was retried or redispatched.
grep -E '^[0-9-]+T[^ ]* [0-9.]+:[0-9]+ \[' "$OUT/haproxy.log" >"$OUT/haproxy-anomalies.txt" || true
stop_masters wdown
ev "every master stopped by ctl wdown"

# ---- the report ----------------------------------------------------------------------------------
echo
echo "wrk:"
sed -n '/^Running/,$p' "$OUT/wrk.txt" | grep -vE '^\s+(50|75|90)%' | sed 's/^/  /' || true
echo "HAProxy's counters (show stat; wretr: retries, wredis: redispatches):"
awk -F, '
  NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i
            printf "  %-12s %-8s %8s %8s %4s %4s %5s %5s %5s %6s %5s %5s %7s %4s\n", "proxy", "server", "requests", "2xx", "4xx", "5xx", "econ", "eresp", "wretr", "wredis", "cliab", "srvab", "chkdown", "qmax"; next }
  $1 == "web" && $2 == "FRONTEND" || $1 == "prefork_http" {
    printf "  %-12s %-8s %8s %8s %4s %4s %5s %5s %5s %6s %5s %5s %7s %4s\n", $1, $2, $(col["req_tot"])+0, $(col["hrsp_2xx"])+0,
      $(col["hrsp_4xx"])+0, $(col["hrsp_5xx"])+0, $(col["econ"])+0, $(col["eresp"])+0, $(col["wretr"])+0,
      $(col["wredis"])+0, $(col["cli_abrt"])+0, $(col["srv_abrt"])+0, $(col["chkdown"])+0, $(col["qmax"])+0 }' "$OUT/haproxy-stats.csv" || true
LB_FE="" LB_BE=""
read -r LB_FE LB_BE < <(awk -F, '
  NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
  $1 == "web" && $2 == "FRONTEND" { fe = $(col["req_tot"]) " requests, " $(col["hrsp_2xx"]) " 2xx" }
  $1 == "prefork_http" && $2 == "BACKEND" {
    be = sprintf("5xx=%d,econ=%d,eresp=%d,retries=%d,redispatches=%d", $(col["hrsp_5xx"]), $(col["econ"]), $(col["eresp"]), $(col["wretr"]), $(col["wredis"])) }
  END { gsub(/ /, "_", fe); print fe, be }' "$OUT/haproxy-stats.csv") || true
echo "HAProxy's server state changes (its log):"
if [ -s "$OUT/haproxy-changes.txt" ]; then
  sed -E 's/^[0-9-]+T([0-9:]{8}\.[0-9]{3})[0-9]*[+-][0-9:]+ /  \1  /; s/, check duration.*//' "$OUT/haproxy-changes.txt"
else
  echo "  (none)"
fi
changes=$(sed -E 's|.*Server prefork_http/([a-z0-9]*) is ([A-Z]*).*|\1 \2|' "$OUT/haproxy-changes.txt" | tr '\n' ' ')
if [ "$changes" != "$REPLACE DOWN $REPLACE UP " ]; then
  echo "  WARNING: more state changes than $REPLACE DOWN, then UP: a server left the rotation"
fi
# wrk's check of the address at its start (a connection closed before any request) is logged too:
# "web/<NOSRV> ... 400 ... CR-- ... <BADREQ>", the frontend's 4xx, which no request of the load got.
echo "HAProxy's log of requests that went wrong, were retried or redispatched: $(wc -l <"$OUT/haproxy-anomalies.txt") line(s)"
head -5 "$OUT/haproxy-anomalies.txt" | cut -c1-200 | sed 's/^/  /'
logs=""
for name in "${NAMES[@]}"; do
  for n in $(seq 1 "${RUNS[$name]}"); do
    w=$(grep -cE '^[0-9:.]+ (WARN|ERROR) ' "$OUT/$name-$n.log" || true)
    [ "$w" = 0 ] || logs="$logs $name-$n.log: $w;"
  done
done
echo "masters' logs, WARN or ERROR lines:${logs:- none}"

REQS=$(awk '/ requests in / { print $1; exit }' "$OUT/wrk.txt")
read -r S_CONN S_READ S_WRITE S_TIMEOUT < <(awk '/Socket errors:/ { gsub(/,/, ""); print $4, $6, $8, $10; exit }' \
  "$OUT/wrk.txt") || true
NON2XX=$(awk -F': *' '/Non-2xx or 3xx responses/ { print $2 + 0; exit }' "$OUT/wrk.txt")
REQS=${REQS:-0} NON2XX=${NON2XX:-0}
S_CONN=${S_CONN:-0} S_READ=${S_READ:-0} S_WRITE=${S_WRITE:-0} S_TIMEOUT=${S_TIMEOUT:-0}
ERRS=$((S_CONN + S_READ + S_WRITE + S_TIMEOUT + NON2XX))
[ "$REQS" -gt 0 ] || [ "$OK_SO_FAR" != 1 ] || fail "wrk made no request (see $OUT/wrk.txt)"
echo "client errors (wrk): connect $S_CONN, read $S_READ, write $S_WRITE, timeout $S_TIMEOUT, non-2xx/3xx $NON2XX"
echo "HAProxy: frontend ${LB_FE//_/ } (also counting requests in flight when wrk stopped, and its address check);"
echo "  backend ${LB_BE//,/, } (requests retried or redispatched that then succeeded are no client errors)"
[ "$ERRS" = 0 ] || fail "$ERRS request(s) failed as clients saw them"
cleanup wdown
trap - EXIT
if [ "$OK_SO_FAR" = 1 ]; then echo "PASSED"; else echo "FAILED: ${FAILED:-see above}"; fi
echo "requests $REQS errors $ERRS"
[ "$OK_SO_FAR" = 1 ]
