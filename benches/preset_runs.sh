#!/usr/bin/env bash
# Per-stage wall time and peak RSS of `udll run` for each preset whose data
# is present (and the synthetic default), with the irreducible fine-tuning
# state beside it: C, its gradient and Adam's two moments, 4·n² f32.
# Reports, asserts nothing.
# Usage: bash benches/preset_runs.sh [OUT_DIR] [THREADS] [PRESETS]   (data from ../shared/data;
# PRESETS is a comma-separated subset, default all present). UDLL_BIN=path
# times that binary instead of building this tree's (an older build, run
# alternately with the new one in the same hour).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/presets}
THREADS=${2:-2}
ONLY=${3:-synthetic,coil20,orl,yaleb32,coil100,yaleb}
DATA=../shared/data
if [ -n "${UDLL_BIN:-}" ]; then
    B=$UDLL_BIN
else
    B=target/release/udll
    cargo build --release --quiet
fi
mkdir -p "$OUT"
echo "preset,n,threads,pretrain_s,graph_s,finetune_s,cluster_s,total_s,peak_rss_mb,state_4n2_mb,acc"
run() { # preset n [udll run args...]
    local preset=$1 n=$2; shift 2
    case ",$ONLY," in *",$preset,"*) ;; *) return 0 ;; esac
    local dir=$OUT/$preset
    /usr/bin/time -v -o "$dir.time" $B run --preset "$preset" --threads "$THREADS" --out "$dir" --quiet "$@" >/dev/null
    local rss_kb
    rss_kb=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$dir.time")
    python3 - "$dir/metrics.json" "$preset" "$n" "$THREADS" "$rss_kb" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); t = m["timings_seconds"]
n = int(sys.argv[3]); rss = int(sys.argv[5]) / 1024
print(f'{sys.argv[2]},{n},{sys.argv[4]},{t["pretrain"]:.1f},{t["graph"]:.1f},{t["finetune"]:.1f},{t["cluster"]:.1f},{t["total"]:.1f},{rss:.0f},{4*n*n*4/2**20:.0f},{m["acc"]:.4f}')
PY
}
run synthetic 1440
[ -e $DATA/COIL20.mat ] && run coil20 1440 --data $DATA/COIL20.mat
[ -e $DATA/ORL_32x32.mat ] && run orl 400 --data $DATA/ORL_32x32.mat
[ -e $DATA/YaleB_32x32.mat ] && run yaleb32 2414 --data $DATA/YaleB_32x32.mat
[ -e $DATA/COIL100.mat ] && run coil100 7200 --data $DATA/COIL100.mat
[ -e $DATA/YaleBCrop025.mat ] && run yaleb 2432 --data $DATA/YaleBCrop025.mat --image-size 48x42
exit 0
