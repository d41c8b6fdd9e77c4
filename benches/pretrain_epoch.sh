#!/usr/bin/env bash
# A pretraining epoch of the COIL-20 and MNIST presets' autoencoders: udll
# against PyTorch (benches/pretrain_torch_epoch.py), alternated A B A B.
#   bash benches/pretrain_epoch.sh [UDLL_BINARY] [DATA_DIR] [ROUNDS] [KERNELS]
# KERNELS is passed to --cpu-kernels (default auto). Prints seconds per
# epoch: udll's is the wall time of `udll pretrain --epochs E` over E.
set -euo pipefail
B=${1:-target/release/udll}
D=${2:-../shared/data}
R=${3:-3}
K=${4:-auto}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
run() { # preset data epochs
    local s
    s=$( { /usr/bin/time -f %e "$B" pretrain --data "$2" --preset "$1" --epochs "$3" --cpu-kernels "$K" --out "$T/p.ckpt" --quiet >/dev/null; } 2>&1 | tail -1 )
    echo "udll ($K kernels): $1 pretraining $(python3 -c "print(round($s / $3, 4))") s per epoch ($3 epochs in $s s)"
}
for r in $(seq "$R"); do
    run coil20 "$D/COIL20.mat" 300 | sed "s/^/round $r /"
    python3 "$(dirname "$0")/pretrain_torch_epoch.py" coil20 "$D/COIL20.mat" 10 | sed "s/^/round $r /"
    run mnist "$D/mnist10k_images.npy" 10 | sed "s/^/round $r /"
    python3 "$(dirname "$0")/pretrain_torch_epoch.py" mnist "$D/mnist10k_images.npy" 3 | sed "s/^/round $r /"
done
