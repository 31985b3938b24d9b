#!/usr/bin/env python3
"""Loads a Llama-family checkpoint folder (F32 model.safetensors, as llama.WriteRandom writes
it) into torch_reference.py's Llama class and prints its logits for the given token ids, by a
full forward pass and by a KV-cached one (prefill of the first half, then one token at a time),
as JSON {"full": [[...]], "cached": [[...]]}. benchmarks/llama_test.go compares them with
package llama, so that the baseline is known to compute the same function as the Go side.

    python3 benchmarks/torch_llama_check.py DIR 1,5,9,13
"""
import json
import os
import struct
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_reference as tr  # noqa: E402


def read_safetensors(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        if e["dtype"] != "F32":
            sys.exit(f"torch_llama_check: {name} is {e['dtype']}: write the checkpoint in F32")
        a, b = e["data_offsets"]
        out[name] = torch.frombuffer(bytearray(data[a:b]), dtype=torch.float32).reshape(e["shape"])
    return out


def main(folder, ids):
    cfg = json.load(open(os.path.join(folder, "config.json")))
    w = read_safetensors(os.path.join(folder, "model.safetensors"))
    n_layer, d, heads, kv = cfg["num_hidden_layers"], cfg["hidden_size"], cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or d // heads
    qkv_bias = "model.layers.0.self_attn.q_proj.bias" in w
    tied = cfg.get("tie_word_embeddings", False)
    m = tr.Llama(n_layer, d, heads, kv, hd, cfg["intermediate_size"], cfg["vocab_size"], cfg["rope_theta"], qkv_bias, tied,
                 eps=cfg["rms_norm_eps"])
    m.embed = w["model.embed_tokens.weight"]
    m.head = m.embed if tied else w["lm_head.weight"]
    m.norm = w["model.norm.weight"]
    for l, b in enumerate(m.blocks):
        p = f"model.layers.{l}."
        b["in_norm"], b["post_norm"] = w[p + "input_layernorm.weight"], w[p + "post_attention_layernorm.weight"]
        b["qkv_w"] = torch.cat([w[p + f"self_attn.{x}_proj.weight"] for x in "qkv"]).t().contiguous()
        b["qkv_b"] = torch.cat([w[p + f"self_attn.{x}_proj.bias"] for x in "qkv"]) if qkv_bias else None
        b["o_w"] = w[p + "self_attn.o_proj.weight"].t().contiguous()
        b["gu_w"] = torch.cat([w[p + "mlp.gate_proj.weight"], w[p + "mlp.up_proj.weight"]]).t().contiguous()
        b["down_w"] = w[p + "mlp.down_proj.weight"].t().contiguous()
    toks = torch.tensor([ids])
    with torch.no_grad():
        full = m.logits(m.run(toks))[0]
        n = len(ids)
        cache = [[torch.zeros(1, kv, n, hd), torch.zeros(1, kv, n, hd)] for _ in m.blocks]
        half = max(1, n // 2)
        outs = [m.logits(m.run(toks[:, :half], start=0, cache=cache))[0]]
        for i in range(half, n):
            outs.append(m.logits(m.run(toks[:, i:i + 1], start=i, cache=cache))[0])
    print(json.dumps({"full": full.tolist(), "cached": torch.cat(outs).tolist()}))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: torch_llama_check.py DIR ID,ID,...")
    main(sys.argv[1], [int(x) for x in sys.argv[2].split(",")])
