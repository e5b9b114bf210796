#!/usr/bin/env bash
# bench/serving: Plinth's inference service side by side with the bare
# net/http and grpc-go limits and FastAPI + XGBoost (see run.py). Installs
# what it needs with apt-get when missing, uses Debian's /usr/bin/python3,
# loopback only. Env: DURATION (10), REPEATS (5), LOG_SAMPLE_RATE (0.01), ONLY (all; rest or grpc: a quick check that prints and writes nothing).
set -euo pipefail
cd "$(dirname "$0")/../.."
PY=/usr/bin/python3
need=()
command -v wrk >/dev/null || need+=(wrk)
command -v taskset >/dev/null || need+=(util-linux)
$PY -c 'import xgboost' 2>/dev/null || need+=(python3-xgboost)
$PY -c 'import sklearn' 2>/dev/null || need+=(python3-sklearn)
$PY -c 'import fastapi, uvicorn' 2>/dev/null || need+=(python3-fastapi python3-uvicorn)
$PY -c 'import uvloop, httptools' 2>/dev/null || need+=(python3-uvloop python3-httptools)
if ((${#need[@]})); then apt-get update && apt-get install -y "${need[@]}"; fi
BIN=$(mktemp -d)
trap 'rm -rf "$BIN"' EXIT
go build -o "$BIN/plinth" ./cmd/plinth
go build -o "$BIN/" ./bench/serving/bare/httpdot ./bench/serving/bare/grpcdot ./bench/serving/bare/tcpfloor ./bench/serving/bare/httpfloor ./bench/serving/grpcload
exec $PY bench/serving/run.py --bin "$BIN" --out bench/results \
  --duration "${DURATION:-10}" --repeats "${REPEATS:-5}" --log-sample-rate "${LOG_SAMPLE_RATE:-0.01}" --only "${ONLY:-all}"
