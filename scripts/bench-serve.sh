#!/usr/bin/env bash
# Admission webhook benchmark (issue 16). A model made with the documented
# commands (pin, build, keygen, attest, sign, push) into a local
# docker-registry; `mlprov serve` (release build) over HTTPS with a CA made
# here; wrk posts one AdmissionReview (a Pod naming the model by digest)
# over and over:
#   cached    the verdict is in the cache (goal: >= 2,000 reviews/s, p99 <= 5 ms)
#   uncached  --cache-ttl 0 and one connection: every review verifies the
#             model's graph in-process (registry manifest, referrers,
#             signatures), as the first review of a new digest does
# Prints reviews per second and the p50/p99 latency wrk measures, and the
# webhook's own counters (every review allowed, verifications run).
#   scripts/bench-serve.sh    (DURATION=10 CONNECTIONS=32 by default)
# Run it under `flock /work/bench.lock` on a shared machine.
DURATION="${DURATION:-10}"
CONNECTIONS="${CONNECTIONS:-32}"
source "$(dirname "$0")/bench-common.sh"

command -v docker-registry >/dev/null || { echo "docker-registry is not installed (apt-get install docker-registry)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)" >&2; exit 2; }
command -v openssl >/dev/null || { echo "openssl is not installed" >&2; exit 2; }
build_release

work="$BENCH/serve"
rm -rf "$work"; mkdir -p "$work"
serve_pid=""
stop_serve() {
  if [ -n "$serve_pid" ]; then kill "$serve_pid" 2>/dev/null || true; wait "$serve_pid" 2>/dev/null || true; fi
  serve_pid=""
}
cleanup() {
  stop_serve
  stop_registry
  [ "${KEEP:-0}" = 1 ] || rm -rf "$work"
}
trap cleanup EXIT
start_registry "$work/storage"

# The model, as the README makes one (fresh MLPROV_HOME).
export MLPROV_HOME="$work/home" MLPROV_CACHE_DIR="$work/cache" SOURCE_DATE_EPOCH=1700000000
proj="$work/project"
mkdir -p "$proj/out"
cat > "$proj/mlprov.toml" <<TOML
[artifact]
name = "bench/tiny"
version = "0.1.0"
kind = "model"
path = "out/"
license = "MIT"

[publish]
registry = "$reg/bench/tiny"
TOML
echo '{"hidden": 8}' > "$proj/out/config.json"
head -c 1048576 /dev/urandom > "$proj/out/weights.bin"
(
  cd "$proj"
  "$MLPROV" -q pin
  "$MLPROV" -q build --skip-training --allow-dirty
  "$MLPROV" -q keygen --no-password
  "$MLPROV" -q attest --key cosign.key
  "$MLPROV" -q sign --key cosign.key
  "$MLPROV" -q push --plain-http
)
digest="sha256:$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$reg/v2/bench/tiny/manifests/0.1.0" | sha256sum | cut -d' ' -f1)"
model="$reg/bench/tiny@$digest"

# TLS: a CA and a server certificate for 127.0.0.1.
tls="$work/tls"
mkdir -p "$tls"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj "/CN=bench-ca" \
  -keyout "$tls/ca.key" -out "$tls/ca.crt" 2>/dev/null
openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=mlprov-serve" \
  -keyout "$tls/tls.key" -out "$tls/tls.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > "$tls/ext.cnf"
openssl x509 -req -in "$tls/tls.csr" -CA "$tls/ca.crt" -CAkey "$tls/ca.key" -CAcreateserial -days 1 \
  -extfile "$tls/ext.cnf" -out "$tls/tls.crt" 2>/dev/null

cat > "$work/review.json" <<JSON
{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"bench","kind":{"group":"","version":"v1","kind":"Pod"},"resource":{"group":"","version":"v1","resource":"pods"},"namespace":"ml","name":"p","operation":"CREATE","userInfo":{"username":"bench"},"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","annotations":{"mlprov.dev/models":"$model"}},"spec":{"containers":[{"name":"c","image":"busybox"}]}},"dryRun":false}}
JSON
cat > "$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
local f = io.open(os.getenv("REVIEW"), "r")
wrk.body = f:read("*a")
f:close()
LUA

port=""
start_serve() {
  port=$(free_port)
  "$MLPROV" -q serve --listen "127.0.0.1:$port" --tls-cert "$tls/tls.crt" --tls-key "$tls/tls.key" \
    --key "$proj/cosign.pub" --plain-http --allow-registry "$reg" "$@" 2>"$work/serve.log" &
  serve_pid=$!
  for _ in $(seq 200); do curl -sf --cacert "$tls/ca.crt" "https://127.0.0.1:$port/healthz" >/dev/null && return; sleep 0.05; done
  echo "mlprov serve did not start:" >&2; cat "$work/serve.log" >&2; exit 1
}
review_once() {
  curl -sf --cacert "$tls/ca.crt" -H 'Content-Type: application/json' --data-binary "@$work/review.json" \
    "https://127.0.0.1:$port/validate"
}
metric() { curl -sf --cacert "$tls/ca.crt" "https://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m {print $2}'; }

# run_wrk LABEL THREADS CONNECTIONS: wrk's figures, one line.
run_wrk() {
  local label="$1" threads="$2" conns="$3" out
  out=$(REVIEW="$work/review.json" wrk -t"$threads" -c"$conns" -d"${DURATION}s" --latency -s "$work/post.lua" \
    "https://127.0.0.1:$port/validate")
  if grep -q "Non-2xx" <<<"$out"; then echo "$out" >&2; echo "non-2xx answers" >&2; exit 1; fi
  python3 - "$label" "$conns" <<PY
import re, sys
out = """$out"""
def ms(v):
    n, u = re.match(r"([\d.]+)(us|ms|s)", v).groups()
    return float(n) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[u]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
lat = dict(re.findall(r"^\s+(50|99)%\s+(\S+)", out, re.M))
total = re.search(r"(\d+) requests in", out).group(1)
print(f"{sys.argv[1]:<9} {sys.argv[2]:>4} connections  {rps:>9.0f} reviews/s  p50 {ms(lat['50']):7.2f} ms  p99 {ms(lat['99']):7.2f} ms  ({total} reviews)")
PY
}

echo "host: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); model $model"

# Cached verdicts.
start_serve --cache-ttl 3600
review_once | grep -q '"allowed":true' || { echo "the model is not admitted:" >&2; review_once >&2; exit 1; }
# wrk needs a connection per thread.
cached=$(run_wrk cached "$(( CONNECTIONS < 2 ? 1 : 2 ))" "$CONNECTIONS")
echo "$cached"
echo "          allowed $(metric 'mlprov_serve_reviews_total{result="allowed"}'), denied $(metric 'mlprov_serve_reviews_total{result="denied"}'), verifications $(metric mlprov_serve_verifications_total), cache hits $(metric mlprov_serve_cache_hits_total)"
stop_serve

# Uncached: every review verifies.
start_serve --cache-ttl 0
review_once | grep -q '"allowed":true' || { echo "the model is not admitted" >&2; exit 1; }
uncached=$(run_wrk uncached 1 1)
echo "$uncached"
echo "          allowed $(metric 'mlprov_serve_reviews_total{result="allowed"}'), denied $(metric 'mlprov_serve_reviews_total{result="denied"}'), verifications $(metric mlprov_serve_verifications_total), verification seconds sum $(metric mlprov_serve_verification_seconds_sum)"
stop_serve

python3 - "$cached" <<'PY'
import re, sys
rps = float(re.search(r"([\d.]+) reviews/s", sys.argv[1]).group(1))
p99 = float(re.search(r"p99\s+([\d.]+) ms", sys.argv[1]).group(1))
ok = rps >= 2000 and p99 <= 5
print(f"goal (cached): >= 2000 reviews/s and p99 <= 5 ms: {'met' if ok else 'NOT met'} ({rps:.0f} reviews/s, p99 {p99:.2f} ms)")
PY
