// Prints, as JSON, the ids transformers.js (@lenml/tokenizers) gives for the
// texts of ../parity-golden.json under the variants it can load faithfully:
// the second reference next to the Rust library. TestParityTransformersJS
// runs it (after `npm ci` here).
import { readFileSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { TokenizerLoader } from "@lenml/tokenizers";

const here = new URL(".", import.meta.url);
const golden = JSON.parse(readFileSync(new URL("../parity-golden.json", here), "utf8"));
const random = JSON.parse(readFileSync(new URL("parity-random.json", here), "utf8"));
const { variants } = JSON.parse(readFileSync(new URL("../parity-variants.json", here), "utf8"));
const out = {};
// Only unpatched files: transformers.js lacks Nmt and reads the patched
// Metaspace layouts differently from the Rust library.
for (const name of ["xlmr", "barthez", "bert-base-uncased", "all-minilm-l6-v2", "bge-small-en-v1.5", "multilingual-e5-small"]) {
  const base = variants[name].base;
  const raw = readFileSync(new URL("../" + base, here));
  const f = JSON.parse((base.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8"));
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: f, tokenizerConfig: {} });
  // The seeded random texts come last and are left out: transformers.js
  // classifies with JavaScript's current Unicode tables and approximates
  // the charsmap, so it parts from the Rust library on many of them.
  const rows = golden.variants[name].rows.slice(0, golden.variants[name].rows.length - random.length);
  out[name] = rows.map((r) => Array.from(tok.encode(r.text, { add_special_tokens: false })));
}
process.stdout.write(JSON.stringify(out) + "\n");
