// Writes ../parity-golden.json: the ids the Hugging Face tokenizers library
// (Rust, through its official Node binding, the "tokenizers" npm package)
// gives for corpus.json, parity-corpus.json and parity-random.json under
// each variant of
// ../parity-variants.json. Run with `npm ci` in this directory, then
// `node parity.mjs`.
import { readFileSync, writeFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("tokenizers");
const here = new URL(".", import.meta.url);
const corpus = JSON.parse(readFileSync(new URL("corpus.json", here), "utf8"));
const extra = JSON.parse(readFileSync(new URL("parity-corpus.json", here), "utf8"));
const random = JSON.parse(readFileSync(new URL("parity-random.json", here), "utf8"));
const texts = corpus.concat(extra, random);
function readBase(name) {
  const raw = readFileSync(new URL("../" + name, here));
  return JSON.parse((name.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8"));
}
const { variants } = JSON.parse(readFileSync(new URL("../parity-variants.json", here), "utf8"));

// patch mirrors applyVariant in unigram_test.go.
function patch(v) {
  const f = readBase(v.base);
  const charsmap = f.normalizer.precompiled_charsmap;
  for (const key of ["normalizer", "pre_tokenizer", "decoder"]) {
    if (v[key]) f[key] = JSON.parse(JSON.stringify(v[key]).replaceAll('"PRECOMPILED"', JSON.stringify(charsmap)));
  }
  if (v.byte_pieces) {
    const mask = f.model.vocab.pop();
    for (let b = 0; b < 256; b++) {
      f.model.vocab.push([`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, -30.0]);
    }
    f.model.vocab.push(mask);
    f.added_tokens.find((a) => a.content === mask[0]).id = f.model.vocab.length - 1;
    f.model.byte_fallback = true;
  }
  return f;
}

const out = {};
for (const [name, v] of Object.entries(variants)) {
  const tok = Tokenizer.fromString(JSON.stringify(patch(v)));
  // A file's own truncation and padding (all-MiniLM-L6-v2 ships Fixed 128
  // padding) are off, as transformers' fast tokenizers set them per call
  // and default to neither; the truncation cases below set their own.
  tok.disablePadding();
  tok.disableTruncation();
  const rows = [];
  for (const text of texts) {
    const withSpecial = (await tok.encode(text)).getIds();
    const plain = (await tok.encode(text, null, { addSpecialTokens: false })).getIds();
    const decoded = await tok.decode(plain, false);
    rows.push({ text, with_special: withSpecial, without_special: plain, decoded });
  }
  // Sentence pairs and truncation (longest_first, right), with specials.
  const pairs = [];
  for (let i = 0; i + 1 < texts.length; i += 7) {
    const [a, b] = [texts[i], texts[i + 1]];
    const e = await tok.encode(a, b);
    const row = { a, b, ids: e.getIds(), type_ids: e.getTypeIds(), truncated: {} };
    for (const max of [5, 12, 33, 64]) {
      tok.setTruncation(max);
      const t = await tok.encode(a, b);
      const s = await tok.encode(a);
      tok.disableTruncation();
      row.truncated[max] = { pair: t.getIds(), pair_type_ids: t.getTypeIds(), single: s.getIds() };
    }
    pairs.push(row);
  }
  out[name] = { rows, pairs };
}
const lock = JSON.parse(readFileSync(new URL("package-lock.json", here), "utf8"));
writeFileSync(
  new URL("../parity-golden.json", here),
  JSON.stringify({ generator: "ref/parity.mjs", tokenizers: lock.packages["node_modules/tokenizers"].version, variants: out }) + "\n",
);
console.log(`wrote parity-golden.json: ${texts.length} texts x ${Object.keys(out).length} variants`);
