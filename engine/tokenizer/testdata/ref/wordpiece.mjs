// Prints the reference ids and decodes for ../tiny-wordpiece.json, the
// expectations of TestWordPiece in wordpiece_test.go. Run with `npm ci`
// in this directory, then `node wordpiece.mjs`.
import { readFileSync } from "node:fs";
import { TokenizerLoader } from "@lenml/tokenizers";

const json = JSON.parse(readFileSync(new URL("../tiny-wordpiece.json", import.meta.url), "utf8"));
const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: json, tokenizerConfig: {} });
for (const text of ["Unaffable, CAFÉ! hellos 日本 xyz 'S", "aaa", "unx", "a".repeat(101), "a".repeat(100)]) {
  console.log(JSON.stringify(Array.from(tok.encode(text, { add_special_tokens: true }))));
}
const ids = tok.encode("Unaffable, CAFÉ! hellos", { add_special_tokens: true });
console.log(JSON.stringify(tok.decode(ids, { skip_special_tokens: true })));
console.log(JSON.stringify(tok.decode(ids, { skip_special_tokens: false })));
// TestEncodePair: a sentence pair with its token type ids.
const pair = tok._encode_plus("hello!", { text_pair: "Unaffable", return_token_type_ids: true });
console.log(JSON.stringify({ ids: pair.input_ids, types: pair.token_type_ids }));
