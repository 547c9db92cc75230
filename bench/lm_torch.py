#!/usr/bin/env python3
"""PyTorch's side of bench/lm-ngram.mjs: the causalLM `heed train --task lm` builds (nanoGPT's GPT:
tied head, GELU tanh, pre-norm, nanoGPT's initialisation), trained on the same sequences with the
same recipe — AdamW (torch defaults, every parameter decays, weight decay 0.1), lr 3e-3 with 5%
linear warm-up then cosine decay per step, gradient clipping at 1, batches of 32 reshuffled every
epoch, mean cross-entropy over the labelled tokens of each batch — for a fixed number of epochs, then
the validation loss in nats per predicted token. Float32, one thread.

    python bench/lm_torch.py data.json   (written by bench/lm-ngram.mjs: train/val inputs and targets,
                                          the model's settings, epochs, seed)
"""
import json
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

cfg = json.load(open(sys.argv[1]))
torch.set_num_threads(1)
torch.manual_seed(cfg['seed'])
V, C, D, H, L, FF = cfg['vocabSize'], cfg['maxLen'], cfg['dModel'], cfg['heads'], cfg['layers'], cfg['ffDim']


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.c_attn, self.c_proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.c_fc, self.mlp_proj = nn.Linear(D, FF), nn.Linear(FF, D)

    def forward(self, x):
        B, T, _ = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(D, dim=2)
        q, k, v = (t.view(B, T, H, D // H).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        x = x + self.c_proj(y.transpose(1, 2).reshape(B, T, D))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, D), nn.Embedding(C, D)
        self.h = nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(D)
        for name, p in self.named_parameters():
            if name.endswith('bias'):
                nn.init.zeros_(p)
            elif 'ln_' in name:
                nn.init.ones_(p)
            elif name.endswith('c_proj.weight') or name.endswith('mlp_proj.weight'):
                nn.init.normal_(p, std=0.02 / math.sqrt(2 * L))
            else:
                nn.init.normal_(p, std=0.02)

    def forward(self, tok):
        x = self.wte(tok) + self.wpe(torch.arange(tok.shape[1]))
        for b in self.h:
            x = b(x)
        return self.ln_f(x) @ self.wte.weight.T


def batch(rows):
    T = max(len(r[0]) for r in rows)
    x = torch.zeros(len(rows), T, dtype=torch.long)
    y = torch.full((len(rows), T), -100, dtype=torch.long)
    for i, (a, b) in enumerate(rows):
        x[i, :len(a)] = torch.tensor(a)
        y[i, :len(b)] = torch.tensor(b)
    return x, y


train = list(zip(cfg['train']['inputs'], cfg['train']['targets']))
val = list(zip(cfg['val']['inputs'], cfg['val']['targets']))
m = GPT()
opt = torch.optim.AdamW(m.parameters(), lr=cfg['lr'], weight_decay=cfg['weightDecay'])
bs, epochs = cfg['batchSize'], cfg['epochs']
steps = math.ceil(len(train) / bs)
total, warm = steps * epochs, round(0.05 * steps * epochs)
g = 0
for epoch in range(epochs):
    order = torch.randperm(len(train)).tolist()
    for s in range(steps):
        x, y = batch([train[i] for i in order[s * bs:(s + 1) * bs]])
        w = min(1, (g + 1) / warm) if warm > 0 else 1
        progress = min(1, max(0, (g - warm) / max(1, total - warm)))
        for group in opt.param_groups:
            group['lr'] = cfg['lr'] * w * 0.5 * (1 + math.cos(math.pi * progress))
        loss = F.cross_entropy(m(x).reshape(-1, V), y.reshape(-1), ignore_index=-100)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(m.parameters(), 1.0)
        opt.step()
        g += 1
with torch.no_grad():
    nats, n = 0.0, 0
    for s in range(0, len(val), 64):
        x, y = batch(val[s:s + 64])
        nats += F.cross_entropy(m(x).reshape(-1, V), y.reshape(-1), ignore_index=-100, reduction='sum').item()
        n += int((y != -100).sum())
print(json.dumps({'valLoss': nats / n, 'tokens': n}))
