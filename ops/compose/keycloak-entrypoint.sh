#!/bin/bash
# Keycloak reads no *_FILE variables. Load the compose secrets into its environment, then run kc.sh
# with the compose command (start --import-realm). ops/keycloak/supply-hub-realm.json names the
# client secrets as ${HUB_ADMIN_SECRET}-style placeholders, which the import fills from the environment.
set -euo pipefail
secret() { local value; value="$(< "/run/secrets/$1")"; printf '%s' "$value"; }
export KC_DB_PASSWORD="$(secret db_password)"
export KC_BOOTSTRAP_ADMIN_PASSWORD="$(secret keycloak_admin_password)"
export HUB_ADMIN_SECRET="$(secret hub_admin_client_secret)"
export HUB_METRICS_SECRET="$(secret hub_metrics_client_secret)"
export MERCY_ORMGR_SECRET="$(secret mercy_ormgr_client_secret)"
export LAKESIDE_CATHLAB_SECRET="$(secret lakeside_cathlab_client_secret)"
export HUB_CONSOLE_SECRET="$(secret hub_console_client_secret)"
export CONSOLE_DEMO_PASSWORD="$(secret console_demo_password)"
exec /opt/keycloak/bin/kc.sh "$@"
