#!/usr/bin/env python3
"""PyTorch BASELINE for `make bench` -- a reference point, NOT part of the product.

The same GPT-2-shaped computation as the Go benchmarks (and, with --arch llama, the Llama family's:
see class Llama) (benchmarks/bench.go), in plain PyTorch:
random float32 weights drawn like checkpoint.RandomTensors (N(0, 0.02), residual projections
scaled by 1/sqrt(2 n_layer), LayerNorm gains 1 + N(0, 0.05), biases N(0, 0.02)), pre-norm blocks,
causal attention scaled by 1/sqrt(head_dim), tanh GELU, tied LM head.

`serve` builds the model once and then answers one JSON command per line on stdin with one
JSON line on stdout (progress goes to stderr), so that the Go program can interleave its own
repetitions with these:

  {"op": "info"}                       torch version, threads, the BLAS library actually loaded
                                       and its core type, the threading environment
  {"op": "forward_setup", ...}         random tokens [batch, seq] and the steering vector
  {"op": "forward", "steer": bool,     one forward pass, logits included (summed, as the Go side
   "prealloc": bool}                   does); prealloc writes the logits into a buffer kept
                                       between passes instead of a fresh tensor
  {"op": "generate", ...}              one batch of completions with a KV cache: T, frequency
                                       penalty over the whole row, top-p (T = 0: greedy); with
                                       "dump_logits": path, the logits of its first decoding step
                                       go to that file as float32 little-endian [rows, vocab], for
                                       the sampler benchmark (the Go side times its sampler on
                                       the same ones)
  {"op": "sampler", "path": ..., ...}  the sampler alone on those logits: seconds per step
  {"op": "quit"}

`probe` times one matmul and reports the BLAS core type OpenBLAS uses (see probe()).

Run by the Go program (benchmarks/cmd/actadd-bench) with Debian's python3-torch and OpenBLAS.
Token ids are random: cost does not depend on them. `--device cuda` runs the same computation on
a GPU (weights drawn on the CPU from the same seed, then moved; timings synchronize the device).
"""

import argparse
import json
import math
import os
import statistics
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
        self.d, self.h, self.hd, self.vocab = d, n_head, d // n_head, vocab
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

    def logits(self, h, out=None):
        """h [..., d] -> logits [..., vocab]; out, when given, is a [rows, vocab] buffer that
        receives them (no allocation)."""
        if out is None:
            return h @ self.wte.t()
        rows = h.reshape(-1, self.d)
        torch.mm(rows, self.wte.t(), out=out[:rows.shape[0]])
        return out[:rows.shape[0]]

    def resid_pre(self, tokens, layer):
        """The residual stream entering block `layer`, [B, T, d]."""
        return self.run(tokens, stop_at=layer)


class Llama:
    """The Llama family's computation (Llama, SmolLM2, Qwen2), as package llama runs it:
    RMSNorm, RoPE in Hugging Face's rotate_half layout, grouped-query attention (query head h
    reads key/value head h // groups; the queries of a group are stacked against their one
    key/value head, so nothing is repeated), a SwiGLU MLP, optional q/k/v biases (Qwen2), an LM
    head tied to the embedding or not. Random float32 weights drawn like llama.RandomTensors
    (embeddings N(0, 1), projections N(0, 1/in), norm weights 1 + N(0, 0.1), biases N(0, 0.1)),
    stored [in, out] for addmm."""

    def __init__(self, n_layer, d, n_head, n_kv, head_dim, ffn, vocab, theta, qkv_bias, tied, eps=1e-5, seed=1):
        g = torch.Generator().manual_seed(seed)

        def normal(*shape, mean=0.0, std=1.0):
            return torch.randn(*shape, generator=g) * std + mean

        self.d, self.h, self.kv_heads, self.hd, self.vocab = d, n_head, n_kv, head_dim, vocab
        self.groups, self.eps = n_head // n_kv, eps
        qkv = (n_head + 2 * n_kv) * head_dim
        self.embed = normal(vocab, d)
        self.head = self.embed if tied else normal(vocab, d)
        self.norm = normal(d, mean=1, std=0.1)
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.int64).float() / head_dim))
        self.blocks = []
        for _ in range(n_layer):
            self.blocks.append(dict(
                in_norm=normal(d, mean=1, std=0.1), post_norm=normal(d, mean=1, std=0.1),
                qkv_w=normal(d, qkv, std=d ** -0.5), qkv_b=normal(qkv, std=0.1) if qkv_bias else None,
                o_w=normal(n_head * head_dim, d, std=(n_head * head_dim) ** -0.5),
                gu_w=normal(d, 2 * ffn, std=d ** -0.5), down_w=normal(ffn, d, std=ffn ** -0.5),
            ))

    def to(self, device):
        tied = self.head is self.embed
        for name in ("embed", "head", "norm", "inv_freq"):
            setattr(self, name, getattr(self, name).to(device))
        if tied:
            self.head = self.embed
        self.blocks = [{k: (v.to(device) if v is not None else None) for k, v in b.items()} for b in self.blocks]
        return self

    def rms(self, x, w):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * w

    def rope(self, x, cos, sin):
        half = x.shape[-1] // 2
        x1, x2 = x[..., :half], x[..., half:]
        return torch.cat((x1 * cos - x2 * sin, x2 * cos + x1 * sin), -1)

    def run(self, tokens, start=0, cache=None, steer=None, stop_at=None):
        """As GPT2.run; cache: per layer [K, V], each [B, kv_heads, capacity, hd]."""
        B, T = tokens.shape
        d, H, KV, G, hd = self.d, self.h, self.kv_heads, self.groups, self.hd
        x = self.embed[tokens]
        pos = torch.arange(start, start + T, device=x.device, dtype=torch.float32)
        ang = pos[:, None] * self.inv_freq[None, :]  # [T, hd/2]
        cos, sin = ang.cos(), ang.sin()
        mask = None
        if T > 1:
            mask = torch.ones(T, start + T, dtype=torch.bool, device=x.device).triu(start + 1).repeat(G, 1)
        for l, b in enumerate(self.blocks):
            if l == stop_at:
                return x
            if steer is not None and l == steer[0]:
                n = steer[1].shape[0]
                x[:, :n] += steer[1]
            h = self.rms(x, b["in_norm"]).reshape(B * T, d)
            qkv = h @ b["qkv_w"] if b["qkv_b"] is None else torch.addmm(b["qkv_b"], h, b["qkv_w"])
            q, k, v = qkv.split([H * hd, KV * hd, KV * hd], -1)
            q = self.rope(q.view(B, T, KV, G, hd).permute(0, 2, 3, 1, 4), cos, sin)  # [B, KV, G, T, hd]
            k = self.rope(k.view(B, T, KV, hd).transpose(1, 2), cos, sin)  # [B, KV, T, hd]
            v = v.view(B, T, KV, hd).transpose(1, 2)
            if cache is not None:
                K, V = cache[l]
                K[:, :, start:start + T] = k
                V[:, :, start:start + T] = v
                k, v = K[:, :, :start + T], V[:, :, :start + T]
            att = (q.reshape(B, KV, G * T, hd) @ k.transpose(-1, -2)) * (1.0 / math.sqrt(hd))
            if mask is not None:
                att = att.masked_fill(mask, float("-inf"))
            y = (torch.softmax(att, -1) @ v).view(B, KV, G, T, hd).permute(0, 3, 1, 2, 4).reshape(B * T, H * hd)
            x = x + (y @ b["o_w"]).view(B, T, d)
            gu = self.rms(x, b["post_norm"]).reshape(B * T, d) @ b["gu_w"]
            gate, up = gu.chunk(2, -1)
            x = x + (F.silu(gate) * up @ b["down_w"]).view(B, T, d)
        return self.rms(x, self.norm)

    def logits(self, h, out=None):
        if out is None:
            return h @ self.head.t()
        rows = h.reshape(-1, self.d)
        torch.mm(rows, self.head.t(), out=out[:rows.shape[0]])
        return out[:rows.shape[0]]

    def resid_pre(self, tokens, layer):
        return self.run(tokens, stop_at=layer)


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
    return sorted(libs)


def openblas_details(libs):
    """OpenBLAS's own report of the kernel it chose (the core type) and its build, when loaded."""
    import ctypes
    for path in libs:
        if "openblas" not in os.path.basename(path):
            continue
        try:
            lib = ctypes.CDLL(path)
            lib.openblas_get_corename.restype = ctypes.c_char_p
            lib.openblas_get_config.restype = ctypes.c_char_p
            parallel = {0: "sequential", 1: "pthreads", 2: "OpenMP"}.get(lib.openblas_get_parallel(), "?")
            return dict(core=lib.openblas_get_corename().decode(), config=lib.openblas_get_config().decode(),
                        parallel=parallel, threads=lib.openblas_get_num_threads())
        except (OSError, AttributeError):
            continue
    return None


def sync(device):
    if device.startswith("cuda"):
        torch.cuda.synchronize()


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


class Server:
    def __init__(self, a):
        self.a = a
        t0 = time.perf_counter()
        if a.arch == "llama":
            self.m = Llama(a.n_layer, a.n_embd, a.n_head, a.n_kv_head, a.head_dim, a.ffn, a.vocab, a.rope_theta,
                           a.qkv_bias, a.tied).to(a.device)
        else:
            self.m = GPT2(a.n_layer, a.n_embd, a.n_head, a.vocab, a.n_positions).to(a.device)
        log(f"random model {a.n_layer}x{a.n_embd} built in {time.perf_counter() - t0:.1f}s")
        self.bufs = {}

    def buffer(self, name, *shape):
        """A tensor kept between calls (the preallocated outputs)."""
        b = self.bufs.get(name)
        if b is None or tuple(b.shape) != shape:
            b = self.bufs[name] = torch.empty(*shape, device=self.a.device)
        return b

    def info(self, c):
        x = torch.randn(64, 64, device=self.a.device)
        _ = (x @ x).sum().item()  # make sure the BLAS is loaded
        libs = loaded_blas()
        blas = ", ".join(libs) or "unknown"
        if self.a.device.startswith("cuda"):
            blas = f"CUDA {torch.version.cuda} on {torch.cuda.get_device_name()}; CPU: {blas}"
        env = {k: v for k, v in sorted(os.environ.items())
               if k.startswith(("OMP_", "OPENBLAS_", "MKL_", "GOMP_", "KMP_")) or k == "LD_LIBRARY_PATH"}
        return dict(python=sys.executable, version=torch.__version__, threads=torch.get_num_threads(),
                    interop_threads=torch.get_num_interop_threads(), blas=blas, openblas=openblas_details(libs),
                    parallel=torch.__config__.parallel_info(), device=self.a.device, env=env)

    def forward_setup(self, c):
        a, m = self.a, self.m
        g = torch.Generator().manual_seed(7)
        self.tokens = torch.randint(0, a.vocab, (c["batch"], c["seq"]), generator=g).to(a.device)
        # The steering vector: one batch-of-2 forward of the (random-id) prompt pair up to the
        # layer, c = +1 on the first, -1 on the second. p- = "" is BOS padded with spaces.
        n = c["steer_tokens"]
        pair = torch.randint(0, a.vocab, (2, n), generator=g)
        pair[1, 0] = pair[0, 0] = a.vocab - 1
        pair[1, 1:] = 220 % a.vocab
        acts = m.resid_pre(pair.to(a.device), c["steer_layer"])
        self.steer = (c["steer_layer"], acts[0] - acts[1])
        return dict(ok=True)

    def forward(self, c):
        m, B, T = self.m, *self.tokens.shape
        out = self.buffer("logits", B * T, self.a.vocab) if c.get("prealloc") else None
        t0 = time.perf_counter()
        s = m.logits(m.run(self.tokens, steer=self.steer if c.get("steer") else None), out=out).sum().item()
        sync(self.a.device)
        return dict(seconds=time.perf_counter() - t0, sum=s)

    def generate(self, c):
        """One batch: c["rows"] completions of a random c["prompt_tokens"]-token prompt (BOS
        first), c["new_tokens"] new tokens each; the draws come from a generator seeded with
        c["seed"]."""
        a, m = self.a, self.m
        B, P, N = c["rows"], c["prompt_tokens"], c["new_tokens"]
        prealloc = c.get("prealloc", False)
        g = torch.Generator().manual_seed(0)
        prompt = torch.randint(0, a.vocab, (1, P), generator=g)
        prompt[0, 0] = a.vocab - 1  # BOS
        prompt = prompt.to(a.device)
        gen = torch.Generator(device=a.device).manual_seed(c.get("seed", 0))
        capacity, H, hd = P + N, getattr(m, "kv_heads", m.h), m.hd
        sync(a.device)
        t0 = time.perf_counter()
        seq = prompt.expand(B, -1).clone()
        counts = torch.zeros(B, a.vocab, device=a.device)
        counts.scatter_add_(1, seq, torch.ones_like(seq, dtype=torch.float32))
        if prealloc:
            cache = self.bufs.get(("cache", B, capacity))
            if cache is None:
                cache = self.bufs[("cache", B, capacity)] = [
                    [torch.empty(B, H, capacity, hd, device=a.device), torch.empty(B, H, capacity, hd, device=a.device)]
                    for _ in m.blocks]
            out = self.buffer("step_logits", B, a.vocab)
        else:
            cache = [[torch.zeros(B, H, capacity, hd, device=a.device), torch.zeros(B, H, capacity, hd, device=a.device)]
                     for _ in m.blocks]
            out = None
        h = m.run(seq, start=0, cache=cache)
        pos = P
        dump = c.get("dump_logits")
        for step in range(N):
            logits = m.logits(h[:, -1], out=out)
            if dump and step == 0:
                logits.contiguous().cpu().numpy().astype("<f4").tofile(dump)
                self.dump_counts = counts.clone()
            tok = sample(logits, counts, c["temperature"], c["top_p"], c["freq_penalty"], gen)
            counts.scatter_add_(1, tok, torch.ones_like(tok, dtype=torch.float32))
            if step + 1 < N:
                h = m.run(tok, start=pos, cache=cache)
                pos += 1
        sync(a.device)
        return dict(seconds=time.perf_counter() - t0, tokens=B * N)

    def sampler(self, c):
        """The sampler alone, c["reps"] times on the logits dumped by a generate call (the
        frequency counts of that step), after c["warmup"] untimed calls."""
        rows, v = c["rows"], self.a.vocab
        logits = torch.from_file(c["path"], size=rows * v, dtype=torch.float32).view(rows, v).to(self.a.device)
        counts = self.dump_counts
        gen = torch.Generator(device=self.a.device).manual_seed(0)
        times = []
        for i in range(c["warmup"] + c["reps"]):
            sync(self.a.device)
            t0 = time.perf_counter()
            sample(logits, counts, c["temperature"], c["top_p"], c["freq_penalty"], gen)
            sync(self.a.device)
            if i >= c["warmup"]:
                times.append(time.perf_counter() - t0)
        return dict(seconds=times, median=statistics.median(times), mean=statistics.fmean(times))


def probe(a):
    """GFLOP/s of the model's largest matmul ([batch*seq, d] x [d, 4d]), median of 10 after 3
    warm-ups, and the BLAS core type in use: `make bench` runs this once per candidate
    OPENBLAS_CORETYPE to find the fastest kernel (OpenBLAS's own detection can fall back to a
    generic one on CPUs newer than the library)."""
    x, w = torch.randn(a.rows, a.n_embd), torch.randn(a.n_embd, 4 * a.n_embd)
    times = []
    for i in range(13):
        t0 = time.perf_counter()
        x @ w
        if i >= 3:
            times.append(time.perf_counter() - t0)
    libs = loaded_blas()
    return dict(gflops=2 * a.rows * a.n_embd * 4 * a.n_embd / statistics.median(times) / 1e9,
                openblas=openblas_details(libs), blas=", ".join(libs))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("command", choices=["serve", "probe"])
    p.add_argument("--rows", type=int, default=2048, help="probe: rows of the matmul")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu, or cuda on a GPU machine")
    p.add_argument("--n-layer", type=int, default=12)
    p.add_argument("--n-embd", type=int, default=768)
    p.add_argument("--n-head", type=int, default=12)
    p.add_argument("--vocab", type=int, default=50257)
    p.add_argument("--n-positions", type=int, default=1024)
    p.add_argument("--arch", choices=["gpt2", "llama"], default="gpt2")
    p.add_argument("--n-kv-head", type=int, default=0, help="llama: key/value heads")
    p.add_argument("--head-dim", type=int, default=0, help="llama: width of a head")
    p.add_argument("--ffn", type=int, default=0, help="llama: the MLP's width")
    p.add_argument("--rope-theta", type=float, default=10000.0)
    p.add_argument("--qkv-bias", action="store_true", help="llama: q, k, v biases (Qwen2)")
    p.add_argument("--tied", action="store_true", help="llama: the LM head is the embedding")
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_grad_enabled(False)
    if a.command == "probe":
        print(json.dumps(probe(a)))
        return
    with torch.inference_mode():
        srv = Server(a)
        print(json.dumps(dict(ready=True)), flush=True)
        for line in sys.stdin:
            c = json.loads(line)
            if c["op"] == "quit":
                break
            try:
                out = getattr(srv, c["op"])(c)
            except Exception as e:  # reported to the Go side, which stops with it
                out = dict(error=f"{type(e).__name__}: {e}")
            print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
