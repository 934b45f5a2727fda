#!/usr/bin/env bash
# Measures Switchboard with the shared tsung yardstick (../shared/bench):
# starts `switchboard serve` in its benchmark profile (plain TCP, SASL PLAIN
# allowed on loopback, user1..userN / pass), runs the scenario as
# SERVER=external, stops the server. Prints the yardstick's JSON line.
#
#   bench/yardstick.sh SCENARIO [N]         e.g. bench/yardstick.sh chat 1000
#   INTERVAL=0.25 MSGS=120 bench/yardstick.sh chat 1000
#   bench/yardstick.sh --node-floor chat 1000   Node's floor instead of the
#     server: bench/floor/xmpp-forwarder.ts (canned login, messages copied)
# Knobs are the yardstick's (RATE, HOLD, MSGS, INTERVAL, …); YARDSTICK points at it.
set -euo pipefail
cd "$(dirname "$0")/.."
FLOOR=0
if [ "${1:-}" = --node-floor ]; then FLOOR=1; shift; fi
SCENARIO=${1:?usage: bench/yardstick.sh login|chat|idle [N]}
case "$SCENARIO" in login) N=${2:-2000} ;; chat) N=${2:-1000} ;; idle) N=${2:-5000} ;; *) echo "unknown scenario" >&2; exit 2 ;; esac
YARDSTICK=${YARDSTICK:-$(cd .. && pwd)/shared/bench}
PORT=${PORT:-15262}
DATA=$(mktemp -d /tmp/switchboard-yardstick-XXXXXX)
trap 'kill $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true; rm -rf "$DATA"' EXIT

FLAGS=(--data-dir "$DATA" --c2s-port "$PORT" --c2s-tls-port -1 --ws-port -1 --allow-plaintext-on-loopback)
if [ "$FLOOR" = 1 ]; then
  node --import tsx bench/floor/xmpp-forwarder.ts "$PORT" >&2 &
else
  node scripts/build.mjs
  node dist/switchboard.mjs bench-users "$N" pass "${FLAGS[@]}" >&2
  node dist/switchboard.mjs serve "${FLAGS[@]}" >&2 &
fi
SERVER=$!
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
HOST=127.0.0.1 PORT=$PORT PID=$SERVER "$YARDSTICK/run.sh" external "$SCENARIO" "$N"
