// Package llama is the Llama family of decoder-only transformers as a GoMLX graph: Llama 2,
// Llama 3.x (rope_scaling type llama3), Mistral, Qwen2 / Qwen2.5, Qwen3 and SmolLM2 (a Llama),
// one model with switches read from config.json, as TransformerLens builds them. Hook points
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
// input_layernorm: for l = 0 the token embedding alone (the embedding is not scaled), for l > 0
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
package llama
