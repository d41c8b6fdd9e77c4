"""Seconds per pretraining epoch of a preset's convolutional autoencoder in
PyTorch, for the side-by-side with `udll pretrain` in BENCHMARKS.md (issue
31). Written for udll from the presets' description, not taken from any
port: per encoder layer a k x k stride-2 convolution with 'same' padding
and a ReLU, the mirrored stride-2 transposed convolutions back to each layer's side with
a ReLU after each (the last included), the loss 1/2 ||X - X^||^2 per mini-batch
of 64 shuffled images, Adam 1e-3.

    python3 benches/pretrain_torch_epoch.py coil20 ../shared/data/COIL20.mat [epochs]
    python3 benches/pretrain_torch_epoch.py mnist ../shared/data/mnist10k_images.npy [epochs]

Prints one line: the median seconds per epoch after one warm-up epoch,
with torch's thread count and CPU capability."""
import sys
import time

import numpy as np
import torch

ARCH = {"coil20": ([15], [3], 32, 32), "mnist": ([10, 20, 30], [5, 3, 3], 28, 28)}


def images(preset, path):
    if path.endswith(".npy"):
        x = np.load(path).astype(np.float32)
        if x.max() > 1.0:
            x /= 255.0
    else:
        import scipy.io

        x = scipy.io.loadmat(path)["fea"].astype(np.float32)
    _, _, h, w = ARCH[preset]
    return torch.tensor(x).reshape(-1, 1, h, w)


def main():
    preset, path = sys.argv[1], sys.argv[2]
    epochs = int(sys.argv[3]) if len(sys.argv) > 3 else 10
    torch.manual_seed(0)
    x = images(preset, path)
    channels, kernels, h, _ = ARCH[preset]
    widths = [1] + channels
    # The sides through the encoder ('same', stride 2: ceil(side / 2)); each
    # transposed convolution gives back exactly the side its mirror took.
    sides = [h]
    for _ in kernels:
        sides.append((sides[-1] + 1) // 2)
    enc, dec = [], []
    for c_in, c_out, k in zip(widths, widths[1:], kernels):
        enc += [torch.nn.Conv2d(c_in, c_out, k, stride=2, padding=k // 2), torch.nn.ReLU()]
    for i in reversed(range(len(kernels))):
        k = kernels[i]
        extra = sides[i] - ((sides[i + 1] - 1) * 2 - 2 * (k // 2) + k)
        dec += [torch.nn.ConvTranspose2d(widths[i + 1], widths[i], k, stride=2, padding=k // 2, output_padding=extra), torch.nn.ReLU()]
    net = torch.nn.Sequential(*enc, *dec)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    n = x.shape[0]
    times = []
    for epoch in range(epochs + 1):
        start = time.perf_counter()
        for idx in torch.randperm(n).split(64):
            xb = x[idx]
            r = net(xb)
            loss = 0.5 * ((r - xb) ** 2).sum()
            opt.zero_grad()
            loss.backward()
            opt.step()
        if epoch > 0:
            times.append(time.perf_counter() - start)
    cap = torch.backends.cpu.get_cpu_capability()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {cap}: {preset} pretraining {np.median(times):.4f} s per epoch (median of {epochs}), n = {n}")


if __name__ == "__main__":
    main()
