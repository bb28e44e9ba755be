// Writes ../unicode-sweep.json.gz: how the Hugging Face tokenizers library
// (Rust, npm "tokenizers") treats every Unicode code point: which ones
// BertNormalizer's clean_text deletes or turns into a space, which ones
// handle_chinese_chars pads, what lowercase, strip_accents and the NFC, NFD,
// NFKC and NFKD normalizers make of each, and which ones BertPreTokenizer
// isolates as punctuation or splits on as whitespace. TestUnicodeSweep
// checks engine/tokenizer against it. Run with `npm ci` here, then
// `node unicodesweep.mjs` (about a minute).
import { writeFileSync, readFileSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { bertNormalizer, bertPreTokenizer, nfcNormalizer, nfdNormalizer, nfkcNormalizer, nfkdNormalizer } = require("tokenizers");
const opts = (o) => bertNormalizer({ cleanText: false, handleChineseChars: false, stripAccents: false, lowercase: false, ...o });
const clean = opts({ cleanText: true });
const cjk = opts({ handleChineseChars: true });
const lower = opts({ lowercase: true });
const strip = opts({ stripAccents: true });
const pre = bertPreTokenizer();
const forms = { nfc: nfcNormalizer(), nfd: nfdNormalizer(), nfkc: nfkcNormalizer(), nfkd: nfkdNormalizer() };

const sets = { removed: [], space: [], cjk: [], punct: [], split: [] };
const maps = { lower: {}, strip: {}, nfc: {}, nfd: {}, nfkc: {}, nfkd: {} };
for (let cp = 0; cp <= 0x10ffff; cp++) {
  if (cp >= 0xd800 && cp <= 0xdfff) continue;
  const s = String.fromCodePoint(cp);
  const c = clean.normalizeString(s);
  if (c === "") sets.removed.push(cp);
  else if (c === " ") sets.space.push(cp);
  if (cjk.normalizeString(s) !== s) sets.cjk.push(cp);
  for (const [k, n] of [["lower", lower], ["strip", strip], ...Object.entries(forms)]) {
    const o = n.normalizeString(s);
    if (o !== s) maps[k][cp] = o;
  }
  const p = pre.preTokenizeString("a" + s + "b").map((x) => x[0]);
  if (p.length === 3 && p[1] === s) sets.punct.push(cp);
  else if (p.length === 2 && p[0] === "a" && p[1] === "b") sets.split.push(cp);
  else if (p.length !== 1) throw new Error(`U+${cp.toString(16)}: unexpected pieces ${JSON.stringify(p)}`);
}
// Sets as [lo, hi] ranges: the removed set alone has 137k code points.
function ranges(cps) {
  const out = [];
  for (const cp of cps) {
    const last = out[out.length - 1];
    if (last && last[1] === cp - 1) last[1] = cp;
    else out.push([cp, cp]);
  }
  return out;
}
const lock = JSON.parse(readFileSync(new URL("package-lock.json", import.meta.url), "utf8"));
const out = { generator: "ref/unicodesweep.mjs", tokenizers: lock.packages["node_modules/tokenizers"].version, ...maps };
for (const [k, v] of Object.entries(sets)) out[k] = ranges(v);
writeFileSync(new URL("../unicode-sweep.json.gz", import.meta.url), gzipSync(JSON.stringify(out) + "\n", { level: 9 }));
console.log("wrote unicode-sweep.json.gz:", Object.fromEntries(Object.entries(sets).map(([k, v]) => [k, v.length])));
