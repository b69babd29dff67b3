#!/usr/bin/env bash
# Benchmarks (not tests): build the release binary, generate data with `aftersales demo
# --scale N`, start the server and measure the archive search and a few pages through the
# HTTP API, on SQLite and/or PostgreSQL. Prints a table and writes bench/results.json.
#
#   bench/run.sh [--backend sqlite|postgres|both] [--scale N] [--requests R]
#
# One scale unit = 200 customers, 30 products, 2,000 orders and 3,000 installed units;
# --scale 334 gives about 1,000,000 units. PostgreSQL runs in a throwaway cluster started by
# .ci/run (or against BENCH_DATABASE_URL, a server where the script may CREATE DATABASE).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT=$PWD
BACKEND=sqlite
SCALE=1
REQUESTS=50
while (($#)); do
    case $1 in
        --backend) BACKEND=$2; shift 2 ;;
        --scale) SCALE=$2; shift 2 ;;
        --requests) REQUESTS=$2; shift 2 ;;
        *) echo "unknown argument $1" >&2; exit 1 ;;
    esac
done

if [[ $BACKEND == both ]]; then
    "$0" --backend sqlite --scale "$SCALE" --requests "$REQUESTS"
    exec "$0" --backend postgres --scale "$SCALE" --requests "$REQUESTS"
fi
if [[ $BACKEND == postgres && -z ${BENCH_DATABASE_URL:-} ]]; then
    # Borrow CI's throwaway cluster; it sets TEST_DATABASE_URL.
    exec bash .ci/run env BENCH_INNER=1 bash -c \
        "BENCH_DATABASE_URL=\$TEST_DATABASE_URL bash bench/run.sh --backend postgres --scale $SCALE --requests $REQUESTS"
fi

cargo build --release --quiet
BIN=$ROOT/target/release/aftersales
WORK=$(mktemp -d /tmp/aftersales-bench.XXXXXX)
SERVER_PID=
cleanup() {
    [[ -n $SERVER_PID ]] && kill "$SERVER_PID" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

export AFTERSALES_SERVER__DATA_DIR=$WORK
if [[ $BACKEND == postgres ]]; then
    DB=as_bench_$$
    psql "$BENCH_DATABASE_URL" -XAtqc "CREATE DATABASE $DB" >/dev/null
    export AFTERSALES_DATABASE__URL="${BENCH_DATABASE_URL%/*}/$DB"
else
    unset AFTERSALES_DATABASE__URL || true
fi
export RUST_LOG=warn

echo "== $BACKEND, scale $SCALE: loading demo data"
LOAD_START=$(date +%s.%N)
"$BIN" demo --scale "$SCALE" >"$WORK/demo.txt"
LOAD_END=$(date +%s.%N)
echo "== $BACKEND: importing 100,000 rows of each kind"
python3 bench/gen_import.py 100000 "$WORK"
IMPORTS=()
for kind in customers contacts products orders equipment; do
    T0=$(date +%s.%N)
    "$BIN" import "$kind" "$WORK/$kind.csv" --org demo >"$WORK/import-$kind.txt"
    T1=$(date +%s.%N)
    IMPORTS+=("$kind=$(echo "$T1 - $T0" | bc)")
done
TOKEN=$("$BIN" token create --user admin --org demo)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
AFTERSALES_JOBS__ENABLED=false "$BIN" serve --bind "127.0.0.1:$PORT" >"$WORK/serve.txt" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done

python3 bench/measure.py --base "http://127.0.0.1:$PORT" --token "$TOKEN" --requests "$REQUESTS" \
    --backend "$BACKEND" --scale "$SCALE" --load-seconds "$(echo "$LOAD_END - $LOAD_START" | bc)" \
    --pid "$SERVER_PID" --db-file "$WORK/aftersales.db" --imports "${IMPORTS[*]}" \
    --out bench/results-"$BACKEND".json
