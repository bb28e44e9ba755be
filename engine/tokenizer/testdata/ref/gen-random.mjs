// Writes parity-random.json: seeded random mixtures of words, scripts,
// whitespace, punctuation, marks, emoji, control and unassigned code
// points, special-token spellings and code, added to the parity corpus
// because hand-picked lines missed what such mixtures found (characters
// Unicode added after the reference's tables; see unicode_version.go).
// Characters of Unicode 16 are left out: grapheme clusters follow
// github.com/rivo/uniseg's Unicode 15 here and the reference's Unicode 16,
// which the Precompiled normalizer can tell apart (testdata/README.md).
import { writeFileSync } from "node:fs";

let seed = 20230601;
// mulberry32
function rnd() {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const pools = [
  ["hello", "world", "The", "quick", "brown", "fox", "tokenizer", "don't", "U.S.A.", "e-mail", "foo_bar", "x86_64", "HTTP/2", "naïve", "café", "Ünïcödé", "straße", "ﬁ", "Œuvre", "résumé", "İstanbul"],
  [" ", "  ", "   ", "\t", "\n", "\r\n", "\u00a0", "\u3000", "\u200b", "\u2028", "\u00ad", "\u200d", "\ufeff", "\u2009", "\u202f"],
  [".", ",", "!", "?", "...", "…", "—", "–", "«", "»", "“", "”", "'", "\"", "(", ")", "[", "]", "{", "}", "<", ">", "/", "\\", "@", "#", "$", "%", "^", "&", "*", "~", "`", "|", "=", "+", "-", "_", ":", ";", "\u061d", "⹏", "\u166d"],
  ["0", "42", "3.14", "1,000", "١٢٣", "१२३", "①", "½", "²", "Ⅻ", "٣", "㋿"],
  ["e\u0301", "a\u0308", "n\u0303", "o\u0302\u0323", "\u0301", "A\u030a", "i\u0307", "ǅ", "ĳ", "ŉ", "ſ", "K", "Å", "µ", "ß", "a\u0b55", "a\u1734", "\u{11935}\u{11930}"],
  ["Привет", "мир", "Γειά", "σου", "ΣΊΣΥΦΟΣ", "مرحبا", "بالعالم", "שלום", "नमस्ते", "हिन्दी", "สวัสดี", "ภาษาไทย", "ជំរាបសួរ", "ሰላም", "Բարեւ", "გამარჯობა"],
  ["你好", "世界", "漢字", "中文分词", "東京", "日本語", "ひらがな", "カタカナ", "ｶﾀｶﾅ", "ﾊﾟﾋﾟﾌﾟ", "ｶﾞ", "한국어", "안녕하세요", "\u1100\u1161\u11a8", "㍻", "㌔", "㈱", "Ａｂｃ", "！？"],
  ["😀", "👍🏽", "👩‍💻", "👨‍👩‍👧‍👦", "🇫🇷", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "❤️", "✔", "☃", "𝔘𝔫𝔦", "𝟘𝟙", "🜁"],
  ["\u0000", "\u0001", "\u0007", "\u001b", "\u007f", "\u0085", "\u009f", "\ue000", "\uffff", "\ufffd", "\u0378", "\u{10ffff}", "\u{e0041}", "\u0890", "\u08e2"],
  ["<s>", "</s>", "<pad>", "<unk>", "<mask>", "[CLS]", "[SEP]", "[MASK]", "[UNK]", "[PAD]", "##ing", "▁", "▁▁x", "<0x41>", "[unused1]"],
  ["func main() {", "\tfmt.Println(x)", "}", "if (a && b) || !c {", "x := []int{1, 2}", "def f(x):", "    return x**2", "SELECT * FROM t;", "<div class=\"a\">", "a->b", "i++", "#include <stdio.h>", "// comment", "/* c */", "$HOME/.config", "https://example.com/a?b=c&d=e"],
];
const texts = [];
for (let i = 0; i < 60; i++) {
  const n = 1 + Math.floor(rnd() * 24);
  let s = "";
  for (let j = 0; j < n; j++) {
    s += pick(pick(pools));
    if (rnd() < 0.5) s += " ";
  }
  texts.push(s);
}
writeFileSync(new URL("parity-random.json", import.meta.url), JSON.stringify(texts, null, 1) + "\n");
console.log(`wrote parity-random.json: ${texts.length} texts`);
