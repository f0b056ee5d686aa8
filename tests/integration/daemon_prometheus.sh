#!/bin/bash
# podwired's metrics read by a real Prometheus: a 3-node mesh (file store) whose daemons serve
# /metrics on their underlay addresses, one Prometheus in the router namespace scraping all
# three. Checks: promtool check metrics finds nothing on each node's exposition; every target
# is up; a handshake-age series (time() - podwire_peer_last_handshake_timestamp_seconds) and a
# transfer series (podwire_peer_transmit_bytes_total) come back through the HTTP API with
# sane values after pods talk; the README's example alert passes promtool check rules and
# Prometheus loads it healthy, with nothing firing; the README's scrape config is the one used.
T=pq NET=216
source "$(dirname "$0")/lib/common.bash"
require_cmd prometheus promtool curl python3
cluster_init
ip -n "pn-$T-r" addr add "192.168.$NET.254/24" dev br0

log "3 nodes, metrics on their underlay addresses"
for i in 1 2 3; do node_ns $i; daemon_start $i --metrics "192.168.$NET.$i:9586"; done
for i in 1 2 3; do wait_until 15 has_peers $i 2 || fail "n$i has $(peers_of $i) peers, want 2"; done
for i in 1 2 3; do pod_add $i 1; done
all_pods_reach || fail "pods cannot reach each other"

log "promtool check metrics"
for i in 1 2 3; do
	ip netns exec "pn-$T-r" curl -sf "http://192.168.$NET.$i:9586/metrics" >"$W/metrics-$i" || fail "no metrics from n$i"
	out=$(promtool check metrics <"$W/metrics-$i" 2>&1) || { echo "$out"; fail "promtool rejects n$i's metrics"; }
	[ -z "$out" ] || { echo "$out"; fail "promtool has remarks on n$i's metrics"; }
	echo "n$i: $(grep -vc '^#' "$W/metrics-$i") samples, promtool: nothing to report"
done

log "the README's alert rule"
# The rule as the README shows it, between the markers of its yaml block.
sed -n '/^    groups:/,/^$/p' "$(dirname "$0")/../../README.md" | sed 's/^    //' >"$W/rules.yml"
[ -s "$W/rules.yml" ] || fail "no alert rule found in README.md"
cat "$W/rules.yml"
promtool check rules "$W/rules.yml" || fail "promtool check rules"

log "Prometheus scraping the three daemons, with the README's scrape config"
# The README's block (its two example targets become the three nodes, its interval 1 s).
sed -n '/^    scrape_configs:/,/^$/p' "$(dirname "$0")/../../README.md" | sed 's/^    //' >"$W/scrape.yml"
grep -q '"192.168.1.1:9586", "192.168.1.2:9586"' "$W/scrape.yml" || { cat "$W/scrape.yml"; fail "no scrape config in README.md"; }
{
	printf 'global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: ["%s"]\n' "$W/rules.yml"
	sed -e "s/\"192.168.1.1:9586\", \"192.168.1.2:9586\"/\"192.168.$NET.1:9586\", \"192.168.$NET.2:9586\", \"192.168.$NET.3:9586\"/" \
		-e 's/scrape_interval: 15s/scrape_interval: 1s/' "$W/scrape.yml"
} >"$W/prometheus.yml"
cat "$W/prometheus.yml"
promtool check config "$W/prometheus.yml" >/dev/null || fail "promtool check config"
ip netns exec "pn-$T-r" prometheus --config.file="$W/prometheus.yml" --storage.tsdb.path="$W/tsdb" \
	--web.listen-address="192.168.$NET.254:9616" >"$W/prometheus.log" 2>&1 &
track_pid $!
api="http://192.168.$NET.254:9616/api/v1"
query() { # PROMQL: the result vector as "labels value" lines
	ip netns exec "pn-$T-r" curl -sf --data-urlencode "query=$1" "$api/query" |
		python3 -c 'import json,sys
d=json.load(sys.stdin); assert d["status"]=="success", d
for r in d["data"]["result"]:
    m=r["metric"]; print(",".join(k+"="+v for k,v in sorted(m.items()) if k!="public_key"), r["value"][1])'
}
targets_up() { [ "$(query 'sum(up{job="podwired"})' | awk '{print $NF}')" = 3 ]; }
wait_until 30 targets_up || { tail -n 20 "$W/prometheus.log"; fail "Prometheus does not see 3 targets up"; }
query 'up{job="podwired"}'

# Six directed peer pairs; each has shaken hands while the pods pinged.
ages() { query 'time() - podwire_peer_last_handshake_timestamp_seconds{job="podwired"}'; }
six_ages() { [ "$(ages | wc -l)" -eq 6 ]; }
wait_until 15 six_ages || fail "want 6 handshake-age series, got $(ages | wc -l)"
ages | tee "$W/ages"
awk '{ if ($NF < 0 || $NF > 180) bad++ } END { exit bad > 0 }' "$W/ages" || fail "a handshake age is outside [0, 180] s"

tx() { query 'podwire_peer_transmit_bytes_total{job="podwired"} > 0'; }
six_tx() { [ "$(tx | wc -l)" -eq 6 ]; }
wait_until 15 six_tx || fail "want 6 non-zero transfer series, got $(tx | wc -l)"
tx
# The exposition's byte counter and Prometheus' agree on a node: the API serves what was scraped.
n1_tx=$(query 'sum(podwire_peer_transmit_bytes_total{job="podwired",instance="192.168.'$NET'.1:9586"})' | awk '{print $NF}')
echo "n1 transmitted $n1_tx bytes in all (Prometheus)"
[ "${n1_tx%.*}" -gt 0 ] || fail "n1's transmit total is zero"

rules_ok() {
	ip netns exec "pn-$T-r" curl -sf "$api/rules" | python3 -c 'import json,sys
d=json.load(sys.stdin); r=[x for g in d["data"]["groups"] for x in g["rules"]]
assert len(r)==1 and r[0]["health"]=="ok" and r[0]["state"]=="inactive", r
print(r[0]["name"], r[0]["health"], r[0]["state"])'
}
wait_until 10 rules_ok || { rules_ok; fail "the alert rule is not loaded, healthy and quiet"; }
rules_ok
echo "ok"
