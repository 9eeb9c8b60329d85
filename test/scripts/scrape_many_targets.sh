#!/usr/bin/env bash
# scrape_many_targets.sh: profile-gateway --config with a file_sd list of many targets
# (PE_SCRAPE_TARGETS, default 20000; each a closed loopback port, scraped once an hour):
# the target list is synced in O(n log n) (sorted keys, binary search), so the loops appear
# in /metrics soon after start and follow a file_sd change that drops half of them and one
# that changes every target's labels; the gateway keeps answering and stops cleanly.
# The time each sync took is printed (a loaded machine's wall clock: informative only).
# Needs PG* of a running server with profile_ext installed, python3, curl.
set -uo pipefail
repo=$(cd "$(dirname "$0")/../.." && pwd)
. "$repo/test/lib.sh"

gateway=${PROFILE_EXT_GATEWAY:-$repo/src/gateway/profile-gateway}
[ -x "$gateway" ] || gateway=$(pg_config --bindir)/profile-gateway
for need in python3 curl; do
	command -v "$need" >/dev/null || skip_all "needs $need"
done
[ -x "$gateway" ] || give_up "profile-gateway is not built (make)"
n=${PE_SCRAPE_TARGETS:-20000}

pe_work scrape_many
work=$WORK
gw=''
stop_gateway() { [ -n "$gw" ] && kill "$gw" 2>/dev/null; wait 2>/dev/null; }
PE_CLEANUP_HOOKS+=(stop_gateway)
mkdir -p "$work/sd"
qt -q -c "CREATE EXTENSION IF NOT EXISTS profile_ext;
	CREATE TABLE IF NOT EXISTS profiles (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL)" ||
	give_up "cannot create the table"

# write_targets COUNT LABEL: COUNT targets 127.x.y.z:1 (nothing listens on port 1)
write_targets() {
	python3 - "$1" "$2" "$work/sd/fleet.json" <<'PY'
import json, os, sys
n, label, path = int(sys.argv[1]), sys.argv[2], sys.argv[3]
targets = ["127.%d.%d.%d:1" % (i // 62500 % 250 + 1, i // 250 % 250 + 1, i % 250 + 1)
           for i in range(n)]
with open(path + ".tmp", "w") as f:
    json.dump([{"targets": targets, "labels": {"wave": label}}], f)
os.rename(path + ".tmp", path)
PY
}
write_targets "$n" a
printf '%s\n' 'scrape_interval: 1h' 'scrape_configs:' '  - job_name: fleet' \
	'    file_sd_configs: [{files: ["sd/*.json"]}]' \
	'    profiling_config: {process_cpu: false, memory: false, goroutine: true, mutex: false, block: false}' \
	>"$work/scrape.yaml"
port=$(pe_pick_port)
"$gateway" --listen "127.0.0.1:$port" --dsn "host=$PGHOST port=$PGPORT user=$PGUSER dbname=$PGDATABASE" \
	--config "$work/scrape.yaml" >"$work/gateway.log" 2>&1 &
gw=$!

targets_gauge() {
	curl -sf "http://127.0.0.1:$port/metrics" | awk '/^profile_scrape_targets /{print $2}'
}
# wait_targets COUNT SECONDS: until the gauge says COUNT; prints the seconds it took
wait_targets() {
	local start until=$((SECONDS + $2))
	start=$(date +%s.%N)
	while [ $SECONDS -lt $until ]; do
		if [ "$(targets_gauge)" = "$1" ]; then
			python3 -c "print('%.2f' % ($(date +%s.%N) - $start))"
			return 0
		fi
		sleep 0.1
	done
	return 1
}

if t=$(wait_targets "$n" 60); then
	ok "$n targets loaded from file_sd in ${t}s after start"
else
	tail -5 "$work/gateway.log"
	give_up "profile_scrape_targets is $(targets_gauge), not $n"
fi
write_targets $((n / 2)) a
if t=$(wait_targets $((n / 2)) 60); then
	ok "file_sd shrunk to $((n / 2)) targets: synced within ${t}s"
else
	bad "after the shrink profile_scrape_targets is $(targets_gauge)"
fi
# new labels for every target (one fewer, to see the sync): all new loops, each keeping its
# predecessor's cadence
write_targets $((n / 2 - 1)) b
if t=$(wait_targets $((n / 2 - 1)) 60) && curl -sf "http://127.0.0.1:$port/ready" -o /dev/null; then
	ok "every target's labels changed: synced within ${t}s, the gateway answers"
else
	bad "after the label change: targets $(targets_gauge), or /ready does not answer"
fi
scraped=$(curl -sf "http://127.0.0.1:$port/metrics" | grep -c '^profile_scrapes_total{')
[ "$scraped" -gt 0 ] && ok "scrapes ran meanwhile ($scraped targets scraped so far)" ||
	bad "no scrape ran"
kill -TERM "$gw"
wait "$gw"
rc=$?
gw=''
[ "$rc" = 0 ] && ok "SIGTERM: exit 0" || bad "gateway exit status $rc"
grep -qiE 'AddressSanitizer|runtime error|segfault|core dumped' "$work/gateway.log" && bad "gateway crashed"
finish
