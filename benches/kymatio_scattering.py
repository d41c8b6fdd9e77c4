"""Kymatio's numpy scattering of MNIST-10k (28 x 28), timed, for the
throughput comparison in BENCHMARKS.md ("Scattering front end").

    pip install kymatio numpy scipy
    python3 benches/kymatio_scattering.py J BATCH [DATA_DIR]

Imports the 2-D numpy frontend directly: kymatio 0.3.0's package-level
import reaches its 3-D module, which needs scipy.special.sph_harm (gone
from current scipy).
"""
import sys
import time

import numpy as np
from kymatio.scattering2d.frontend.numpy_frontend import ScatteringNumPy2D

J, batch = int(sys.argv[1]), int(sys.argv[2])
data = sys.argv[3] if len(sys.argv) > 3 else "../shared/data"
x = np.load(f"{data}/mnist10k_images.npy").astype(np.float64) / 255.0
S = ScatteringNumPy2D(J=J, shape=(28, 28), L=8, max_order=2)
t = time.time()
for i in range(0, len(x), batch):
    S(x[i:i + batch])
dt = time.time() - t
print(f"kymatio J={J} batch={batch}: {dt:.2f} s, {len(x) / dt:.0f} images/s")
