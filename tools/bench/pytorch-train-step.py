#!/usr/bin/env python3
"""Dev-only benchmark (not used at run time): one float training step of the reference
configuration in PyTorch (x4, batch 16, 48x48 LR patches, F=64: forward, L1, backward,
clip_grad_norm_ 1.0, Adam with weight decay 1e-4), for a back-to-back comparison
with `espcn-train --bench`.  usage: /usr/bin/python3 tools/bench/pytorch-train-step.py [threads] [steps]"""
import statistics, sys, time
import torch
import torch.nn as nn
import torch.nn.functional as F

threads = int(sys.argv[1]) if len(sys.argv) > 1 else 2
steps = int(sys.argv[2]) if len(sys.argv) > 2 else 15
torch.set_num_threads(threads)
s, f = 4, 64
m = nn.Sequential(nn.Conv2d(3, f, 5, padding=2), nn.ReLU(), nn.Conv2d(f, f // 2, 3, padding=1), nn.ReLU(),
                  nn.Conv2d(f // 2, 3 * s * s, 3, padding=1), nn.PixelShuffle(s))
opt = torch.optim.Adam(m.parameters(), lr=1e-3, weight_decay=1e-4)
lr, hr = torch.rand(16, 3, 48, 48), torch.rand(16, 3, 192, 192)
times = []
for i in range(steps + 3):
    t = time.perf_counter()
    opt.zero_grad()
    loss = F.l1_loss(m(lr), hr)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
    opt.step()
    if i >= 3:
        times.append((time.perf_counter() - t) * 1e3)
print(f"pytorch {torch.__version__} float training step ({threads} threads): median {statistics.median(times):.1f} ms "
      f"over {steps} steps; {statistics.median(times) * 13 / 1000:.2f} s per epoch of 13 steps")
