#!/usr/bin/env bash
# Starts a fresh Strata on a free port, runs the shared ZeptoDB conformance script against it
# (`--only $ONLY`: `sql`, the default, or `memory`), and stops the server whatever happens.
# `ONLY=auth` runs the security script instead (zepto_auth.py), which starts its own servers;
# `ONLY=clickhouse` runs clickhouse_http.py and clickhouse_js.mjs (NODE_DIR holds its client).
#
#   tests/conformance/run.sh path/to/strata [server flags...]
#
# `--tiered` as the first server flag runs the server with an HDB in a fresh temporary directory.
#
# PYTHON picks the interpreter (default python3); SHARED the shared/ folder (default: the nearest
# `shared/` beside the repository or beside one of its parent directories; without one the run
# is reported as skipped and passes, as in a user's clone).
set -euo pipefail
binary=${1:?usage: run.sh path/to/strata [server flags...]}
shift
data=""
if [[ "${1:-}" == "--tiered" ]]; then
    shift
    data=$(mktemp -d)
    set -- --hdb-dir "$data" "$@"
fi
python=${PYTHON:-python3}
shared=${SHARED:-}
if [[ -z "$shared" ]]; then
    dir=$(cd "$(dirname "$0")/../.." && pwd)
    while [[ "$dir" != "/" ]]; do
        dir=$(dirname "$dir")
        if [[ -f "$dir/shared/conformance/zepto_api.py" ]]; then
            shared="$dir/shared"
            break
        fi
    done
fi
if [[ -z "$shared" ]]; then
    # A user's clone has no shared/ folder: say so plainly and pass; the integration tests
    # (tests/it) check the same API against real servers.
    echo "conformance: SKIPPED, no shared/conformance/zepto_api.py beside this clone" \
        "(set SHARED=path/to/shared to run it); tests/it checks the same API"
    [[ -z "$data" ]] || rm -rf "$data"
    exit 0
fi
if [[ "${ONLY:-}" == "auth" ]]; then
    [[ -z "$data" ]] || rm -rf "$data"
    exec "$python" "$shared/conformance/zepto_auth.py" "$binary"
fi
script="$shared/conformance/zepto_api.py"
if [[ "${ONLY:-}" == "clickhouse" ]]; then
    script="$shared/conformance/clickhouse_http.py"
fi
if [[ ! -f "$script" ]]; then
    echo "conformance: $script not found; SHARED must name the shared/ folder" >&2
    exit 1
fi

log=$(mktemp)
"$binary" --port 0 "$@" >"$log.out" 2>"$log" &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -f "$log" "$log.out"; [[ -z "$data" ]] || rm -rf "$data"' EXIT

port=""
for _ in $(seq 1 300); do
    port=$(sed -n 's#^Strata listening on http://[^:]*:\([0-9]*\)$#\1#p' "$log.out")
    [[ -n "$port" ]] && break
    kill -0 "$pid" 2>/dev/null || { echo "conformance: server exited:"; cat "$log"; exit 1; }
    sleep 0.1
done
[[ -n "$port" ]] || { echo "conformance: server did not start in 30 s"; cat "$log"; exit 1; }

if [[ "${ONLY:-}" == "clickhouse" ]]; then
    # Both ClickHouse scripts, against the same fresh server. The JS script imports
    # @clickhouse/client, which Node resolves beside the script: run a copy in NODE_DIR.
    "$python" "$script" "$port"
    node_dir=${NODE_DIR:-$HOME/.cache/strata/node}
    cp "$shared/conformance/clickhouse_js.mjs" "$node_dir/clickhouse_js.mjs"
    node "$node_dir/clickhouse_js.mjs" "$port"
    exit 0
fi
"$python" "$script" "$port" --only "${ONLY:-sql}"
