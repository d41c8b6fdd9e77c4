#!/usr/bin/env bash
# Scattering throughput on MNIST-10k (28 x 28, L = 8, order 2): udll
# against Kymatio's numpy frontend, alternated in the same run (A B A B).
# For udll it prints the transform's own time (what `udll features`
# reports, comparable with Kymatio's timed call, which excludes loading and
# saving) and the wall time of the whole command (reading the input,
# writing the features with an fsync, hashing them for the manifest).
#   bash benches/scattering_speed.sh [UDLL_BINARY] [DATA_DIR] [ROUNDS]
set -euo pipefail
B=${1:-target/release/udll}
D=${2:-../shared/data}
R=${3:-2}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
for r in $(seq "$R"); do
    for J in 2 3; do
        s=$( { /usr/bin/time -f %e "$B" features --data "$D/mnist10k_images.npy" --scattering-j "$J" --out "$T/f.npy" --quiet >"$T/out"; } 2>&1 )
        t=$(grep -o 'in [0-9.]*s' "$T/out" | head -1 | tr -d 'ins ')
        echo "round $r udll J=$J: transform $t s ($(python3 -c "print(round(10000 / $t))") images/s), whole command $s s"
        python3 "$(dirname "$0")/kymatio_scattering.py" "$J" 10000 "$D" | sed "s/^/round $r /"
        python3 "$(dirname "$0")/kymatio_scattering.py" "$J" 500 "$D" | sed "s/^/round $r /"
    done
done
