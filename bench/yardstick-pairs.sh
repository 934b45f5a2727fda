#!/usr/bin/env bash
# Side-by-side pairs on the shared tsung yardstick: Switchboard, then another
# server, PAIRS times, alternating, so that a machine that drifts over the
# run drifts for both. Prints each run's JSON line as it comes (stderr), then
# a table of the pairs, their ratios and the median ratio.
#
#   bench/yardstick-pairs.sh OTHER SCENARIO [N] [PAIRS]
#   bench/yardstick-pairs.sh ejabberd chat 1000 3
#   INTERVAL=0.25 MSGS=120 bench/yardstick-pairs.sh ejabberd chat 1000 3
#
# OTHER is any server the yardstick starts (prosody, ejabberd, jabberd2).
# Knobs are the yardstick's (INTERVAL, MSGS, RATE, …) and apply to both.
set -euo pipefail
cd "$(dirname "$0")/.."
OTHER=${1:?usage: bench/yardstick-pairs.sh OTHER SCENARIO [N] [PAIRS]}
SCENARIO=${2:?usage: bench/yardstick-pairs.sh OTHER SCENARIO [N] [PAIRS]}
N=${3:-}
PAIRS=${4:-3}
YARDSTICK=${YARDSTICK:-$(cd .. && pwd)/shared/bench}
OUT=$(mktemp /tmp/switchboard-pairs-XXXXXX.jsonl)

for i in $(seq "$PAIRS"); do
  bench/yardstick.sh "$SCENARIO" $N | sed "s/^/{\"pair\": $i, \"side\": \"switchboard\", \"run\": /; s/\$/}/" | tee -a "$OUT" >&2
  (cd "$YARDSTICK" && ./run.sh "$OTHER" "$SCENARIO" $N) | sed "s/^/{\"pair\": $i, \"side\": \"$OTHER\", \"run\": /; s/\$/}/" | tee -a "$OUT" >&2
done

python3 - "$OUT" "$OTHER" "$SCENARIO" <<'EOF'
import json, statistics, sys
path, other, scenario = sys.argv[1:4]
# The yardstick's cost figure for each scenario, lower is better.
field = {"chat": "server_cpu_us_per_msg", "login": "server_cpu_ms_per_login", "idle": "rss_kb_per_session"}[scenario]
runs = {}
for line in open(path):
    r = json.loads(line)
    runs.setdefault(r["pair"], {})[r["side"]] = r["run"]
print(f"| pair | switchboard {field} | {other} {field} | ratio | switchboard p99 ms | {other} p99 ms | delivered (switchboard, {other}) | errors |")
print("|---|---|---|---|---|---|---|---|")
ratios = []
for pair, sides in sorted(runs.items()):
    ours, theirs = sides.get("switchboard"), sides.get(other)
    if not ours or not theirs:
        continue
    ratio = ours[field] / theirs[field]
    ratios.append(ratio)
    delivered = f'{ours.get("msgs_delivered", "-")}/{ours.get("msgs_sent", "-")}, {theirs.get("msgs_delivered", "-")}/{theirs.get("msgs_sent", "-")}'
    print(f'| {pair} | {ours[field]} | {theirs[field]} | {ratio:.2f}× | {ours["p99_ms"]} | {theirs["p99_ms"]} | {delivered} | {ours["errors"]}, {theirs["errors"]} |')
if ratios:
    print(f"\nmedian ratio over {len(ratios)} pairs: {statistics.median(ratios):.2f}× (range {min(ratios):.2f}–{max(ratios):.2f}×); lines in {path}")
EOF
