#!/usr/bin/env bash
# Fine-tune from the DSC-Net reference autoencoders (../shared/data/dsc_pretrained)
# with the reference settings, for UDLL and DSC on COIL-20 and ORL, then
# cluster the final coefficients with seeds 0-4. Starting from fixed weights
# the fine-tuning is deterministic, so the seed only reaches the clustering
# stage (Lanczos start, k-means++). Prints one CSV row per (dataset, method, seed).
# Usage: bash benches/reference_runs.sh [OUT_DIR]   (needs ../shared/data)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/reference}
DATA=../shared/data
B=target/release/udll
cargo build --release --quiet
mkdir -p "$OUT"
echo "dataset,method,seed,acc,nmi,ari"
for ds in coil20 orl; do
    case $ds in
        coil20) file=$DATA/COIL20.mat ;;
        orl) file=$DATA/ORL_32x32.mat ;;
    esac
    # udll: the UDLL settings; dsc: the same with γ = 0 (the ablation);
    # dsc-net: DSC-Net's own reference settings (preset $ds-dsc).
    for method in udll dsc dsc-net; do
        dir=$OUT/$ds-$method
        case $method in
            dsc-net) preset=$ds-dsc; m=dsc ;;
            *) preset=$ds; m=$method ;;
        esac
        $B run --data "$file" --preset "$preset" --method "$m" --reference "$DATA/dsc_pretrained/$ds" --seed 0 --out "$dir" --quiet >/dev/null
        for seed in 0 1 2 3 4; do
            line=$($B cluster --preset "$preset" --coef "$dir/coef.npy" --data "$file" --seed "$seed" --out "$dir/labels-seed$seed.csv")
            acc=$(echo "$line" | awk '{print $2}'); nmi=$(echo "$line" | awk '{print $4}'); ari=$(echo "$line" | awk '{print $6}')
            echo "$ds,$method,$seed,$acc,$nmi,$ari"
        done
    done
done
