#!/usr/bin/env bash
# Keycloak distribution for the native stack: fetched once from the Maven registry
# (org.keycloak:keycloak-quarkus-dist:<version>:zip, with the Maven wrapper's ordinary client),
# unpacked under ~/.cache/supplyhub (outside the repository). Runs on JDK 25.
#   keycloak.sh home     prints KEYCLOAK_HOME, fetching and unpacking when missing
# KEYCLOAK_VERSION (default 26.5.6), SUPPLYHUB_CACHE (default ~/.cache/supplyhub).
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/common.sh"

KEYCLOAK_VERSION=${KEYCLOAK_VERSION:-26.5.6}
CACHE=${SUPPLYHUB_CACHE:-$HOME/.cache/supplyhub}
HOME_DIR="$CACHE/keycloak-$KEYCLOAK_VERSION"

case "${1:-home}" in
home)
    if [ ! -x "$HOME_DIR/bin/kc.sh" ]; then
        mkdir -p "$CACHE"
        zip="$CACHE/keycloak-quarkus-dist-$KEYCLOAK_VERSION.zip"
        if [ ! -s "$zip" ]; then
            ops_log "fetching org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip into $CACHE"
            (cd "$REPO" && ./mvnw -q dependency:copy \
                -Dartifact="org.keycloak:keycloak-quarkus-dist:$KEYCLOAK_VERSION:zip" -DoutputDirectory="$CACHE") >&2 \
                || ops_die "could not fetch Keycloak $KEYCLOAK_VERSION from the Maven registry"
        fi
        tmp=$(mktemp -d "$CACHE/unpack.XXXXXX")
        (cd "$tmp" && jar xf "$zip" 2>/dev/null || unzip -q "$zip" -d "$tmp") >&2
        mv "$tmp/keycloak-$KEYCLOAK_VERSION" "$HOME_DIR"
        rmdir "$tmp" 2>/dev/null || rm -rf "$tmp"
        chmod +x "$HOME_DIR"/bin/*.sh
    fi
    printf '%s\n' "$HOME_DIR"
    ;;
*) ops_die "usage: keycloak.sh home" ;;
esac
