// Encodes a corpus with an independent tokenizer implementation, for hftok's exactness tests.
//
//   node encode.cjs <npm-dir> <impl> <tokenizer-dir> <corpus.jsonl> <out.jsonl>
//
// <npm-dir> holds node_modules with @lenml/tokenizers (a fork of transformers.js's tokenizers)
// and llama-tokenizer-js. <impl> is "transformers" (tokenizer.json and tokenizer_config.json of
// <tokenizer-dir>, encoded with add_special_tokens false), "transformers-onig" (the same, with
// \s and \S of the Split patterns rewritten to mean what they mean in Oniguruma, the regular
// expression engine of Hugging Face tokenizers: JavaScript's \s also matches U+FEFF and does
// not match U+0085) or "llama-tokenizer-js" (its own built-in Llama 1/2 vocabulary;
// <tokenizer-dir> is ignored). Each corpus line is {"text": ...};
// each output line is {"ids": [...], "decoded": "..."}, decoded being the implementation's
// decoding of ids.
"use strict";
const fs = require("fs");
const path = require("path");

async function main() {
  const [npmDir, impl, tokDir, corpusPath, outPath] = process.argv.slice(2);
  let encode, decode;
  if (impl === "transformers" || impl === "transformers-onig") {
    const { TokenizerLoader } = require(path.join(npmDir, "node_modules", "@lenml", "tokenizers"));
    const tokenizerJSON = JSON.parse(fs.readFileSync(path.join(tokDir, "tokenizer.json"), "utf8"));
    if (impl === "transformers-onig") onigWhitespace(tokenizerJSON.pre_tokenizer);
    const tok = TokenizerLoader.fromPreTrained({
      tokenizerJSON,
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

// Oniguruma's \s for Unicode text: U+0009-U+000D, U+0085 and the Zl, Zp and Zs categories.
const ONIG_WS = "\\t\\n\\v\\f\\r\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";

// onigPattern rewrites \s and \S of a regular expression, inside and outside classes.
function onigPattern(p) {
  let out = "";
  let inClass = false;
  for (let i = 0; i < p.length; i++) {
    const c = p[i];
    if (c === "\\" && i + 1 < p.length) {
      const n = p[i + 1];
      i++;
      if (n === "s") out += inClass ? ONIG_WS : "[" + ONIG_WS + "]";
      else if (n === "S") {
        if (inClass) throw new Error("\\S inside a character class is not rewritten: " + p);
        out += "[^" + ONIG_WS + "]";
      } else out += c + n;
      continue;
    }
    if (c === "[" && !inClass) inClass = true;
    else if (c === "]" && inClass) inClass = false;
    out += c;
  }
  return out;
}

function onigWhitespace(pt) {
  if (!pt) return;
  if (pt.type === "Sequence") pt.pretokenizers.forEach(onigWhitespace);
  if (pt.type === "Split" && pt.pattern && pt.pattern.Regex) pt.pattern.Regex = onigPattern(pt.pattern.Regex);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(1);
});
