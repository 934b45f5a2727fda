#!/usr/bin/env bash
# Side-by-side pairs on the shared tsung yardstick: Switchboard, then one or
# more other servers, PAIRS times, alternating, so that a machine that drifts
# over the run drifts for all. Prints each run's JSON line as it comes
# (stderr), then a table of the pairs, their ratios and the median ratio.
#
#   bench/yardstick-pairs.sh OTHER[,OTHER…] SCENARIO [N] [PAIRS]
#   bench/yardstick-pairs.sh ejabberd chat 1000 3
#   bench/yardstick-pairs.sh ejabberd,node-floor chat 1000 3
#   INTERVAL=0.25 MSGS=120 bench/yardstick-pairs.sh ejabberd chat 1000 3
#
# OTHER is any server the yardstick starts (prosody, ejabberd, jabberd2), or
# node-floor: bench/floor/xmpp-forwarder.ts, what Node's own net stack costs
# to pass tsung's messages along (chat only). Knobs are the yardstick's
# (INTERVAL, MSGS, RATE, …) and apply to all.
set -euo pipefail
cd "$(dirname "$0")/.."
OTHER=${1:?usage: bench/yardstick-pairs.sh OTHER SCENARIO [N] [PAIRS]}
SCENARIO=${2:?usage: bench/yardstick-pairs.sh OTHER SCENARIO [N] [PAIRS]}
N=${3:-}
PAIRS=${4:-3}
YARDSTICK=${YARDSTICK:-$(cd .. && pwd)/shared/bench}
OUT=$(mktemp /tmp/switchboard-pairs-XXXXXX.jsonl)

# One yardstick run of SIDE, as a JSON line.
run_side() {
  case "$1" in
    switchboard) bench/yardstick.sh "$SCENARIO" $N ;;
    node-floor) bench/yardstick.sh --node-floor "$SCENARIO" $N ;;
    *) (cd "$YARDSTICK" && ./run.sh "$1" "$SCENARIO" $N) ;;
  esac
}

for i in $(seq "$PAIRS"); do
  for side in switchboard ${OTHER//,/ }; do
    run_side "$side" | sed "s/^/{\"pair\": $i, \"side\": \"$side\", \"run\": /; s/\$/}/" | tee -a "$OUT" >&2
  done
done

python3 - "$OUT" "$OTHER" "$SCENARIO" <<'EOF'
import json, statistics, sys
path, others, scenario = sys.argv[1:4]
# The yardstick's cost figure for each scenario, lower is better.
field = {"chat": "server_cpu_us_per_msg", "login": "server_cpu_ms_per_login", "idle": "rss_kb_per_session"}[scenario]
runs = {}
for line in open(path):
    r = json.loads(line)
    runs.setdefault(r["pair"], {})[r["side"]] = r["run"]
for other in others.split(","):
    print(f"\n| pair | switchboard {field} | {other} {field} | ratio | switchboard p99 ms | {other} p99 ms | delivered (switchboard, {other}) | errors |")
    print("|---|---|---|---|---|---|---|---|")
    ratios = []
    for pair, sides in sorted(runs.items()):
        ours, theirs = sides.get("switchboard"), sides.get(other)
        if not ours or not theirs or not theirs.get(field):
            continue
        ratio = ours[field] / theirs[field]
        ratios.append(ratio)
        delivered = f'{ours.get("msgs_delivered", "-")}/{ours.get("msgs_sent", "-")}, {theirs.get("msgs_delivered", "-")}/{theirs.get("msgs_sent", "-")}'
        print(f'| {pair} | {ours[field]} | {theirs[field]} | {ratio:.2f}× | {ours["p99_ms"]} | {theirs["p99_ms"]} | {delivered} | {ours["errors"]}, {theirs["errors"]} |')
    if ratios:
        print(f"\nswitchboard / {other}: median ratio over {len(ratios)} pairs {statistics.median(ratios):.2f}× (range {min(ratios):.2f}–{max(ratios):.2f}×)")
print(f"lines in {path}")
EOF
