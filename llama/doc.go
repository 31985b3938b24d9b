// Package llama is the Llama family of decoder-only transformers as a GoMLX graph: Llama 2,
// Llama 3.x (rope_scaling type llama3), Mistral, Qwen2 / Qwen2.5, Qwen3 and SmolLM2 (a Llama),
// and Gemma 2 and Gemma 3 (text), one model with switches read from config.json, as
// TransformerLens builds them (see "Gemma" below). Hook points
// and the program API mirror package gpt2.
//
// The block is pre-norm: x += o_proj(attn(input_layernorm(x))); x += mlp(post_attention_layernorm(x)),
// with RMSNorm x / sqrt(mean(x²) + eps) · w, a gated MLP down_proj(silu(gate_proj(h)) · up_proj(h)),
// no position embedding, and a final RMSNorm before the LM head (lm_head, or embed_tokens when
// tie_word_embeddings). Switches: q, k, v (and for Llama o) biases, MLP biases, Qwen3's per-head
// q_norm / k_norm applied to queries and keys before RoPE, an explicit head_dim that need not be
// hidden_size / num_attention_heads, Mistral's sliding window. Weights stored in F32, F16 or BF16
// are computed in float32.
//
// # The residual stream and hook_resid_pre
//
// blocks.{l}.hook_resid_pre is the residual stream entering block l, before its
// input_layernorm: for l = 0 the token embedding alone (not scaled, except in Gemma), for l > 0
// the sum of the embedding and the attention and MLP outputs of blocks 0..l-1. It is the
// un-normalized stream, as in TransformerLens: a vector added there is seen by block l through
// its RMSNorm, so what matters is its size relative to the stream's, which grows with depth in
// these models. Hugging Face's output_hidden_states[l] is the same tensor for l < num_layers;
// its last entry is after the final norm, not hook_resid_post of the last block.
//
// # RoPE
//
// Queries and keys (after Qwen3's q/k norms) are rotated by position p in Hugging Face's
// layout ("rotate_half"): dimension j of a head is paired with dimension j + head_dim/2 (not
// with j + 1 as in the RoPE paper and in Meta's original checkpoints), both rotated by the
// angle p · θ^(-2j/head_dim), j < head_dim/2:
//
//	x'[j]            = x[j]·cos − x[j+head_dim/2]·sin
//	x'[j+head_dim/2] = x[j+head_dim/2]·cos + x[j]·sin
//
// The inverse frequencies and angles are float32, as in Hugging Face. rope_scaling "linear"
// divides every frequency by its factor; "llama3" divides the low frequencies by the factor,
// keeps the high ones and interpolates between (ropeInvFreq). Positions are absolute and given
// to every program, so a prompt can start anywhere; keys are cached after rotation.
//
// # Sliding window
//
// Mistral with sliding_window W lets the token at position i attend to keys j with
// i − W < j ≤ i: W keys, itself included, as transformers' masking_utils defines it
// (kv_idx > q_idx − sliding_window). Transformers versions before masking_utils gave Mistral
// W + 1 keys. Qwen2 and Qwen3 slide only with use_sliding_window, which is refused.
//
// # Grouped-query attention
//
// With num_key_value_heads < num_attention_heads, the heads form groups of
// num_attention_heads / num_key_value_heads consecutive query heads: query head h reads key and
// value head h / groups (integer division), as Hugging Face's repeat_kv repeats each key/value
// head consecutively (not h mod num_key_value_heads). Keys and values are never repeated: the
// backend's fused attention reads each key/value head once for its group of query heads (and
// the decomposed fallback stacks a group's queries against their key/value head), and the KV
// cache holds one entry per key/value head, [batch, capacity, kv_heads, head_dim].
//
// # Gemma
//
// Gemma 2 (model_type gemma2, Gemma2ForCausalLM) and Gemma 3 text (gemma3_text,
// Gemma3ForCausalLM, e.g. google/gemma-3-270m, gemma-3-1b-pt) are the same model with these
// switches, read by a config parser of their own (Config.Gemma; transformers 4.56's modeling
// code and configs, whose arithmetic v5 keeps):
//
//   - The token embedding is multiplied by √hidden_size rounded to the checkpoint's dtype
//     (torch_dtype), as Hugging Face rounds it to the dtype the model runs in: √2304 = 48,
//     √1152 → 34 and √3584 → 59.75 in bfloat16 (Config.EmbedScale). A model saved in bfloat16
//     and run in float32 by Hugging Face (its default before v5) uses the unrounded float32 value.
//   - Every RMSNorm multiplies by 1 + w (the stored weights are centred on 0), computed in float32;
//     Weights' norm factors already hold 1 + w.
//   - Four norms per block: x += post_attention_layernorm(attn(input_layernorm(x)));
//     x += post_feedforward_layernorm(mlp(pre_feedforward_layernorm(x))). Gemma's
//     post_attention_layernorm normalizes the attention output; Llama's of that name is the norm
//     before the MLP.
//   - The MLP is down_proj(gelu_tanh(gate_proj(h)) · up_proj(h)) (hidden_activation
//     gelu_pytorch_tanh).
//   - Attention scores are scaled by query_pre_attn_scalar^-0.5, not head_dim^-0.5; Gemma 2
//     caps them as c·tanh(s/c) with c = attn_logit_softcapping, after scaling and before the
//     mask (Gemma 3's attention ignores that field); the logits are capped the same way with
//     final_logit_softcapping where it is set (Gemma 2's default 30; null in Gemma 3's
//     checkpoints).
//   - Sliding-window layers: layer_types where config.json has it; otherwise Gemma 2's layer 0
//     slides and then every other layer, and Gemma 3's layer i is global when
//     (i + 1) % sliding_window_pattern == 0 (6 by default). A sliding layer's token at
//     position i sees keys i − sliding_window < j ≤ i (Config.SlidingWindowAt).
//   - Gemma 3 normalizes queries and keys per head (q_norm, k_norm, 1 + w) before RoPE, and has
//     two RoPE bases: rope_theta, with rope_scaling, for global layers; rope_local_base_freq,
//     never scaled, for sliding layers (transformers v5's rope_parameters keyed by layer type are
//     read too).
//
// A Gemma model's blocks.{l}.hook_resid_pre is the residual stream entering block l, before
// its input_layernorm: for l = 0 the embedding already multiplied by √hidden_size, for l > 0
// that plus the post-normed attention and MLP outputs of blocks 0..l-1. The post-norms are
// inside the block: hook_attn_out and hook_mlp_out are the outputs after
// post_attention_layernorm and post_feedforward_layernorm, the terms actually added to the
// stream, and hook_resid_mid is the stream between them. As for the other families, this equals
// Hugging Face's output_hidden_states[l] for l < num_hidden_layers. Since the embedding is
// scaled by √hidden_size, a Gemma stream is much larger than its embedding table's rows: a
// steering vector taken as the difference of two streams at hook_resid_pre carries that scale,
// while one built from raw embedding rows would need it applied.
//
// Gemma's tokenizer (SentencePiece-style) is not part of this package.
package llama
