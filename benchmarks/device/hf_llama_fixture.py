#!/usr/bin/env python3
"""Writes the Hugging Face oracle fixtures that llama/hf_oracle_test.go checks package llama
against, one per family.

Run it where Hugging Face `transformers` and PyTorch are installed (these CPU machines have
neither):

    python3 benchmarks/device/hf_llama_fixture.py llama/testdata

For each of LlamaForCausalLM (grouped queries, head_dim unlike hidden_size / heads, llama3
RoPE scaling, attention and MLP biases, an untied head), Qwen2ForCausalLM (q/k/v biases, tied),
Qwen3ForCausalLM (q/k norms, explicit head_dim), MistralForCausalLM (a sliding window shorter
than the sequence), Gemma2ForCausalLM (√d-scaled embeddings, (1 + w) norms around attention and
MLP, gelu-tanh gating, query_pre_attn_scalar, attention and final soft-caps, sliding layers
alternating from layer 0 with a window shorter than the sequence) and Gemma3ForCausalLM (q/k
norms, a sliding/global layer pattern, rope_local_base_freq for sliding layers and a linearly
scaled rope_theta for global ones, a final soft-cap), it makes a tiny model with seeded random weights (every parameter drawn, so
that biases and norm weights are exercised), saves it with save_pretrained into
OUT/hf-<family> (config.json + model.safetensors, the exact HF layout, float32), runs fixed
random token ids through HF's own forward pass (eager attention) and stores, in
oracle.safetensors:

    logits            [batch, seq, vocab]  Model(ids).logits
    hidden_states.i   [batch, seq, d]      output_hidden_states: the embeddings (i = 0), each
                                           block's output (1 .. n_layer-1) and the final norm's
                                           output (i = n_layer)
    steer.vector      [n, d]               hidden_states[layer] of plus_ids − of minus_ids
    steer.logits      [batch, seq, vocab]  logits with coeff · steer.vector added to the first n
                                           positions of block `layer`'s input (a forward
                                           pre-hook): ActAdd at blocks.{layer}.hook_resid_pre
    greedy.tokens     [1, new]             model.generate(prompt, greedy, KV cache) with the same
                                           addition on the prompt's pass only (as float32 ids)

(for Gemma, hidden_states.0 is the embedding already multiplied by √d, as Gemma's model does
before its first block) and, as metadata, the input ids, the steering layer, coefficient and prompt ids, the greedy
prompt, and the versions of transformers and torch. A few hundred kB per family.
"""
import json
import os
import sys

import torch
import transformers
from safetensors.torch import save_file

VOCAB, HIDDEN, FFN, LAYERS, HEADS, KV_HEADS, MAX_POS = 1000, 48, 80, 3, 4, 2, 64
BATCH, SEQ = 3, 11
LAYER, COEFF = 1, 3.0
NEW_TOKENS = 8


def configs():
    common = dict(vocab_size=VOCAB, hidden_size=HIDDEN, intermediate_size=FFN, num_hidden_layers=LAYERS,
                  num_attention_heads=HEADS, num_key_value_heads=KV_HEADS, max_position_embeddings=MAX_POS,
                  hidden_act="silu", bos_token_id=1, eos_token_id=2, attn_implementation="eager")
    out = {
        "llama": (transformers.LlamaConfig, transformers.LlamaForCausalLM, dict(
            common, head_dim=16, rms_norm_eps=1e-5, rope_theta=500000.0, attention_bias=True, mlp_bias=True,
            tie_word_embeddings=False,
            rope_scaling={"rope_type": "llama3", "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 32})),
        "qwen2": (transformers.Qwen2Config, transformers.Qwen2ForCausalLM, dict(
            common, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=True, use_sliding_window=False)),
        "qwen3": (transformers.Qwen3Config, transformers.Qwen3ForCausalLM, dict(
            common, head_dim=16, rms_norm_eps=1e-6, rope_theta=1000000.0, tie_word_embeddings=False,
            attention_bias=False, use_sliding_window=False)),
        "mistral": (transformers.MistralConfig, transformers.MistralForCausalLM, dict(
            common, head_dim=16, rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False, sliding_window=4)),
    }
    gemma = dict(common, head_dim=16, rms_norm_eps=1e-6, query_pre_attn_scalar=24, sliding_window=4,
                 tie_word_embeddings=True, bos_token_id=2, eos_token_id=1, pad_token_id=0)
    del gemma["hidden_act"]
    gemma["hidden_activation"] = "gelu_pytorch_tanh"
    if hasattr(transformers, "Gemma2ForCausalLM"):
        out["gemma2"] = (transformers.Gemma2Config, transformers.Gemma2ForCausalLM, dict(
            gemma, rope_theta=10000.0, attn_logit_softcapping=5.0, final_logit_softcapping=10.0))
    else:
        print(f"hf_llama_fixture: transformers {transformers.__version__} has no Gemma2ForCausalLM: no hf-gemma2")
    if hasattr(transformers, "Gemma3ForCausalLM"):
        # Layer 1 global, 0 and 2 sliding: sliding_window_pattern for transformers before
        # layer_types, layer_types for those after (both say the same).
        out["gemma3"] = (transformers.Gemma3TextConfig, transformers.Gemma3ForCausalLM, dict(
            gemma, rope_theta=1000000.0, rope_local_base_freq=10000.0,
            rope_scaling={"rope_type": "linear", "factor": 8.0}, final_logit_softcapping=10.0,
            sliding_window_pattern=2, layer_types=["sliding_attention", "full_attention", "sliding_attention"]))
    else:
        print(f"hf_llama_fixture: transformers {transformers.__version__} has no Gemma3ForCausalLM: no hf-gemma3")
    return out


def fixture(family, config_cls, model_cls, kwargs, out):
    torch.manual_seed(0)
    model = model_cls(config_cls(**kwargs)).eval()
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                # Gemma stores its norm weights centred on 0 (it multiplies by 1 + w).
                p.copy_((0.0 if family.startswith("gemma") else 1.0) + 0.2 * torch.randn_like(p))
            elif name.endswith("embed_tokens.weight") or name.endswith("lm_head.weight"):
                p.copy_(torch.randn_like(p))
            elif name.endswith(".bias"):
                p.copy_(0.1 * torch.randn_like(p))
            else:
                p.copy_(torch.randn_like(p) / p.shape[-1] ** 0.5)
    os.makedirs(out, exist_ok=True)
    model.save_pretrained(out, safe_serialization=True)
    if not os.path.exists(os.path.join(out, "model.safetensors")):
        sys.exit(f"hf_llama_fixture: save_pretrained wrote no model.safetensors in {out}: {os.listdir(out)}")

    g = torch.Generator().manual_seed(1)
    ids = torch.randint(0, VOCAB, (BATCH, SEQ), generator=g)
    plus = torch.randint(0, VOCAB, (1, 4), generator=g)
    minus = torch.randint(0, VOCAB, (1, 4), generator=g)
    prompt = torch.randint(0, VOCAB, (1, 5), generator=g)
    with torch.no_grad():
        o = model(ids, output_hidden_states=True)
        tensors = {"logits": o.logits.float().contiguous()}
        for i, h in enumerate(o.hidden_states):
            tensors[f"hidden_states.{i}"] = h.float().contiguous()
        vec = (model(plus, output_hidden_states=True).hidden_states[LAYER][0]
               - model(minus, output_hidden_states=True).hidden_states[LAYER][0])

        def add_vector(module, args, kwargs):
            x = args[0] if args else kwargs["hidden_states"]
            if x.shape[1] < vec.shape[0]:  # a decoding step: the addition covers the prompt only
                return None
            x = x.clone()
            x[:, : vec.shape[0], :] += COEFF * vec
            if args:
                return (x,) + tuple(args[1:]), kwargs
            kwargs["hidden_states"] = x
            return args, kwargs

        hook = model.model.layers[LAYER].register_forward_pre_hook(add_vector, with_kwargs=True)
        tensors["steer.logits"] = model(ids).logits.float().contiguous()
        gen = model.generate(prompt, max_new_tokens=NEW_TOKENS, min_new_tokens=NEW_TOKENS, do_sample=False,
                             use_cache=True, pad_token_id=0)
        hook.remove()
        tensors["steer.vector"] = vec.float().contiguous()
        tensors["greedy.tokens"] = gen[:, prompt.shape[1]:].float().contiguous()

    meta = {
        "family": family,
        "input_ids": json.dumps(ids.tolist()),
        "steer_layer": str(LAYER),
        "steer_coeff": repr(COEFF),
        "steer_plus_ids": json.dumps(plus.tolist()[0]),
        "steer_minus_ids": json.dumps(minus.tolist()[0]),
        "greedy_prompt_ids": json.dumps(prompt.tolist()[0]),
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "made_by": "benchmarks/device/hf_llama_fixture.py",
    }
    save_file(tensors, os.path.join(out, "oracle.safetensors"), metadata=meta)
    print(f"hf_llama_fixture: wrote {out} (transformers {transformers.__version__}, torch {torch.__version__})")


def main(out):
    for family, (config_cls, model_cls, kwargs) in configs().items():
        fixture(family, config_cls, model_cls, kwargs, os.path.join(out, "hf-" + family))


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: hf_llama_fixture.py OUT_DIR")
    main(sys.argv[1])
