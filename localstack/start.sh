#!/usr/bin/env bash
# Starts LocalStack's S3 on 127.0.0.1:${LOCALSTACK_PORT:-4566} without Docker, installing it first
# if needed. Idempotent: does nothing when it is already up. `make s3-up` calls this.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${STRATA_LOCALSTACK_DIR:-$HOME/.cache/strata/localstack}"
port="${LOCALSTACK_PORT:-4566}"
venv="$state/venv"
health="http://127.0.0.1:$port/_localstack/health"
mkdir -p "$state"

if curl -fsS "$health" 2>/dev/null | grep -q '"s3": *"\(available\|running\)"'; then
    echo "LocalStack S3 is already up on 127.0.0.1:$port"
    exit 0
fi

# LocalStack needs Python 3.13 (pyenv keeps one on these machines).
python="${PYTHON313:-}"
if [ -z "$python" ]; then
    python="$(ls -d "$HOME"/.pyenv/versions/3.13*/bin/python3.13 2>/dev/null | sort -V | tail -1 || true)"
fi
[ -n "$python" ] || python="$(command -v python3.13 || true)"
if [ -z "$python" ]; then
    echo "LocalStack needs Python 3.13: install it (pyenv install 3.13) or set PYTHON313" >&2
    exit 1
fi

# Reinstall only when the pinned requirements change.
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    echo "installing LocalStack into $venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install -q --upgrade pip
    "$venv/bin/python" -m pip install -q -r "$here/requirements.txt"
    echo "$want" > "$stamp"
fi

echo "starting LocalStack S3 on 127.0.0.1:$port (log: $state/localstack.log)"
(
    cd "$state"
    SERVICES=s3 GATEWAY_LISTEN="127.0.0.1:$port" GATEWAY_SERVER=hypercorn DNS_ADDRESS=0 \
        LOCALSTACK_VOLUME_DIR="$state/volume" SKIP_INFRA_DOWNLOADS=1 DISABLE_EVENTS=1 \
        nohup "$venv/bin/python" -m localstack.runtime.main >"$state/localstack.log" 2>&1 &
    echo $! >"$state/localstack.pid"
)

deadline=$((SECONDS + 180))
until curl -fsS "$health" 2>/dev/null | grep -q '"s3": *"\(available\|running\)"'; do
    if ! kill -0 "$(cat "$state/localstack.pid")" 2>/dev/null; then
        echo "LocalStack exited; last log lines:" >&2
        tail -20 "$state/localstack.log" >&2
        exit 1
    fi
    if [ $SECONDS -ge $deadline ]; then
        echo "LocalStack S3 did not come up within 180 s; see $state/localstack.log" >&2
        exit 1
    fi
    sleep 1
done
echo "LocalStack S3 is up on 127.0.0.1:$port"
