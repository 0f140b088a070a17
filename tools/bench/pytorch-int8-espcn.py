#!/usr/bin/env python3
"""Dev-only benchmark (not used at run time): PyTorch's INT8 ESPCN (eager-mode
post-training quantization, oneDNN engine) at the sizes of espcn-bench, so the two
can be measured back to back on the same machine.  channels 3 (default) is the RGB
network, 1 the luma network (conv 5x5 1->64, 3x3 64->32, 3x3 32->s^2) on one plane.
usage: /usr/bin/python3 tools/bench/pytorch-int8-espcn.py WxH [threads] [frames] [runs] [channels]"""
import statistics, sys, time
import torch
import torch.nn as nn
import torch.ao.quantization as tq

w, h = map(int, sys.argv[1].split('x'))
threads = int(sys.argv[2]) if len(sys.argv) > 2 else 2
frames = int(sys.argv[3]) if len(sys.argv) > 3 else 20
runs = int(sys.argv[4]) if len(sys.argv) > 4 else 5
channels = int(sys.argv[5]) if len(sys.argv) > 5 else 3
assert channels in (1, 3), "channels: 1 (luma) or 3 (RGB)"
torch.set_num_threads(threads)
torch.backends.quantized.engine = 'onednn' if 'onednn' in torch.backends.quantized.supported_engines else 'fbgemm'

class ESPCN(nn.Module):
    def __init__(self, s=4, f=64, c=3):
        super().__init__()
        self.q, self.dq = tq.QuantStub(), tq.DeQuantStub()
        self.c1, self.r1 = nn.Conv2d(c, f, 5, padding=2), nn.ReLU()
        self.c2, self.r2 = nn.Conv2d(f, f // 2, 3, padding=1), nn.ReLU()
        self.c3 = nn.Conv2d(f // 2, c * s * s, 3, padding=1)
        self.ps = nn.PixelShuffle(s)
    def forward(self, x):
        x = self.q(x)
        x = self.c3(self.r2(self.c2(self.r1(self.c1(x)))))
        return self.ps(self.dq(x))

m = ESPCN(c=channels).eval()
m = tq.fuse_modules(m, [['c1', 'r1'], ['c2', 'r2']])
m.qconfig = tq.get_default_qconfig(torch.backends.quantized.engine)
tq.prepare(m, inplace=True)
with torch.no_grad():
    m(torch.rand(2, channels, h, w))
tq.convert(m, inplace=True)
x = torch.rand(1, channels, h, w)
with torch.no_grad():
    for _ in range(3):
        m(x)
    fps = []
    for _ in range(runs):
        t = time.perf_counter()
        for _ in range(frames):
            m(x)
        fps.append(frames / (time.perf_counter() - t))
print(f"pytorch {torch.__version__} int8 ({torch.backends.quantized.engine}, {threads} threads) "
      f"{'luma' if channels == 1 else 'RGB'} {w}x{h} x4: {statistics.median(fps):.2f} frames/s (median of {runs} runs x {frames} frames)")
