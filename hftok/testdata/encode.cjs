// Encodes a corpus with an independent tokenizer implementation, for hftok's exactness tests.
//
//   node encode.cjs <npm-dir> <impl> <tokenizer-dir> <corpus.jsonl> <out.jsonl>
//
// <npm-dir> holds node_modules with @lenml/tokenizers (a fork of transformers.js's tokenizers)
// and llama-tokenizer-js. <impl> is "transformers" (tokenizer.json and tokenizer_config.json of
// <tokenizer-dir>, encoded with add_special_tokens false) or "llama-tokenizer-js" (its own
// built-in Llama 1/2 vocabulary; <tokenizer-dir> is ignored). Each corpus line is {"text": ...};
// each output line is {"ids": [...], "decoded": "..."}, decoded being the implementation's
// decoding of ids.
"use strict";
const fs = require("fs");
const path = require("path");

async function main() {
  const [npmDir, impl, tokDir, corpusPath, outPath] = process.argv.slice(2);
  let encode, decode;
  if (impl === "transformers") {
    const { TokenizerLoader } = require(path.join(npmDir, "node_modules", "@lenml", "tokenizers"));
    const tok = TokenizerLoader.fromPreTrained({
      tokenizerJSON: JSON.parse(fs.readFileSync(path.join(tokDir, "tokenizer.json"), "utf8")),
      tokenizerConfig: JSON.parse(fs.readFileSync(path.join(tokDir, "tokenizer_config.json"), "utf8")),
    });
    encode = (s) => tok.encode(s, { add_special_tokens: false });
    decode = (ids) => tok.decode(ids, { skip_special_tokens: false, clean_up_tokenization_spaces: false });
  } else if (impl === "llama-tokenizer-js") {
    const mod = await import(path.join(npmDir, "node_modules", "llama-tokenizer-js", "llama-tokenizer.js"));
    const lt = mod.default;
    encode = (s) => lt.encode(s, false, true);
    decode = (ids) => lt.decode(ids, false, true);
  } else {
    throw new Error("unknown implementation " + impl);
  }
  const lines = fs.readFileSync(corpusPath, "utf8").split("\n").filter((l) => l.length > 0);
  const out = [];
  for (const line of lines) {
    const { text } = JSON.parse(line);
    const ids = Array.from(encode(text));
    out.push(JSON.stringify({ ids, decoded: ids.length > 0 ? decode(ids) : "" }));
  }
  fs.writeFileSync(outPath, out.join("\n") + "\n");
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
