#!/usr/bin/env python3
"""PyTorch BASELINE for `make bench` -- a reference point, NOT part of the product.

The same GPT-2-shaped computation as the Go benchmarks (benchmarks/bench.go), in plain PyTorch:
random float32 weights drawn like checkpoint.RandomTensors (N(0, 0.02), residual projections
scaled by 1/sqrt(2 n_layer), LayerNorm gains 1 + N(0, 0.05), biases N(0, 0.02)), pre-norm blocks,
causal attention scaled by 1/sqrt(head_dim), tanh GELU, tied LM head.

Subcommands (each prints one JSON line on stdout; progress goes to stderr):
  info      torch version, threads, and the BLAS library actually loaded
  forward   baseline vs steered forward passes (logits included), A/B interleaved (ABBA)
  generate  sampled generation with a KV cache: T, frequency penalty over the whole row, top-p

Run by the Go program (benchmarks/cmd/actadd-bench) with Debian's python3-torch and OpenBLAS
(libopenblas0-pthread), `--threads 2`. Token ids are random: cost does not depend on them.
`--device cuda` runs the same computation on a GPU (weights drawn on the CPU from the same seed,
then moved; timings synchronize the device), for the lent GPU machine (benchmarks/device).
"""

import argparse
import json
import math
import sys
import time

import torch
import torch.nn.functional as F


def log(*a):
    print("torch:", *a, file=sys.stderr, flush=True)


class GPT2:
    def __init__(self, n_layer, n_embd, n_head, vocab, n_positions, seed=1):
        g = torch.Generator().manual_seed(seed)
        d = n_embd

        def normal(*shape, mean=0.0, std=0.02):
            return torch.randn(*shape, generator=g) * std + mean

        proj_std = 0.02 / math.sqrt(2 * n_layer)
        self.d, self.h, self.hd = d, n_head, d // n_head
        self.wte = normal(vocab, d)
        self.wpe = normal(n_positions, d)
        self.lnf_w, self.lnf_b = normal(d, mean=1, std=0.05), normal(d)
        self.blocks = []
        for _ in range(n_layer):
            self.blocks.append(dict(
                ln1_w=normal(d, mean=1, std=0.05), ln1_b=normal(d),
                attn_w=normal(d, 3 * d), attn_b=normal(3 * d),
                aproj_w=normal(d, d, std=proj_std), aproj_b=normal(d),
                ln2_w=normal(d, mean=1, std=0.05), ln2_b=normal(d),
                fc_w=normal(d, 4 * d), fc_b=normal(4 * d),
                mproj_w=normal(4 * d, d, std=proj_std), mproj_b=normal(d),
            ))
        self.eps = 1e-5

    def to(self, device):
        for name in ("wte", "wpe", "lnf_w", "lnf_b"):
            setattr(self, name, getattr(self, name).to(device))
        self.blocks = [{k: v.to(device) for k, v in b.items()} for b in self.blocks]
        return self

    def run(self, tokens, start=0, cache=None, steer=None, stop_at=None):
        """tokens [B, T] at positions start..start+T-1. cache: per layer [K, V], each
        [B, H, capacity, hd], filled at [start, start+T); attention sees [0, start+T).
        steer: (layer, vector [n, d]) added to resid_pre[layer] at positions [0, n).
        Returns the final LayerNorm's output [B, T, d], or resid_pre[stop_at] if given."""
        B, T = tokens.shape
        d, H, hd = self.d, self.h, self.hd
        x = self.wte[tokens] + self.wpe[start:start + T]
        for l, b in enumerate(self.blocks):
            if l == stop_at:
                return x
            if steer is not None and l == steer[0]:
                n = steer[1].shape[0]
                x[:, :n] += steer[1]
            h = F.layer_norm(x, (d,), b["ln1_w"], b["ln1_b"], self.eps)
            qkv = torch.addmm(b["attn_b"], h.reshape(B * T, d), b["attn_w"]).view(B, T, 3, H, hd)
            q, k, v = (t.transpose(1, 2) for t in qkv.unbind(2))  # [B, H, T, hd]
            if cache is not None:
                K, V = cache[l]
                K[:, :, start:start + T] = k
                V[:, :, start:start + T] = v
                k, v = K[:, :, :start + T], V[:, :, :start + T]
            att = (q @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))  # [B, H, T, start+T]
            if T > 1:
                mask = torch.ones(T, start + T, dtype=torch.bool, device=x.device).triu(start + 1)
                att = att.masked_fill(mask, float("-inf"))
            y = (torch.softmax(att, -1) @ v).transpose(1, 2).reshape(B * T, d)
            x = x + torch.addmm(b["aproj_b"], y, b["aproj_w"]).view(B, T, d)
            h = F.layer_norm(x, (d,), b["ln2_w"], b["ln2_b"], self.eps).reshape(B * T, d)
            h = F.gelu(torch.addmm(b["fc_b"], h, b["fc_w"]), approximate="tanh")
            x = x + torch.addmm(b["mproj_b"], h, b["mproj_w"]).view(B, T, d)
        return F.layer_norm(x, (d,), self.lnf_w, self.lnf_b, self.eps)

    def logits(self, h):
        return h @ self.wte.t()

    def resid_pre(self, tokens, layer):
        """The residual stream entering block `layer`, [B, T, d]."""
        return self.run(tokens, stop_at=layer)


def model_from(a):
    t0 = time.perf_counter()
    m = GPT2(a.n_layer, a.n_embd, a.n_head, a.vocab, a.n_positions).to(a.device)
    log(f"random model {a.n_layer}x{a.n_embd} built in {time.perf_counter() - t0:.1f}s")
    return m


def loaded_blas():
    libs = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if "blas" in p.lower() and p.startswith("/"):
                    libs.add(p)
    except OSError:
        pass
    return ", ".join(sorted(libs)) or "unknown"


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def cmd_info(a):
    x = torch.randn(64, 64, device=a.device)
    _ = (x @ x).sum().item()  # make sure the BLAS is loaded
    blas = loaded_blas()
    if a.device.startswith("cuda"):
        blas = f"CUDA {torch.version.cuda} on {torch.cuda.get_device_name()}; CPU: {blas}"
    return dict(python=sys.executable, version=torch.__version__, threads=torch.get_num_threads(), blas=blas, device=a.device)


def cmd_forward(a):
    m = model_from(a)
    g = torch.Generator().manual_seed(7)
    tokens = torch.randint(0, a.vocab, (a.batch, a.seq), generator=g).to(a.device)
    # The steering vector: one batch-of-2 forward of the (random-id) prompt pair up to the layer,
    # c = +1 on the first, -1 on the second. p- = "" is BOS padded with spaces: a constant row.
    pair = torch.randint(0, a.vocab, (2, a.steer_tokens), generator=g)
    pair[1, 0] = pair[0, 0] = a.vocab - 1
    pair[1, 1:] = 220 % a.vocab
    pair = pair.to(a.device)
    acts = m.resid_pre(pair, a.steer_layer)
    steer = (a.steer_layer, acts[0] - acts[1])

    def one(steered):
        t0 = time.perf_counter()
        s = m.logits(m.run(tokens, steer=steer if steered else None)).sum().item()
        return time.perf_counter() - t0, s

    res = dict(base=[], steer=[])
    res["warmup_base"], _ = one(False)
    res["warmup_steer"], _ = one(True)
    for i in range(a.reps):
        for steered in ((False, True) if i % 2 == 0 else (True, False)):
            t, _ = one(steered)
            res["steer" if steered else "base"].append(t)
        log(f"forward rep {i + 1}/{a.reps}: base {res['base'][-1]:.3f}s steered {res['steer'][-1]:.3f}s")
    res["base_mean"] = sum(res["base"]) / len(res["base"])
    res["steer_mean"] = sum(res["steer"]) / len(res["steer"])
    res["premium_pct"] = (res["steer_mean"] / res["base_mean"] - 1) * 100
    return res


def sample(logits, counts, temperature, top_p, freq_penalty, gen):
    """TransformerLens sample_logits order: /T, minus freq_penalty * counts, top-p, draw.
    Temperature 0 is greedy (argmax after the penalty), as in actadd.Sampling."""
    if temperature == 0:
        return (logits - freq_penalty * counts).argmax(-1, keepdim=True)
    x = logits / temperature - freq_penalty * counts
    if 0 < top_p < 1:
        sx, idx = x.sort(-1, descending=True)
        p = torch.softmax(sx, -1)
        cum = p.cumsum(-1)
        sx = sx.masked_fill(cum - p >= top_p, float("-inf"))  # keep the smallest set reaching top_p
        choice = torch.multinomial(torch.softmax(sx, -1), 1, generator=gen)
        return idx.gather(-1, choice)
    return torch.multinomial(torch.softmax(x, -1), 1, generator=gen)


def cmd_generate(a):
    m = model_from(a)
    g = torch.Generator().manual_seed(0)
    prompt = torch.randint(0, a.vocab, (1, a.prompt_tokens), generator=g)
    prompt[0, 0] = a.vocab - 1  # BOS
    prompt = prompt.to(a.device)
    if a.device != "cpu":  # the draws come from a generator on the device, seeded the same
        g = torch.Generator(device=a.device).manual_seed(0)
    capacity = a.prompt_tokens + a.new_tokens
    H, hd = m.h, m.hd
    done = 0
    m.run(prompt.expand(a.batch, -1))  # warm-up (CUDA/cuBLAS initialization), not timed
    sync(a.device)
    t0 = time.perf_counter()
    for first in range(0, a.rows, a.batch):
        B = a.batch  # the last batch is padded to full width, as the Go side does
        seq = prompt.expand(B, -1).clone()
        counts = torch.zeros(B, a.vocab, device=a.device)
        counts.scatter_add_(1, seq, torch.ones_like(seq, dtype=torch.float32))
        cache = [[torch.zeros(B, H, capacity, hd, device=a.device), torch.zeros(B, H, capacity, hd, device=a.device)]
                 for _ in m.blocks]
        h = m.run(seq, start=0, cache=cache)
        pos = a.prompt_tokens
        for step in range(a.new_tokens):
            tok = sample(m.logits(h[:, -1]), counts, a.temperature, a.top_p, a.freq_penalty, g)
            counts.scatter_add_(1, tok, torch.ones_like(tok, dtype=torch.float32))
            if step + 1 < a.new_tokens:
                h = m.run(tok, start=pos, cache=cache)
                pos += 1
        sync(a.device)
        done += min(a.batch, a.rows - first) * a.new_tokens
        log(f"generate: {min(first + a.batch, a.rows)}/{a.rows} rows, {time.perf_counter() - t0:.1f}s")
    sec = time.perf_counter() - t0
    return dict(seconds=sec, tokens_per_second=done / sec)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["info", "forward", "generate"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu, or cuda on a GPU machine")
    p.add_argument("--n-layer", type=int, default=12)
    p.add_argument("--n-embd", type=int, default=768)
    p.add_argument("--n-head", type=int, default=12)
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--n-positions", type=int, default=1024)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--reps", type=int, default=5)
    p.add_argument("--steer-layer", type=int, default=6)
    p.add_argument("--steer-tokens", type=int, default=7)
    p.add_argument("--rows", type=int, default=200)
    p.add_argument("--new-tokens", type=int, default=40)
    p.add_argument("--prompt-tokens", type=int, default=9)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--top-p", type=float, default=0.3)
    p.add_argument("--freq-penalty", type=float, default=1.0)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    with torch.inference_mode():
        out = {"info": cmd_info, "forward": cmd_forward, "generate": cmd_generate}[a.command](a)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
