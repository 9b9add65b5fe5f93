#!/usr/bin/env bash
# The switchover test with real clients (maint-notifications-spec.md §5): node-redis 6.3.1 and
# redis-py 8.1.0, unmodified and with default settings, through a FAILOVER of a server pair on
# 127.0.0.1:P / 127.0.0.2:P. See switchover.py for the scenarios and checks.
#
#   interop/switchover/run.sh <handoff-server binary> [--scenario main,control,handshake] [--keep]
#
# Needs node with interop/node_modules (npm ci in interop/), python3 with redis==8.1.0 (no
# hiredis), and redis-cli. Prints `<check>: N passed, N failed` per check; exits 1 on a failure.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
server=${1:?usage: run.sh <handoff-server binary> [--scenario main,control,handshake] [--keep]}
shift
[ -d "$here/../node_modules/redis" ] || { echo "interop/node_modules missing: run npm ci in interop/" >&2; exit 2; }
command -v redis-cli >/dev/null || { echo "redis-cli not found" >&2; exit 2; }
python3 - <<'PY'
import importlib.util, sys
import redis
if redis.__version__ != "8.1.0":
    sys.exit(f"redis-py {redis.__version__} installed, the test pins 8.1.0")
if importlib.util.find_spec("hiredis") is not None:
    print("note: hiredis is installed; redis-py may use it instead of its pure-Python RESP3 parser", file=sys.stderr)
PY
node -e 'const v = require(process.argv[1] + "/../node_modules/redis/package.json").version; if (v !== "6.3.1") { console.error(`node-redis ${v} installed, the test pins 6.3.1`); process.exit(2); }' "$here"
exec timeout 300 python3 "$here/switchover.py" --server "$server" "$@"
