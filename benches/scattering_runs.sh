#!/usr/bin/env bash
# Accuracy and cost of the scattering front end (BENCHMARKS.md,
# "Scattering front end"): seeds 0-4 of each row, one after the other,
# with the peak RSS from /usr/bin/time. Usage:
#   bash benches/scattering_runs.sh [UDLL_BINARY] [DATA_DIR] [OUT_DIR]
set -euo pipefail
B=${1:-target/release/udll}
D=${2:-../shared/data}
O=${3:-scattering-runs}
mkdir -p "$O"
row() {
    local name=$1; shift
    for s in 0 1 2 3 4; do
        /usr/bin/time -f "rss_kb %M wall %e" -o "$O/$name-s$s.time" "$B" run "$@" --seed "$s" --no-report --quiet --out "$O/$name-s$s" > "$O/$name-s$s.out"
        echo "$name seed $s: $(cat "$O/$name-s$s.out") [$(cat "$O/$name-s$s.time")]"
    done
}
row coil20-scat --data "$D/COIL20.mat" --preset coil20-scat
row mnist-scat --data "$D/mnist10k_images.npy" --labels "$D/mnist10k_labels.npy" --preset mnist-scat
row orl-scat-edsc --data "$D/ORL_32x32.mat" --preset orl --front scattering --method edsc
row yaleb32-scat-edsc --data "$D/YaleB_32x32.mat" --preset yaleb32 --front scattering --method edsc
# UDLL with its autoencoder over the 8 × 8 × 81 maps (the coil20 preset's
# network, shorter training).
row coil20-scat-udll --data "$D/COIL20.mat" --preset coil20 --front scattering --pretrain-epochs 200 --epochs 40
