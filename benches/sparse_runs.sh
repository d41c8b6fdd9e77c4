#!/usr/bin/env bash
# Sparse self-expression (issue 28): the rows of BENCHMARKS.md,
# "Sparse self-expression". Each run's ACC/NMI/ARI, stage times and peak
# RSS (/usr/bin/time -v) go to $OUT/summary.txt.
#
#   bash benches/sparse_runs.sh [OUT] [ROWS...]
#
# ROWS: mnist-ensc mnist-omp others synthetic (default: all). Needs
# ../shared/data (MNIST-10k, COIL-20, ORL, Yale B); builds the release
# binary unless UDLL_BIN names one.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-/tmp/udll-sparse-runs}
shift || true
ROWS=${*:-mnist-ensc mnist-omp others synthetic}
DATA=../shared/data
BIN=${UDLL_BIN:-target/release/udll}
[ -n "${UDLL_BIN:-}" ] || cargo build --release --quiet
mkdir -p "$OUT"

one() { # name, then udll run's arguments
    local name=$1
    shift
    /usr/bin/time -v "$BIN" run "$@" --out "$OUT/$name" --quiet >"$OUT/$name.log" 2>&1 || { echo "$name FAILED" >>"$OUT/summary.txt"; return; }
    local acc wall rss
    acc=$(grep -m1 "^ACC" "$OUT/$name.log" | sed 's/(.*//')
    wall=$(grep "Elapsed" "$OUT/$name.log" | awk '{print $NF}')
    rss=$(grep "Maximum resident" "$OUT/$name.log" | awk '{print $NF}')
    echo "$name  $acc  wall $wall  peak RSS ${rss} kB" | tee -a "$OUT/summary.txt"
}

MNIST=(--data $DATA/mnist10k_images.npy --labels $DATA/mnist10k_labels.npy)
for row in $ROWS; do
    case $row in
    mnist-ensc) for s in 0 1 2 3 4; do one mnist-ensc-$s --preset mnist-ensc "${MNIST[@]}" --seed $s; done ;;
    mnist-omp) for s in 0 1 2 3 4; do one mnist-omp-$s --preset mnist-ensc --self-expression omp "${MNIST[@]}" --seed $s; done ;;
    others)
        # COIL-20, ORL, Yale B: EnSC and SSC-OMP on scattering (J = 2
        # maps, as coil20-scat) and on pixels; the seed moves only
        # Lanczos' start and k-means.
        for ds in coil20:COIL20.mat orl:ORL_32x32.mat yaleb32:YaleB_32x32.mat; do
            p=${ds%%:*}
            f=${ds#*:}
            for se in ensc omp; do
                for s in 0 1 2 3 4; do
                    one $p-scat-$se-$s --preset coil20-scat --data $DATA/$f --self-expression $se --seed $s
                    one $p-pix-$se-$s --preset $p --method edsc --data $DATA/$f --self-expression $se --seed $s
                done
            done
        done
        ;;
    synthetic)
        # n = 20 000 and 70 000 synthetic images (10 objects), scattering
        # J = 3 projected on 500 directions, EnSC: no n × n anywhere.
        one synthetic-20k --preset mnist-ensc --synthetic-objects 10 --synthetic-poses 2000 --seed 0
        one synthetic-70k --preset mnist-ensc --synthetic-objects 10 --synthetic-poses 7000 --seed 0
        ;;
    *) echo "unknown row $row" >&2; exit 2 ;;
    esac
done
