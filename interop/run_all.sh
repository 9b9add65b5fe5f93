#!/usr/bin/env bash
# Runs every interop suite (redis-cli/redis-benchmark, Python clients, node clients) against one
# server and exits non-zero if any check failed. Usage: interop/run_all.sh [HOST] PORT
# The server must be one the suites may flush. Node modules must be installed (npm ci here).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ $# -eq 1 ]; then host=127.0.0.1; port=$1; else host=${1:?usage: run_all.sh [HOST] PORT}; port=${2:?usage: run_all.sh [HOST] PORT}; fi
export INTEROP_HOST=$host INTEROP_PORT=$port
status=0
run() {
  local name=$1; shift
  echo "=== interop: $name against $host:$port"
  if ! timeout 180 "$@"; then
    echo "=== interop: $name FAILED"
    status=1
  fi
}
run redis-cli python3 "$here/test_redis_cli.py"
run python-clients python3 "$here/test_python_clients.py"
run node-clients node "$here/test_node_clients.mjs"
run app-patterns-python python3 "$here/test_app_patterns.py"
run app-patterns-node node "$here/test_app_patterns.mjs"
exit $status
