#!/bin/bash
# Keycloak reads no *_FILE variables. Load the compose secrets into its environment, then run kc.sh
# with the compose command (start --import-realm). The realm file names the client secrets as
# ${HUB_ADMIN_CLIENT_SECRET}-style placeholders, which --import-realm fills from the environment.
set -euo pipefail
secret() { local value; value="$(< "/run/secrets/$1")"; printf '%s' "$value"; }
export KC_DB_PASSWORD="$(secret db_password)"
export KC_BOOTSTRAP_ADMIN_PASSWORD="$(secret keycloak_admin_password)"
export HUB_ADMIN_CLIENT_SECRET="$(secret hub_admin_client_secret)"
export MERCY_ORMGR_CLIENT_SECRET="$(secret mercy_ormgr_client_secret)"
export PROMETHEUS_CLIENT_SECRET="$(secret prometheus_client_secret)"
exec /opt/keycloak/bin/kc.sh "$@"
