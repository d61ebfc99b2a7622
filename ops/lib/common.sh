# Shared helpers for ops/ scripts (ops/stack, ops/faults). Source it: . "$(dirname "$0")/lib/common.sh"
# Sets REPO (the repository root) and RUN_STATE (ops/.run, gitignored).

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
RUN_STATE="$REPO/ops/.run"

ops_log() { printf '%s %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
ops_die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The hub's executable jar; built (tests skipped) when missing. Prints its path.
ops_hub_jar() {
    local jar
    jar=$(ls "$REPO"/hub/target/hub-*.jar 2>/dev/null | grep -v -e '-plain\.jar$' -e 'sources' | head -1)
    if [ -z "$jar" ]; then
        ops_log "building the hub jar (./mvnw -q -o -pl hub package -DskipTests)"
        (cd "$REPO" && ./mvnw -q -o -pl hub package -DskipTests) >&2 || ops_die "hub build failed"
        jar=$(ls "$REPO"/hub/target/hub-*.jar | grep -v -e '-plain\.jar$' -e 'sources' | head -1)
    fi
    printf '%s\n' "$jar"
}

# The hub's test classpath (org.supplyhub.ops.* and the test support), compiled when stale.
# Cached in ops/.run/classpath.txt until hub/pom.xml changes. Prints it.
ops_test_classpath() {
    mkdir -p "$RUN_STATE"
    local cp="$RUN_STATE/classpath.txt"
    if [ ! -s "$cp" ] || [ "$REPO/hub/pom.xml" -nt "$cp" ] || [ "$REPO/pom.xml" -nt "$cp" ]; then
        (cd "$REPO" && ./mvnw -q -o -pl hub dependency:build-classpath -Dmdep.includeScope=test \
            -Dmdep.outputFile="$cp") >&2 || ops_die "cannot compute the test classpath"
    fi
    # recompile when a source or resource changed since the last compile this helper ran
    local stamp="$RUN_STATE/test-compile.stamp" newer
    newer=$(find "$REPO/hub/src" -newer "$stamp" -type f -print -quit 2>/dev/null || echo missing)
    if [ ! -d "$REPO/hub/target/test-classes/org/supplyhub/ops" ] || [ ! -f "$stamp" ] || [ -n "$newer" ]; then
        ops_log "compiling the hub's test sources (./mvnw -q -o -pl hub test-compile)"
        touch "$stamp.new"
        (cd "$REPO" && ./mvnw -q -o -pl hub test-compile) >&2 || ops_die "test-compile failed"
        mv "$stamp.new" "$stamp"
    fi
    printf '%s:%s:%s\n' "$REPO/hub/target/test-classes" "$REPO/hub/target/classes" "$(cat "$cp")"
}

# Java 17+ to run the launcher and the hubs (the JDK on PATH unless JAVA is set).
ops_java() { printf '%s\n' "${JAVA:-java}"; }

# Is PID alive?
ops_alive() { [ -n "$1" ] && kill -0 "$1" 2>/dev/null; }

# Kill a PID and its descendants: TERM, then KILL after GRACE seconds (default 20).
ops_kill_tree() {
    local pid=$1 grace=${2:-20} kids
    ops_alive "$pid" || return 0
    kids=$(pgrep -P "$pid" 2>/dev/null || true)
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((grace * 5))); do ops_alive "$pid" || break; sleep 0.2; done
    if ops_alive "$pid"; then kill -KILL "$pid" 2>/dev/null || true; fi
    for k in $kids; do ops_kill_tree "$k" 5; done
}
