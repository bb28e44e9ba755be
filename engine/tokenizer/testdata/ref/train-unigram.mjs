// Trains the Unigram tokenizer in ../unigram/tokenizer.json with the Hugging
// Face tokenizers library (Rust, official Node binding) and lays it out the
// way transformers' XLMRobertaConverter lays out xlm-roberta-base: the
// SentencePiece nmt_nfkc precompiled_charsmap (taken verbatim from the real
// BARThez tokenizer.json in ../barthez), WhitespaceSplit + Metaspace, ids
// <s>=0 <pad>=1 </s>=2 <unk>=3, <mask> last, "<s> A </s>" and
// "<s> A </s></s> B </s>" templates. Training text: the corpus files here
// and Go's net/http sources. Run `node train-unigram.mjs` (needs `go`).
import { readFileSync, writeFileSync, mkdirSync, mkdtempSync } from "node:fs";
import { gunzipSync } from "node:zlib";
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(import.meta.url);
const { Tokenizer } = require("tokenizers");
const here = new URL(".", import.meta.url);
const barthez = JSON.parse(gunzipSync(readFileSync(new URL("../barthez/tokenizer.json.gz", here))).toString("utf8"));
const charsmap = barthez.normalizer.precompiled_charsmap;

const goroot = execFileSync("go", ["env", "GOROOT"], { encoding: "utf8" }).trim();
const httpDir = join(goroot, "src", "net", "http");
let text = "";
for (const f of execFileSync("ls", [httpDir], { encoding: "utf8" }).split("\n").filter((f) => f.endsWith(".go")).sort()) {
  if (text.length > 400000) break;
  text += readFileSync(join(httpDir, f), "utf8");
}
const lines = JSON.parse(readFileSync(new URL("corpus.json", here), "utf8"))
  .concat(JSON.parse(readFileSync(new URL("parity-corpus.json", here), "utf8")));
for (let i = 0; i < 30; i++) text += lines.join("\n") + "\n";
const dir = mkdtempSync(join(tmpdir(), "unigram-"));
writeFileSync(join(dir, "train.txt"), text);

const pipeline = {
  normalizer: { type: "Precompiled", precompiled_charsmap: charsmap },
  pre_tokenizer: { type: "Sequence", pretokenizers: [
    { type: "WhitespaceSplit" },
    { type: "Metaspace", replacement: "▁", add_prefix_space: true },
  ] },
};
const seed = Tokenizer.fromString(JSON.stringify({
  version: "1.0", truncation: null, padding: null, added_tokens: [], post_processor: null, decoder: null,
  ...pipeline, model: { type: "Unigram", unk_id: 0, vocab: [["<unk>", 0.0]] },
}));
seed.train([join(dir, "train.txt")]);
seed.save(join(dir, "trained.json"));
const trained = JSON.parse(readFileSync(join(dir, "trained.json"), "utf8"));

const specials = ["<s>", "<pad>", "</s>", "<unk>"];
const vocab = specials.map((s) => [s, 0.0])
  .concat(trained.model.vocab.filter(([p]) => !specials.includes(p) && p !== "<mask>"));
vocab.push(["<mask>", 0.0]);
const added = (content, id, lstrip = false) =>
  ({ id, content, single_word: false, lstrip, rstrip: false, normalized: false, special: true });
const tok = {
  version: "1.0", truncation: null, padding: null,
  added_tokens: [added("<s>", 0), added("<pad>", 1), added("</s>", 2), added("<unk>", 3), added("<mask>", vocab.length - 1, true)],
  ...pipeline,
  post_processor: {
    type: "TemplateProcessing",
    single: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
    pair: [{ SpecialToken: { id: "<s>", type_id: 0 } }, { Sequence: { id: "A", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } },
      { SpecialToken: { id: "</s>", type_id: 0 } }, { Sequence: { id: "B", type_id: 0 } }, { SpecialToken: { id: "</s>", type_id: 0 } }],
    special_tokens: {
      "<s>": { id: "<s>", ids: [0], tokens: ["<s>"] },
      "</s>": { id: "</s>", ids: [2], tokens: ["</s>"] },
    },
  },
  decoder: { type: "Metaspace", replacement: "▁", add_prefix_space: true },
  model: { unk_id: 3, vocab },
};
mkdirSync(new URL("../unigram", here), { recursive: true });
writeFileSync(new URL("../unigram/tokenizer.json", here), JSON.stringify(tok) + "\n");
// Loading it back checks that the reference accepts the file.
Tokenizer.fromFile(new URL("../unigram/tokenizer.json", here).pathname);
console.log(`wrote unigram/tokenizer.json: ${vocab.length} pieces`);
