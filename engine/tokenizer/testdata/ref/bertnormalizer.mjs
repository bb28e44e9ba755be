// Prints the reference output of the normalizer cases of TestBertNormalizer
// (bert_normalize_test.go). Run with `npm ci` in this directory, then
// `node bertnormalizer.mjs`.
import { TokenizerLoader } from "@lenml/tokenizers";
import { readFileSync } from "node:fs";
const base = JSON.parse(readFileSync(new URL("../tiny-wordpiece.json", import.meta.url), "utf8"));
const cases = [
 [{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":true}, "Héllò hôw are ü?"],
 [{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":true,"strip_accents":null,"lowercase":false}, "Héllò hôw are ü?"],
 [{"type":"BertNormalizer","clean_text":true,"handle_chinese_chars":false,"strip_accents":false,"lowercase":false}, "a\x00b\ufffdc\u200bd\te\nf\u00a0g\u3000h\x07i"],
 [{"type":"BertNormalizer","clean_text":false,"handle_chinese_chars":true,"strip_accents":false,"lowercase":false}, "日本語かな한국"],
 [{"type":"BertNormalizer","clean_text":false,"handle_chinese_chars":false,"strip_accents":true,"lowercase":false}, "Crème Brûlée"],
 [{"type":"Sequence","normalizers":[{"type":"NFD"},{"type":"StripAccents"},{"type":"Lowercase"}]}, "Ångström ÇA"],
];
for (const [n, t] of cases) {
  const tok = TokenizerLoader.fromPreTrained({ tokenizerJSON: { ...base, normalizer: n }, tokenizerConfig: {} });
  console.log(JSON.stringify(tok.normalizer(t)));
}
