#!/usr/bin/env python3
"""Dev-only check (not used at run time): how fast PyTorch 1.13 trains the same ESPCN
(x2, F=32, L1, Adam, cosine, clipping 1.0) on synthetic shapes like the train tests';
it prints val Y-PSNR beside bicubic.  usage: /usr/bin/python3 tools/bench/pytorch-convergence.py [scale] [steps] [lr]"""
import math, random, sys
import torch, torch.nn as nn, torch.nn.functional as F
torch.manual_seed(0); random.seed(0)
torch.set_num_threads(1)
def make(n, w=96, h=72):
    imgs = []
    for _ in range(n):
        base = torch.rand(3,1,1)*160+40; gx = (torch.rand(3,1,1)-0.5)
        xs = torch.arange(w).float().view(1,1,w)
        img = (base + gx*xs).expand(3,h,w).clone()
        for s in range(12):
            x0, y0 = random.randrange(w), random.randrange(h)
            rw, rh = 3+random.randrange(w//3), 3+random.randrange(h//3)
            col = torch.randint(0,256,(3,)).float()
            disc = random.random() < 0.5
            yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
            m = (xx>=x0)&(xx<x0+rw)&(yy>=y0)&(yy<y0+rh)
            if disc:
                dx = (xx-x0-rw/2)/(rw/2); dy=(yy-y0-rh/2)/(rh/2); m &= (dx*dx+dy*dy<=1)
            img[:, m] = col.view(3,1)
        imgs.append(img.clamp(0,255).round()/255)
    return imgs
s = int(sys.argv[1]) if len(sys.argv)>1 else 2
steps = int(sys.argv[2]) if len(sys.argv)>2 else 1600
lr0 = float(sys.argv[3]) if len(sys.argv)>3 else 3e-3
train, val = make(64), make(4)
def down(x): return (F.interpolate(x.unsqueeze(0), scale_factor=1/s, mode='bicubic', antialias=True, align_corners=False).clamp(0,1)*255).round()/255
class ESPCN(nn.Module):
    def __init__(s_, F_=32):
        super().__init__()
        s_.c1=nn.Conv2d(3,F_,5,padding=2); s_.c2=nn.Conv2d(F_,F_//2,3,padding=1); s_.c3=nn.Conv2d(F_//2,3*s*s,3,padding=1); s_.ps=nn.PixelShuffle(s)
    def forward(s_,x): return s_.ps(s_.c3(F.relu(s_.c2(F.relu(s_.c1(x))))))
m = ESPCN()
opt = torch.optim.Adam(m.parameters(), lr=lr0, weight_decay=1e-4)
sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, steps)
def ypsnr(a,b):
    wts = torch.tensor([65.481,128.553,24.966]).view(3,1,1)
    ya = (a*wts).sum(0)/255*255+16; yb=(b*wts).sum(0)/255*255+16
    ya=ya[s:-s,s:-s]; yb=yb[s:-s,s:-s]
    return 10*math.log10(255**2/((ya-yb)**2).mean().item())
def evaluate():
    p=[];pb=[]
    with torch.no_grad():
        for v in val:
            h,w=v.shape[1]//s*s, v.shape[2]//s*s; v=v[:,:h,:w]; lr=down(v)
            sr=(m(lr).clamp(0,1)*255).round()/255
            bi=(F.interpolate(lr,scale_factor=s,mode='bicubic',align_corners=False).clamp(0,1)*255).round()/255
            p.append(ypsnr(sr[0]*255/255,v)); pb.append(ypsnr(bi[0],v))
    return sum(p)/len(p), sum(pb)/len(pb)
P=32
for st in range(steps):
    hr=[]; 
    for b in range(16):
        im=random.choice(train); y=random.randrange(im.shape[1]-P+1); x=random.randrange(im.shape[2]-P+1); hr.append(im[:,y:y+P,x:x+P])
    hr=torch.stack(hr); lr=torch.cat([down(h) for h in hr])
    loss=F.l1_loss(m(lr),hr); opt.zero_grad(); loss.backward(); torch.nn.utils.clip_grad_norm_(m.parameters(),1.0); opt.step(); sched.step()
    if st%400==0 or st==steps-1: print(st, round(loss.item(),5), evaluate(), flush=True)
