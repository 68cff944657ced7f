#!/usr/bin/env bash
# Child JVM start-up (spawn to first accept, RSS, PSS), a burst of children, and wait-down /
# force-down times, on JDK 17 and JDK 25, each without and with a class-data archive built once
# (JDK 17: AppCDS, -XX:ArchiveClassesAtExit / -XX:SharedArchiveFile; JDK 25: AOT cache,
# -XX:AOTCacheOutput / -XX:AOTCache). See docs/performance.md ("Child start-up and shut-down").
#
#   benchmarks/load/lifecycle.sh [--children 20] [--down 50] [--rounds 3] [--jdk25 PATH] [--out DIR]
#
# Needs the jars (mvn -B -DskipTests package). A JDK 25 that is missing is skipped with a note.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
CHILDREN=20
DOWN=50
ROUNDS=3
JDK17=${JDK17:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
JDK25=/usr/lib/jvm/temurin-25-jdk-amd64
OUT=""
while [ $# -gt 0 ]; do
  case "$1" in
    --children) CHILDREN=$2; shift 2 ;;
    --down) DOWN=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --jdk25) JDK25=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "lifecycle.sh: unknown option $1" >&2; exit 2 ;;
  esac
done
BENCH_JAR=$ROOT/benchmarks/target/benchmarks.jar
[ -f "$BENCH_JAR" ] && [ -f "$ROOT/prefork-examples/target/prefork-examples.jar" ] || {
  echo "lifecycle.sh: the jars are missing; build them with: mvn -B -DskipTests package" >&2; exit 1; }
OUT=${OUT:-$(mktemp -d /tmp/prefork-lifecycle.XXXXXX)}
mkdir -p "$OUT"
cd "$ROOT"
# The measuring JVM attaches the table (chronicle-bytes): it needs these, as the tests do.
TOOL=(java --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-exports=java.base/jdk.internal.ref=ALL-UNNAMED
      --add-exports=java.base/sun.nio.ch=ALL-UNNAMED -cp "$BENCH_JAR" io.prefork.bench.load.ChildLifecycleBench)

measure() { # label, java, extra args...
  local label=$1 java=$2; shift 2
  echo "=== $label"
  "${TOOL[@]}" --java "$java" --children "$CHILDREN" --down "$DOWN" --rounds "$ROUNDS" "$@" 2>&1 \
    | grep -v "chronicle\|Chronicle\|WARNING\|ClassUtil" | tee -a "$OUT/lifecycle.txt"
}

J17=$JDK17/bin/java
measure "JDK 17, lean flags" "$J17"
# AppCDS: one child runs with -XX:ArchiveClassesAtExit and writes the archive when it exits (the
# daemon's wait-down); every later child maps it. The archive belongs to this JDK and this jar.
# The library's own archive (serve --class-data-dir): the first child records its classes, the
# master dumps them once it accepts; a short run builds it, the measured run maps it.
mkdir -p "$OUT/cds17"
"${TOOL[@]}" --java "$J17" --children 4 --skip burst,down --class-data-dir "$OUT/cds17" >/dev/null 2>&1
ls "$OUT"/cds17/prefork-child-*.jsa >/dev/null 2>&1 || echo "lifecycle.sh: the library's archive was not built" >&2
measure "JDK 17, lean flags + the library's archive (--class-data-dir)" "$J17" --class-data-dir "$OUT/cds17"
rm -f "$OUT/child17.jsa"
"${TOOL[@]}" --java "$J17" --children 1 --skip burst,down \
  --child-jvm-option "-XX:ArchiveClassesAtExit=$OUT/child17.jsa" >/dev/null 2>&1
measure "JDK 17, lean flags + AppCDS archive" "$J17" --child-jvm-option "-XX:SharedArchiveFile=$OUT/child17.jsa"

if [ -x "$JDK25/bin/java" ]; then
  J25=$JDK25/bin/java
  measure "JDK 25, lean flags" "$J25"
  rm -f "$OUT/child25.aot"
  "${TOOL[@]}" --java "$J25" --children 1 --skip burst,down \
    --child-jvm-option "-XX:AOTCacheOutput=$OUT/child25.aot" >/dev/null 2>&1
  measure "JDK 25, lean flags + AOT cache" "$J25" --child-jvm-option "-XX:AOTCache=$OUT/child25.aot"
else
  echo "lifecycle.sh: no JDK 25 at $JDK25 (--jdk25 PATH); skipped" >&2
fi
echo "results: $OUT/lifecycle.txt"
