#!/usr/bin/env bash
# Install, start, stop a local Label Studio for tests/experts/test_label_studio.py.
#
#   tests/experts/label_studio.sh install   # venv at $LS_VENV with label-studio (PyPI)
#   tests/experts/label_studio.sh start     # start on 127.0.0.1:$LS_PORT (SQLite), wait until up
#   tests/experts/label_studio.sh stop      # stop the server this script started
#   tests/experts/label_studio.sh env       # print the variables the test reads
#
# Label Studio lives in its own virtual environment (it pins Django and friends that must
# not leak into synthvet's). Nothing here touches the network except `install` (PyPI);
# the update check and analytics are switched off.
set -euo pipefail

LS_VENV="${LS_VENV:-/opt/ls-venv}"
LS_PORT="${LS_PORT:-8089}"
LS_DATA="${LS_DATA:-${TMPDIR:-/tmp}/synthvet-label-studio}"
LS_TOKEN="${LS_TOKEN:-synthvet0test0token0000000000000000000000}"
LS_USER="${LS_USER:-expert@example.com}"
LS_PASSWORD="${LS_PASSWORD:-synthvet-test-password}"
URL="http://127.0.0.1:${LS_PORT}"

export LATEST_VERSION_CHECK=false COLLECT_ANALYTICS=false SENTRY_DSN= FRONTEND_SENTRY_DSN=
export LABEL_STUDIO_DISABLE_SIGNUP_WITHOUT_LINK=true

up() { python3 - "$URL" <<'PY'
import sys, urllib.request
try:
    with urllib.request.urlopen(sys.argv[1] + "/health", timeout=3) as r:
        sys.exit(0 if r.status == 200 else 1)
except Exception:
    sys.exit(1)
PY
}

case "${1:-}" in
  install)
    if [ ! -x "$LS_VENV/bin/label-studio" ]; then
      python3 -m venv "$LS_VENV"
      "$LS_VENV/bin/pip" install --quiet "label-studio==${LS_VERSION:-1.23.2}"  # the version tested
    fi
    "$LS_VENV/bin/pip" show label-studio | grep -i '^version'
    ;;
  start)
    if up; then echo "label studio already up at $URL"; exit 0; fi
    [ -x "$LS_VENV/bin/label-studio" ] || { echo "no label-studio in $LS_VENV; run: $0 install" >&2; exit 2; }
    mkdir -p "$LS_DATA"
    (cd "$LS_DATA" && exec "$LS_VENV/bin/label-studio" start --no-browser \
        --host "$URL" --internal-host 127.0.0.1 --port "$LS_PORT" \
        --data-dir "$LS_DATA/data" --database "$LS_DATA/label_studio.sqlite3" \
        --username "$LS_USER" --password "$LS_PASSWORD" \
        --user-token "$LS_TOKEN" --enable-legacy-api-token \
    ) > "$LS_DATA/server.log" 2>&1 < /dev/null &
    echo $! > "$LS_DATA/pid"
    for _ in $(seq 1 240); do
      if up; then echo "label studio up at $URL (pid $(cat "$LS_DATA/pid"))"; exit 0; fi
      if ! kill -0 "$(cat "$LS_DATA/pid")" 2>/dev/null; then
        echo "label studio exited; log:" >&2; tail -40 "$LS_DATA/server.log" >&2; exit 1
      fi
      sleep 1
    done
    echo "label studio did not come up in 240 s; log:" >&2; tail -40 "$LS_DATA/server.log" >&2
    exit 1
    ;;
  stop)
    if [ -f "$LS_DATA/pid" ]; then
      pid="$(cat "$LS_DATA/pid")"
      kill "$pid" 2>/dev/null || true
      for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -9 "$pid" 2>/dev/null || true
      rm -f "$LS_DATA/pid"
    fi
    ;;
  env)
    echo "SYNTHVET_LS_URL=$URL"
    echo "SYNTHVET_LS_TOKEN=$LS_TOKEN"
    ;;
  *)
    echo "usage: $0 install|start|stop|env" >&2; exit 2 ;;
esac
