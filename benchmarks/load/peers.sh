# Sourced by run.sh, timeline.sh and suite.sh: the load peers, how to start and stop each for a
# workload, and the clean-up that leaves no process or shm segment behind. Not run by itself.
#
# Expects ROOT and OUT; reads JAVA, JAVA25, PREFORK_ARGS, SEED_C, LOAD_BASE_PORT, LOAD_KEY_BASE.
# Peers: prefork c jdk vthreads netty nginx. Workloads: hello hello-ka wait cpu burst restart.

JAVA=${JAVA:-java}
JAVA25=${JAVA25:-/usr/lib/jvm/temurin-25-jdk-amd64/bin/java}
PREFORK_ARGS=${PREFORK_ARGS:-}
SEED_C=${SEED_C:-$ROOT/../shared/anchors/seed-c}
# PREFORK_JAR: another build of prefork-examples.jar to measure (e.g. a copy from before a change)
EXAMPLES_JAR=${PREFORK_JAR:-$ROOT/prefork-examples/target/prefork-examples.jar}
BENCH_JAR=$ROOT/benchmarks/target/benchmarks.jar
ALL_PEERS="prefork c jdk vthreads netty nginx"

BASE=${LOAD_BASE_PORT:-19100}
declare -A PORT=([prefork]=$BASE [c]=$((BASE + 1)) [jdk]=$((BASE + 2)) [netty]=$((BASE + 3))
                 [nginx]=$((BASE + 4)) [vthreads]=$((BASE + 5)))
# shm keys of this run: prefork removes its own segment, the C original never does (we do).
KEY_BASE=${LOAD_KEY_BASE:-0x7e5f0000}
PREFORK_KEY=$(printf '0x%08x' $((KEY_BASE + 1)))
C_KEY=$(printf '0x%08x' $((KEY_BASE + 2)))
PEER_JVM=(-XX:+UseSerialGC -Xmx256m)
# Every server runs in a session of its own, as a daemon does, and so in its own CFS autogroup
# (kernel.sched_autogroup_enabled=1 here): the CPU is shared between the server and wrk as groups.
# The C original always had one (setsid, for killing its process group); the other peers shared
# the script's group with wrk until 2026-12-07. OWN_SESSION= (empty) gives the old arrangement.
OWN_SESSION=${OWN_SESSION-setsid}
C_SESSION=setsid
# The measuring JVM attaches prefork's table (TimelineLoad --shm-key): the flags the tests use.
TOOL_JVM=(-XX:+UseSerialGC -Xmx512m --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
          --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED --add-exports=java.base/sun.nio.ch=ALL-UNNAMED)

declare -A PID=()
LOAD_PID=""     # the wrk or TimelineLoad in progress, if any

# The ChildJob (serve --job / ThreadPoolServer --job) of a workload.
job_of() {
  case "$1" in
    hello) echo hello ;; hello-ka) echo hello-ka ;; wait|burst) echo wait ;; cpu|restart) echo cpu ;;
    *) echo "peers.sh: unknown workload $1" >&2; return 1 ;;
  esac
}

# The C original's binary for a workload, or nothing (it has no CPU-bound variant).
c_binary_of() {
  case "$1" in
    hello) echo ready_fork_block ;; hello-ka) echo ready_fork_block_ka ;;
    wait|burst) echo ready_fork_block_sleep ;; *) echo "" ;;
  esac
}

# Does peer $1 run workload $2 here? Prints why not on stderr (prefixed $3) and returns 1.
peer_runs() {
  local p=$1 w=$2 who=${3:-peers.sh}
  case "$p" in
    prefork) return 0 ;;
    jdk|vthreads)
      [ "$w" != restart ] || return 1                    # no restart to measure
      if [ "$p" = vthreads ] && ! vthreads_java_ok; then
        echo "$who: skipping vthreads: needs a JDK 21+ at $JAVA25 (set --java25 PATH)" >&2; return 1
      fi
      return 0 ;;
    c)
      [ -n "$(c_binary_of "$w")" ] || return 1           # no C variant of this job
      if [ -d "$SEED_C" ] && command -v make >/dev/null && command -v gcc >/dev/null; then return 0; fi
      echo "$who: skipping the C original: needs $SEED_C, make and gcc (apt-get install build-essential)" >&2
      return 1 ;;
    netty)
      case "$w" in hello|hello-ka) return 0 ;; *) return 1 ;; esac ;;
    nginx)
      case "$w" in hello|hello-ka) ;; *) return 1 ;; esac
      if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then return 0; fi
      echo "$who: skipping nginx: not installed; get it with: apt-get install nginx-light" >&2
      return 1 ;;
    *) echo "$who: unknown peer $p (peers: $ALL_PEERS)" >&2; exit 2 ;;
  esac
}

vthreads_java_ok() {
  [ -x "$JAVA25" ] || return 1
  local v
  v=$("$JAVA25" -version 2>&1 | awk -F'"' '/version/ {print $2; exit}')
  [ "${v%%.*}" -ge 21 ] 2>/dev/null
}

check_jars() { # who
  local jar
  for jar in "$EXAMPLES_JAR" "$BENCH_JAR"; do
    if [ ! -f "$jar" ]; then
      echo "$1: $jar is missing; build it with: mvn -B -DskipTests package" >&2
      exit 1
    fi
  done
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() { # port, name, log
  local i
  for i in $(seq 1 600); do
    if port_busy "$1"; then return 0; fi
    if [ -n "${PID[$2]:-}" ] && ! kill -0 "${PID[$2]}" 2>/dev/null; then break; fi
    sleep 0.1
  done
  echo "peers.sh: $2 did not listen on port $1; see $3" >&2
  tail -5 "$3" >&2 || true
  return 1
}

build_c() {
  if [ ! -x "$OUT/seed-c/ready_fork_block_sleep" ]; then
    # Out of tree: the seed is read-only and never copied into the project.
    mkdir -p "$OUT/seed-c" && cp -r "$SEED_C/." "$OUT/seed-c/" && chmod -R u+w "$OUT/seed-c" &&
      make -s -C "$OUT/seed-c" >"$OUT/seed-c/make.log" 2>&1
  fi
}

# start_peer PEER WORKLOAD [TAG]: starts it on its port and waits until it listens. JDK_THREADS
# (threads of the jdk peer) and KEEPALIVE (1 for the keep-alive workload) come from the caller.
start_peer() {
  local p=$1 w=$2 tag=${3:-} port=${PORT[$1]} job log
  job=$(job_of "$w")
  log="$OUT/$p-$w${tag:+-$tag}.log"
  if port_busy "$port"; then
    echo "peers.sh: port $port (for $p) is already in use by another process; set LOAD_BASE_PORT" >&2
    return 1
  fi
  case "$p" in
    prefork)
      # shellcheck disable=SC2086
      $OWN_SESSION "$JAVA" -jar "$EXAMPLES_JAR" serve --bind 127.0.0.1 --port "$port" --shm-key "$PREFORK_KEY" \
        --job "$job" $PREFORK_ARGS >"$log" 2>&1 &
      PID[prefork]=$! ;;
    c)
      build_c || { echo "peers.sh: building the C original failed; see $OUT/seed-c/make.log" >&2; return 1; }
      ipcrm -M "$C_KEY" 2>/dev/null || true
      $C_SESSION "$OUT/seed-c/$(c_binary_of "$w")" -F -p "$port" -k "$C_KEY" -n 50 -x 200 >"$log" 2>&1 &
      PID[c]=$!
      disown "${PID[c]}" ;;                                   # no "Killed" notice at the end
    jdk|vthreads)
      local java=$JAVA extra=()
      if [ "$p" = vthreads ]; then java=$JAVA25; extra=(--virtual); fi
      $OWN_SESSION "$java" "${PEER_JVM[@]}" -cp "$BENCH_JAR" io.prefork.bench.load.ThreadPoolServer \
        --port "$port" --threads "${JDK_THREADS:-16}" --job "$job" "${extra[@]}" >"$log" 2>&1 &
      PID[$p]=$! ;;
    netty)
      local ka=()
      [ "${KEEPALIVE:-0}" = 1 ] && ka=(--keepalive)
      $OWN_SESSION "$JAVA" "${PEER_JVM[@]}" -cp "$BENCH_JAR" io.prefork.bench.load.NettyServer \
        --port "$port" --threads 2 "${ka[@]}" >"$log" 2>&1 &
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
      $OWN_SESSION "$(command -v nginx || echo /usr/sbin/nginx)" -p "$OUT/nginx" -c "$OUT/nginx/nginx.conf" \
        -g 'daemon off;' >"$log" 2>&1 &
      PID[nginx]=$! ;;
  esac
  wait_port "$port" "$p" "$log"
}

# stop_peer PEER: stops it, waits until its processes are gone, removes what it left in shm.
stop_peer() {
  local -                                                  # set +e for this function only
  set +e
  local p=$1 pid=${PID[$1]:-} i kids k
  [ -n "$pid" ] || return 0
  kids=$(pgrep -P "$pid" | tr '\n' ' ')                   # prefork's child JVMs, C's processes
  case "$p" in
    c) kill -KILL -- "-$pid" 2>/dev/null ;;                  # its own process group
    prefork) kill -TERM "$pid" 2>/dev/null ;;               # wait-down; it removes its shm
    nginx) kill -QUIT "$pid" 2>/dev/null ;;
    *) kill -TERM "$pid" 2>/dev/null ;;
  esac
  for i in $(seq 1 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then                     # 15 s: no more waiting
    echo "peers.sh: $p (pid $pid) did not stop within 15 s: killing it" >&2
    pgrep -P "$pid" | xargs -r kill -KILL 2>/dev/null
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
  for k in $kids; do                                       # children outlive a killed master
    for i in $(seq 1 50); do kill -0 "$k" 2>/dev/null || continue 2; sleep 0.1; done
    kill -KILL "$k" 2>/dev/null
  done
  case "$p" in
    c)
      for i in $(seq 1 30); do pgrep -g "$pid" >/dev/null 2>&1 || break; sleep 0.1; done
      ipcrm -M "$C_KEY" 2>/dev/null ;;
    prefork)
      if ipcs -m | awk -v k="$PREFORK_KEY" '$1 == k && $6 == 0 {f=1} END {exit !f}'; then
        ipcrm -M "$PREFORK_KEY" 2>/dev/null                # only if its master was killed
      fi ;;
  esac
  unset "PID[$p]"
  return 0
}

stop_all() {
  local -
  set +e
  if [ -n "$LOAD_PID" ]; then kill -TERM "$LOAD_PID" 2>/dev/null; wait "$LOAD_PID" 2>/dev/null; LOAD_PID=""; fi
  local p
  for p in "${!PID[@]}"; do stop_peer "$p"; done
}

# in_background CMD...: runs the load in the background and waits for it, so that a signal is
# handled at once (the trap stops it and the peers) instead of after the command.
in_background() {
  "$@" &
  LOAD_PID=$!
  wait "$LOAD_PID"
  local rc=$?
  LOAD_PID=""
  return $rc
}
