#!/usr/bin/env bash
# Stops the LocalStack started by start.sh. `make s3-down` calls this.
set -euo pipefail
state="${STRATA_LOCALSTACK_DIR:-$HOME/.cache/strata/localstack}"
pidfile="$state/localstack.pid"
[ -f "$pidfile" ] || { echo "LocalStack is not running (no $pidfile)"; exit 0; }
pid="$(cat "$pidfile")"
if kill -0 "$pid" 2>/dev/null; then
    kill "$pid"
    for _ in $(seq 1 30); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 1
    done
    kill -9 "$pid" 2>/dev/null || true
fi
rm -f "$pidfile"
echo "LocalStack stopped"
