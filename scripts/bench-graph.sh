#!/usr/bin/env bash
# Provenance-graph verification benchmark (issue 7, "Performance"): generated
# DAGs (scripts/gen-graph.py: 10 levels, shared inputs, 3 P-256 bundles per
# node: SLSA provenance, SPDX 3 SBOM, scan) verified from the local store by
#   taskset -c 0 mlprov --format json verify sha256:<root> --policy policy.toml
# on one core (RAYON_NUM_THREADS=1 too). Prints, per size, the median wall
# and CPU (user + sys) time, the cost per node and per bundle and the peak
# RSS; then the ratio of the largest to the smallest size against the ideal
# (linear) ratio. Targets: the 1,000-node graph in <= 1 s (median wall), and
# linear growth: the per-node CPU cost at the largest size within 1.10x of
# the smallest's (CPU time, because wall time on a shared machine is too
# noisy for a ratio). --check makes a missed target exit 1.
#
# Every graph is first verified once and its JSON report checked: verified,
# exactly N nodes (all verified), every generated edge, no finding; every
# timed run must exit 0. A broken graph cannot benchmark fast by accident.
#
#   scripts/bench-graph.sh [--runs N] [--sizes "1000 10000"] [--keep] [--check]
# (--runs defaults to $RUNS, else 5.)
#
# Env: MLPROV_BIN (the binary to measure; default: build the release binary,
#      honouring CARGO_TARGET_DIR), MLPROV_VALIDATORS (a venv with the
#      `cryptography` package for the generator, default target/validators/bin),
#      MLPROV_BENCH_DIR (default target/bench). The graphs (about 28 MB per
#      1,000 nodes) are kept in $MLPROV_BENCH_DIR/graph-N and reused with
#      --keep; otherwise deleted at the end (the disk is shared).
# shellcheck source=bench-common.sh source-path=SCRIPTDIR
source "$(dirname "${BASH_SOURCE[0]}")/bench-common.sh"

sizes="1000 10000"
keep=0
check=0
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS="$2"; shift 2 ;;
        --sizes) sizes="$2"; shift 2 ;;
        --keep) keep=1; shift ;;
        --check) check=1; shift ;;
        -h|--help) sed -n '2,25p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
read -r -a sizes <<< "$sizes"
[ "${#sizes[@]}" -ge 1 ] || { echo "--sizes: give at least one size" >&2; exit 2; }

if [ -n "${MLPROV_BIN:-}" ]; then
    MLPROV="$MLPROV_BIN"
else
    echo "building mlprov (release)…" >&2
    build_release
    MLPROV="${CARGO_TARGET_DIR:-$ROOT/target}/release/mlprov"
fi
[ -x "$MLPROV" ] || { echo "no mlprov binary at $MLPROV" >&2; exit 2; }

# The generator needs `cryptography`: the validators venv has it.
py=""
for cand in "$VALIDATORS/python" python3; do
    if command -v "$cand" >/dev/null && "$cand" -c 'import cryptography' 2>/dev/null; then
        py="$cand"; break
    fi
done
if [ -z "$py" ]; then
    ensure_validators
    py="$VALIDATORS/python"
fi

pin=(taskset -c 0)
if ! command -v taskset >/dev/null; then
    echo "taskset not found: runs are not pinned to one core" >&2
    pin=()
fi

mkdir -p "$BENCH"
generated=()
cleanup() {
    if [ "$keep" = 0 ] && [ "${#generated[@]}" -gt 0 ]; then rm -rf "${generated[@]}"; fi
}
trap cleanup EXIT

field() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$1" "$2"; }

# verify_graph DIR ROOT [WRAPPER…]: one verification of the graph in DIR
# (one core), its JSON report on stdout. The exit status is mlprov's.
verify_graph() {
    local dir="$1" root="$2"
    shift 2
    (cd "$dir" && MLPROV_HOME="$dir/home" RAYON_NUM_THREADS=1 \
        "$@" "${pin[@]}" "$MLPROV" --format json verify "$root" --policy "$dir/policy.toml")
}

# check_report DIR REPORT: the report proves the whole generated graph.
check_report() {
    python3 - "$1/graph.json" "$2" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
r = json.load(open(sys.argv[2]))
problems = []
if r.get("verified") is not True:
    problems.append("verified is not true")
if r.get("root") != g["root"]:
    problems.append(f"root {r.get('root')} is not {g['root']}")
nodes = r.get("nodes", [])
if len(nodes) != g["nodes"]:
    problems.append(f"{len(nodes)} nodes reported, {g['nodes']} generated")
bad = [n["id"] for n in nodes if not n.get("verified") or n.get("kind") != "artifact"]
if bad:
    problems.append(f"{len(bad)} nodes not verified artifacts (first {bad[0]})")
short = [n["id"] for n in nodes if len(n.get("proven", [])) != 3]
if short:
    problems.append(f"{len(short)} nodes without 3 proven attestation types (first {short[0]})")
if len(r.get("edges", [])) != g["edges"]:
    problems.append(f"{len(r.get('edges', []))} edges reported, {g['edges']} generated")
if r.get("findings"):
    problems.append(f"{len(r['findings'])} findings (first {r['findings'][0]})")
if problems:
    print("the verification report does not prove the generated graph: " + "; ".join(problems), file=sys.stderr)
    sys.exit(1)
PY
}

# timed DIR ROOT: "WALL CPU" seconds of one verification (CPU = user + sys of
# mlprov, from wait4: less sensitive than wall time to other work on the
# machine); a failed verification stops the benchmark.
timed() {
    local out
    if ! out=$(verify_graph "$1" "$2" python3 -c '
import os, subprocess, sys, time
t0 = time.perf_counter()
p = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, ru = os.wait4(p.pid, 0)
wall = time.perf_counter() - t0
if os.waitstatus_to_exitcode(status) != 0:
    sys.exit(1)
print(f"{wall:.4f} {ru.ru_utime + ru.ru_stime:.4f}")
'); then
        echo "FAILED: verifying the graph in $1" >&2
        verify_graph "$1" "$2" > /dev/null || true
        exit 1
    fi
    printf '%s\n' "$out"
}

# The graphs: generated, or reused when a complete one is there.
dirs=()
roots=()
for n in "${sizes[@]}"; do
    dir="$BENCH/graph-$n"
    if [ ! -f "$dir/.complete" ]; then
        rm -rf "$dir"
        echo "generating a $n-node graph in $dir…" >&2
        "$py" "$ROOT/scripts/gen-graph.py" "$n" "$dir" > /dev/null
        touch "$dir/.complete"
    fi
    generated+=("$dir")
    dirs+=("$dir")
    roots+=("$(field "$dir/graph.json" root)")
done

# One checked run per graph (it also warms the page cache).
for i in "${!dirs[@]}"; do
    dir="${dirs[$i]}"
    report="$dir/report.json"
    if ! verify_graph "$dir" "${roots[$i]}" > "$report" 2> "$dir/verify.err"; then
        echo "verification of the graph in $dir failed:" >&2
        cat "$dir/verify.err" >&2
        check_report "$dir" "$report" || true
        exit 1
    fi
    check_report "$dir" "$report"
    echo "checked: $(field "$dir/graph.json" nodes) nodes, $(field "$dir/graph.json" edges) edges verified in $dir" >&2
    rm -f "$report"
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "timing $RUNS rounds (interleaved)…" >&2
declare -A wall cpu
for _ in $(seq "$RUNS"); do
    for i in "${!dirs[@]}"; do
        read -r w c <<< "$(timed "${dirs[$i]}" "${roots[$i]}")"
        wall[$i]+="$w "
        cpu[$i]+="$c "
    done
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

median() { python3 -c 'import statistics,sys; print(f"{statistics.median(map(float, sys.argv[1:])):.4f}")' "$@"; }
minimum() { python3 -c 'import sys; print(f"{min(map(float, sys.argv[1:])):.4f}")' "$@"; }
calc() { python3 -c "print(f'{$1:.${2:-3}f}')"; }

echo
echo "mlprov verify of generated provenance graphs from the local store, one core (taskset -c 0, RAYON_NUM_THREADS=1)"
echo "binary: $MLPROV"
echo "load average: before $load_before, after $load_after ($(nproc) cores; other work on the machine inflates wall times)"
declare -a med_wall med_cpu min_wall node_wall node_cpu
for i in "${!dirs[@]}"; do
    dir="${dirs[$i]}"
    n=$(field "$dir/graph.json" nodes)
    e=$(field "$dir/graph.json" edges)
    b=$(field "$dir/graph.json" bundles)
    mb=$(calc "$(field "$dir/graph.json" bundleBytes) / 1e6" 1)
    read -r -a tw <<< "${wall[$i]}"
    read -r -a tc <<< "${cpu[$i]}"
    med_wall[i]=$(median "${tw[@]}")
    med_cpu[i]=$(median "${tc[@]}")
    min_wall[i]=$(minimum "${tw[@]}")
    node_wall[i]=$(calc "${med_wall[$i]} / $n * 1e6" 1)
    node_cpu[i]=$(calc "${med_cpu[$i]} / $n * 1e6" 1)
    rss=$(verify_graph "$dir" "${roots[$i]}" peak_rss_mib)
    printf '%6d nodes (%d edges, %d bundles, %s MB, peak RSS %s MiB)\n' "$n" "$e" "$b" "$mb" "$rss"
    printf '        wall: median %7.3f s (fastest %.3f)  %7.1f µs/node  %6.1f µs/bundle\n' \
        "${med_wall[$i]}" "${min_wall[$i]}" "${node_wall[$i]}" "$(calc "${med_wall[$i]} / $b * 1e6" 1)"
    printf '        CPU:  median %7.3f s                   %7.1f µs/node  %6.1f µs/bundle\n' \
        "${med_cpu[$i]}" "${node_cpu[$i]}" "$(calc "${med_cpu[$i]} / $b * 1e6" 1)"
    printf '        runs (wall): %s\n' "${wall[$i]}"
    printf '        runs (CPU):  %s\n' "${cpu[$i]}"
done

missed=0
for i in "${!dirs[@]}"; do
    n=$(field "${dirs[$i]}/graph.json" nodes)
    if [ "$n" = 1000 ]; then
        ok=$(python3 -c "print('ok' if ${med_wall[$i]} <= 1.0 else 'MISSED')")
        [ "$ok" = ok ] || missed=1
        printf 'target: 1,000 nodes in <= 1 s (median wall): %.3f s (%s)\n' "${med_wall[$i]}" "$ok"
    fi
done
last=$((${#dirs[@]} - 1))
if [ "$last" -gt 0 ]; then
    n0=$(field "${dirs[0]}/graph.json" nodes)
    n1=$(field "${dirs[$last]}/graph.json" nodes)
    ideal=$(calc "$n1 / $n0" 1)
    per_cpu=$(ratio "${node_cpu[$last]}" "${node_cpu[0]}")
    ok=$(python3 -c "print('ok' if $per_cpu <= 1.10 else 'MISSED')")
    [ "$ok" = ok ] || missed=1
    printf 'linearity (ideal ratio %s): wall median %s, wall fastest %s, CPU median %s\n' "$ideal" \
        "$(ratio "${med_wall[$last]}" "${med_wall[0]}")" "$(ratio "${min_wall[$last]}" "${min_wall[0]}")" \
        "$(ratio "${med_cpu[$last]}" "${med_cpu[0]}")"
    printf 'target: per-node CPU cost at %d nodes within 1.10x of %d nodes: %sx (%s)\n' "$n1" "$n0" "$per_cpu" "$ok"
fi

if [ "$missed" = 1 ] && [ "$check" = 1 ]; then
    echo "a performance target was missed" >&2
    exit 1
fi
