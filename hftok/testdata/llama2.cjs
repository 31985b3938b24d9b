// Writes Llama 2's tokenizer.json and tokenizer_config.json, in the layout Hugging Face's
// converter gives Llama 2 (the layout of Mistral 7B v0.1's file), from the vocabulary and
// merges that npm's llama-tokenizer-js (MIT) carries for Llama 1 and 2.
//
//   node llama2.cjs <npm-dir> <out-dir>
"use strict";
const fs = require("fs");
const path = require("path");

async function main() {
  const [npmDir, outDir] = process.argv.slice(2);
  const mod = await import(path.join(npmDir, "node_modules", "llama-tokenizer-js", "llama-tokenizer.js"));
  const lt = mod.default;
  const vocab = {};
  lt.vocabById.forEach((tok, id) => {
    if (id < 32000) vocab[tok] = id;
  });
  if (Object.keys(vocab).length !== 32000) throw new Error("vocabulary is not 32000 distinct tokens");
  // lt.merges maps "a b" to its priority, in the order of Llama's merges.
  const merges = [];
  for (const key of lt.merges.keys()) {
    const parts = key.split(" ");
    if (parts.length !== 2) throw new Error("merge " + JSON.stringify(key) + " is not two tokens");
    merges.push(parts[0] + " " + parts[1]);
  }
  const special = (id, content) => ({ id, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
  const tokenizer = {
    version: "1.0",
    truncation: null,
    padding: null,
    added_tokens: [special(0, "<unk>"), special(1, "<s>"), special(2, "</s>")],
    normalizer: {
      type: "Sequence",
      normalizers: [
        { type: "Prepend", prepend: "\u2581" },
        { type: "Replace", pattern: { String: " " }, content: "\u2581" },
      ],
    },
    pre_tokenizer: null,
    post_processor: {
      type: "TemplateProcessing",
      single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }],
      pair: [
        { SpecialToken: { id: "<s>", type_id: 0 } },
        { Sequence: { id: "A", type_id: 0 } },
        { SpecialToken: { id: "<s>", type_id: 1 } },
        { Sequence: { id: "B", type_id: 1 } },
      ],
      special_tokens: { "<s>": { id: "<s>", ids: [1], tokens: ["<s>"] } },
    },
    decoder: {
      type: "Sequence",
      decoders: [
        { type: "Replace", pattern: { String: "\u2581" }, content: " " },
        { type: "ByteFallback" },
        { type: "Fuse" },
        { type: "Strip", content: " ", start: 1, stop: 0 },
      ],
    },
    model: {
      type: "BPE",
      dropout: null,
      unk_token: "<unk>",
      continuing_subword_prefix: null,
      end_of_word_suffix: null,
      fuse_unk: true,
      byte_fallback: true,
      vocab,
      merges,
    },
  };
  const config = {
    add_bos_token: true,
    add_eos_token: false,
    bos_token: "<s>",
    eos_token: "</s>",
    unk_token: "<unk>",
    pad_token: null,
    legacy: true,
    clean_up_tokenization_spaces: false,
    model_max_length: 4096,
    tokenizer_class: "LlamaTokenizer",
  };
  fs.mkdirSync(outDir, { recursive: true });
  fs.writeFileSync(path.join(outDir, "tokenizer.json"), JSON.stringify(tokenizer));
  fs.writeFileSync(path.join(outDir, "tokenizer_config.json"), JSON.stringify(config));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
