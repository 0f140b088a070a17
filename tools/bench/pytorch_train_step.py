#!/usr/bin/python3
"""Dev-only benchmark (not used at run time; Python is not a runtime dependency):
time one float ESPCN training step in PyTorch -- forward, L1 loss, backward,
gradient-norm clipping at 1.0 and Adam -- for the configuration espcn-nn-bench
times by default (x4, batch 16, LR 48x48, F=64), to compare the two back to back.
Needs Debian's python3-torch (hence /usr/bin/python3, not a pyenv python).

  /usr/bin/python3 tools/bench/pytorch_train_step.py --threads 2 --steps 20

Prints the median wall and process-CPU ms per step."""
import argparse
import statistics
import time

import torch
import torch.nn as nn


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", type=int, default=4)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--patch", type=int, default=192, help="HR patch size")
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=3)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    s, f = a.scale, a.features
    model = nn.Sequential(
        nn.Conv2d(3, f, 5, padding=2), nn.ReLU(),
        nn.Conv2d(f, f // 2, 3, padding=1), nn.ReLU(),
        nn.Conv2d(f // 2, 3 * s * s, 3, padding=1), nn.PixelShuffle(s))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    lr = a.patch // s
    x = torch.rand(a.batch, 3, lr, lr)
    y = torch.rand(a.batch, 3, lr * s, lr * s)
    loss_fn = nn.L1Loss()
    wall, cpu = [], []
    for i in range(a.warmup + a.steps):
        t0, c0 = time.perf_counter(), time.process_time()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x), y)
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        t1, c1 = time.perf_counter(), time.process_time()
        if i >= a.warmup:
            wall.append((t1 - t0) * 1e3)
            cpu.append((c1 - c0) * 1e3)
    print(f"pytorch {torch.__version__} train x{s} F={f} batch={a.batch} patch={a.patch} threads={a.threads}: "
          f"median {statistics.median(wall):.2f} ms/step (min {min(wall):.2f}), CPU {statistics.median(cpu):.2f} ms/step "
          f"over {a.steps} steps; last loss {loss.item():.4f}")


if __name__ == "__main__":
    main()
