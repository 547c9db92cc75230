#!/usr/bin/env python3
"""PyTorch's side of bench/decode.mjs: the same causalLM (nanoGPT's GPT, tied head, GELU tanh) with
a KV cache, native, one thread, batch 1, float32, under torch.inference_mode().

    python bench/decode_torch.py [--layers 4] [--d 128] [--heads 4] [--vocab 256] [--context 256] [--runs 5]

Like the 'cache' row of bench/decode.mjs: a prefill of 1 token, then context - 1 steps of one token,
each step only the new token's queries over the cached keys and values (preallocated
[1, H, context, Dh] per layer, written in place), no sampling; median over --runs of ms per token,
and the last token's step alone (median of 50).
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
for name, default in [('layers', 4), ('d', 128), ('heads', 4), ('vocab', 256), ('context', 256), ('runs', 5)]:
    p.add_argument(f'--{name}', type=int, default=default)
a = p.parse_args()
torch.set_num_threads(1)
torch.manual_seed(1)
L, D, H, V, C = a.layers, a.d, a.heads, a.vocab, a.context
Dh = D // H


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(D), nn.LayerNorm(D)
        self.c_attn, self.attn_proj = nn.Linear(D, 3 * D), nn.Linear(D, D)
        self.c_fc, self.mlp_proj = nn.Linear(D, 4 * D), nn.Linear(4 * D, D)
        self.k = torch.zeros(1, H, C, Dh)
        self.v = torch.zeros(1, H, C, Dh)

    def forward(self, x, pos):
        T = x.shape[1]
        q, k, v = self.c_attn(self.ln_1(x)).split(D, dim=2)
        q, k, v = (t.view(1, T, H, Dh).transpose(1, 2) for t in (q, k, v))
        self.k[:, :, pos:pos + T] = k
        self.v[:, :, pos:pos + T] = v
        y = F.scaled_dot_product_attention(q, self.k[:, :, :pos + T], self.v[:, :, :pos + T], is_causal=T > 1)
        x = x + self.attn_proj(y.transpose(1, 2).reshape(1, T, D))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))


class GPT(nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, D), nn.Embedding(C, D)
        self.h = nn.ModuleList([Block() for _ in range(L)])
        self.ln_f = nn.LayerNorm(D)

    def forward(self, tok, pos):
        x = self.wte(tok) + self.wpe(torch.arange(pos, pos + tok.shape[1]))
        for b in self.h:
            x = b(x, pos)
        return self.ln_f(x) @ self.wte.weight.T


m = GPT().eval()
ids = torch.tensor([[(i * 7 + 1) % V for i in range(C)]])


def with_cache():
    t0 = time.perf_counter()
    m(ids[:, :1], 0)
    for n in range(1, C):
        m(ids[:, n:n + 1], n)
    return (time.perf_counter() - t0) * 1000 / C


with torch.inference_mode():
    with_cache()
    runs = sorted(with_cache() for _ in range(a.runs))
    last = []
    for _ in range(50):
        m(ids[:, :C - 1], 0)
        t0 = time.perf_counter()
        m(ids[:, C - 1:], C - 1)
        last.append((time.perf_counter() - t0) * 1000)
    last.sort()
ms = runs[len(runs) // 2]
print(f'PyTorch {torch.__version__}, 1 thread: layers {L}, d {D}, heads {H}, vocab {V}, context {C}, batch 1')
print(f'| PyTorch KV cache | {ms:.3f} | {1000 / ms:.0f} | {last[25]:.3f} |')
