#!/usr/bin/env bash
# Render the HTML batch report and the dashboard in headless Chromium, keep
# the screenshots, and fail when a page comes out empty (no table, no chart,
# or a blank picture). Installs nothing: without /usr/bin/chromium it says so
# and exits 0.
#
#   scripts/browser-check.sh            # screenshots in target/browser-check/
#   BROWSER_CHECK_OUT=/tmp/shots scripts/browser-check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=/usr/bin/chromium
if [[ ! -x "$CHROMIUM" ]]; then
    echo "browser-check: $CHROMIUM is not installed; skipping (nothing was installed; on Debian: apt-get install chromium)"
    exit 0
fi

OUT=${BROWSER_CHECK_OUT:-target/browser-check}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
WORK=$(mktemp -d)
SERVER_PID=
LOGIN_PID=
cleanup() {
    if [[ -n "$SERVER_PID" ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    if [[ -n "$LOGIN_PID" ]]; then kill "$LOGIN_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

cargo build --quiet
BIN=${BRANCHSYNC_BIN:-target/debug/branchsync}

# A journal with real batches: the demo (SQLite branches), then a run with
# one more branch whose database is empty, so that its tables fail (exit 1).
"$BIN" -q demo --dir "$WORK/demo" --branches 4 --rows 400 >/dev/null
CONFIG="$WORK/demo/branchsync.toml"
: >"$WORK/demo/branches/closed.db"
printf '\n[[connection]]\nname = "sqlite_closed"\ndriver = "sqlite"\nurl = "branches/closed.db"\n' >>"$CONFIG"
"$BIN" --config "$CONFIG" -q sync-all >/dev/null 2>&1 || true
LATEST=$("$BIN" --config "$CONFIG" sync-status --latest --json |
    sed -n 's/.*"batch_id": "\(sync_[0-9A-Za-z_]*\)".*/\1/p' | head -1)
[[ -n "$LATEST" ]] || { echo "browser-check: no batch in the demo journal" >&2; exit 1; }

"$BIN" --config "$CONFIG" export "$LATEST" --format html --output "$WORK/report.html" >/dev/null

"$BIN" --config "$CONFIG" serve --listen 127.0.0.1:0 >"$WORK/serve.out" 2>"$WORK/serve.err" &
SERVER_PID=$!
BASE=
for _ in $(seq 1 100); do
    BASE=$(grep -o 'http://[0-9.:]*' "$WORK/serve.out" 2>/dev/null | head -1 || true)
    [[ -n "$BASE" ]] && break
    sleep 0.1
done
[[ -n "$BASE" ]] || { echo "browser-check: the dashboard did not start:" >&2; cat "$WORK/serve.err" >&2; exit 1; }

# The same journal behind a token: a browser without it gets the login form.
BROWSER_CHECK_TOKEN=$(head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n') \
    "$BIN" --config "$CONFIG" serve --listen 127.0.0.1:0 --token-env BROWSER_CHECK_TOKEN \
    >"$WORK/login.out" 2>"$WORK/login.err" &
LOGIN_PID=$!
LOGIN_BASE=
for _ in $(seq 1 100); do
    LOGIN_BASE=$(grep -o 'http://[0-9.:]*' "$WORK/login.out" 2>/dev/null | head -1 || true)
    [[ -n "$LOGIN_BASE" ]] && break
    sleep 0.1
done
[[ -n "$LOGIN_BASE" ]] || { echo "browser-check: the dashboard with a token did not start:" >&2; cat "$WORK/login.err" >&2; exit 1; }

FLAGS=(--headless --no-sandbox --disable-gpu --disable-background-networking
    --hide-scrollbars --window-size=1280,900)
failed=0

# check NAME URL SELECTOR...: screenshot URL to NAME.png; the rendered DOM
# must hold every SELECTOR text and the picture must not be blank.
check() {
    local name=$1 url=$2
    shift 2
    local png="$OUT/$name.png" dom="$WORK/$name.dom.html"
    rm -f "$png"
    timeout 60 "$CHROMIUM" "${FLAGS[@]}" --screenshot="$png" "$url" >/dev/null 2>&1 || true
    timeout 60 "$CHROMIUM" "${FLAGS[@]}" --dump-dom "$url" >"$dom" 2>/dev/null || true
    local problems=()
    [[ -s "$png" ]] || problems+=("no screenshot")
    # A blank 1280x900 page compresses to a few kB; a rendered report is far larger.
    if [[ -s "$png" && $(stat -c %s "$png") -lt 20000 ]]; then
        problems+=("screenshot looks blank ($(stat -c %s "$png") bytes)")
    fi
    for want in "$@"; do
        grep -q -- "$want" "$dom" || problems+=("no '$want' in the rendered page")
    done
    if ((${#problems[@]})); then
        echo "browser-check: $name ($url): FAILED: ${problems[*]}"
        failed=1
    else
        echo "browser-check: $name: ok ($png, $(stat -c %s "$png") bytes)"
    fi
}

check report "file://$WORK/report.html" \
    "Sync Batch Details" 'id="progress"' 'class="status s-completed"' 'class="status s-failed"' \
    'id="chart-duration-per-table"' 'id="chart-batch-history"' '<rect'
check dashboard "$BASE/" \
    "sync batches" 'id="batches"' "$LATEST" 'id="chart-success-rate"' '<rect'
check dashboard-batch "$BASE/batches/$LATEST" \
    "Sync Batch Details" 'id="progress"' 'id="chart-records-per-table"' '<rect'

# Without the token: the login form, which keeps where the user was going.
check login "$LOGIN_BASE/batches/$LATEST" \
    'action="/login"' 'type="password"' "value=\"/batches/$LATEST\""

if ((failed)); then
    exit 1
fi
echo "browser-check: all pages rendered; screenshots in $OUT"
