#!/usr/bin/env python3
"""Writes the Hugging Face oracle fixture that gpt2/hf_oracle_test.go checks the Go model against.

Run it where Hugging Face `transformers` and PyTorch are installed (the GPU device image has
them; these CPU machines do not):

    python3 benchmarks/device/hf_fixture.py gpt2/testdata/hf-tiny

It makes a tiny GPT2LMHeadModel with seeded random weights (every parameter drawn, so that
biases and LayerNorm gains are exercised too), saves it with save_pretrained (config.json +
model.safetensors, the exact HF layout), runs fixed random token ids through HF's own forward
pass and stores, in oracle.safetensors:

    logits            [batch, seq, vocab]  GPT2LMHeadModel(ids).logits
    hidden_states.i   [batch, seq, d]      output_hidden_states: the embeddings (i = 0), each
                                           block's output (1 .. n_layer-1) and the final
                                           LayerNorm's output (i = n_layer)
    steer.vector      [n, d]               hidden_states[layer] of plus_ids − of minus_ids
    steer.logits      [batch, seq, vocab]  logits with coeff · steer.vector added to the first n
                                           positions of block `layer`'s input (a forward
                                           pre-hook): ActAdd at blocks.{layer}.hook_resid_pre

and, as metadata, the input ids, the steering layer, coefficient and prompt ids, and the
versions of transformers and torch. A few hundred kB in all.
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel

N_LAYER, N_HEAD, N_EMBD, VOCAB, N_POSITIONS = 3, 4, 64, 1000, 64
BATCH, SEQ = 3, 11
LAYER, COEFF = 1, 3.0


def main(out: str) -> None:
    torch.manual_seed(0)
    cfg = GPT2Config(vocab_size=VOCAB, n_positions=N_POSITIONS, n_embd=N_EMBD, n_layer=N_LAYER,
                     n_head=N_HEAD, activation_function="gelu_new", layer_norm_epsilon=1e-5,
                     resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True)
    model = GPT2LMHeadModel(cfg).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("ln_1.weight") or name.endswith("ln_2.weight") or name.endswith("ln_f.weight"):
                p.copy_(1.0 + 0.2 * torch.randn_like(p))
            else:
                p.copy_(0.1 * torch.randn_like(p))
    os.makedirs(out, exist_ok=True)
    try:
        model.save_pretrained(out, safe_serialization=True)
    except TypeError:  # transformers versions where safetensors is the only format
        model.save_pretrained(out)
    if not os.path.exists(os.path.join(out, "model.safetensors")):
        sys.exit(f"hf_fixture: save_pretrained wrote no model.safetensors in {out}: {os.listdir(out)}")

    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, VOCAB, (BATCH, SEQ), generator=g)
    plus = torch.randint(0, VOCAB, (1, 4), generator=g)
    minus = torch.randint(0, VOCAB, (1, 4), generator=g)
    with torch.no_grad():
        o = model(ids, output_hidden_states=True)
        tensors = {"logits": o.logits.float().contiguous()}
        for i, h in enumerate(o.hidden_states):
            tensors[f"hidden_states.{i}"] = h.float().contiguous()
        vec = (model(plus, output_hidden_states=True).hidden_states[LAYER][0]
               - model(minus, output_hidden_states=True).hidden_states[LAYER][0])

        def add_vector(module, args, kwargs):
            if args:
                x = args[0].clone()
                x[:, : vec.shape[0], :] += COEFF * vec
                return (x,) + tuple(args[1:]), kwargs
            x = kwargs["hidden_states"].clone()
            x[:, : vec.shape[0], :] += COEFF * vec
            kwargs["hidden_states"] = x
            return args, kwargs

        hook = model.transformer.h[LAYER].register_forward_pre_hook(add_vector, with_kwargs=True)
        tensors["steer.logits"] = model(ids).logits.float().contiguous()
        hook.remove()
        tensors["steer.vector"] = vec.float().contiguous()

    meta = {
        "input_ids": json.dumps(ids.tolist()),
        "steer_layer": str(LAYER),
        "steer_coeff": repr(COEFF),
        "steer_plus_ids": json.dumps(plus.tolist()[0]),
        "steer_minus_ids": json.dumps(minus.tolist()[0]),
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "made_by": "benchmarks/device/hf_fixture.py",
    }
    save_file(tensors, os.path.join(out, "oracle.safetensors"), metadata=meta)
    print(f"hf_fixture: wrote {out} (transformers {transformers.__version__}, torch {torch.__version__})")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: hf_fixture.py OUT_DIR")
    main(sys.argv[1])
