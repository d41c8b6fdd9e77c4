"""Seconds per DSC-Net fine-tuning epoch on COIL-20 in PyTorch, for the
side-by-side in BENCHMARKS.md ("Kernel families"). Written for udll from
the DSC-Net paper's description, not taken from any port: a 1 -> 15
channel 3 x 3 stride-2 conv encoder with ReLU, the self-expressive layer
C (n x n, initialised to 1e-4), the mirrored transposed-conv decoder, the
loss ||X - X^||^2 + l1 ||C||^2 + l2 ||Z - CZ||^2 (l1 = 1, l2 = 150 as the
COIL-20 settings), full batch, Adam 1e-3. Random weights: the time of an
epoch does not depend on them.

    python3 benches/dsc_torch_epoch.py ../shared/data/COIL20.mat [epochs]

Prints one line: the median seconds per epoch after two warm-up epochs,
with torch's thread count and CPU capability."""
import sys
import time

import scipy.io
import torch


def main():
    path = sys.argv[1]
    epochs = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    torch.manual_seed(0)
    fea = scipy.io.loadmat(path)["fea"]
    x = torch.tensor(fea, dtype=torch.float32).reshape(-1, 1, 32, 32)
    n = x.shape[0]
    enc = torch.nn.Conv2d(1, 15, 3, stride=2, padding=1)
    dec = torch.nn.ConvTranspose2d(15, 1, 3, stride=2, padding=1, output_padding=1)
    coef = torch.nn.Parameter(1e-4 * torch.ones(n, n))
    params = list(enc.parameters()) + list(dec.parameters()) + [coef]
    opt = torch.optim.Adam(params, lr=1e-3)
    times = []
    for epoch in range(epochs + 2):
        start = time.perf_counter()
        z = torch.relu(enc(x))
        shape = z.shape
        zf = z.reshape(n, -1)
        zc = coef @ zf
        xr = torch.relu(dec(zc.reshape(shape)))
        loss = ((xr - x) ** 2).sum() + (coef ** 2).sum() + 150.0 * ((zf - zc) ** 2).sum()
        opt.zero_grad()
        loss.backward()
        opt.step()
        if epoch >= 2:
            times.append(time.perf_counter() - start)
    times.sort()
    median = times[len(times) // 2]
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {torch.backends.cpu.get_cpu_capability()}: "
          f"{median:.4f} s per epoch (median of {epochs}), n = {n}, d = {zf.shape[1]}")


if __name__ == "__main__":
    main()
