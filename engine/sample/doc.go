// Package sample turns a model's logits into the next token: greedy decoding,
// temperature, top-k, top-p (nucleus) and min-p sampling, Hugging Face's
// repetition penalty and OpenAI's frequency and presence penalties, logit bias,
// log-probabilities, an allowed-token mask (from engine/sample/grammar) and stop
// strings.
//
// # Order of operations
//
// For each token the Sampler
//
//  1. copies the logits and sets those outside the mask to -Inf,
//  2. adds LogitBias,
//  3. applies the repetition penalty once per distinct seen token (prompt given to
//     SetPrompt, plus history), then the frequency and presence penalties over the
//     history (the generated tokens),
//  4. computes log-probabilities: a log-softmax of these logits at temperature 1,
//     before top-k, top-p and min-p truncation. This is what OpenAI reports:
//     the model's (penalised) distribution, not the truncated one it sampled from,
//     so a token's logprob does not change with top_p. Masked tokens have
//     probability zero and never appear among the alternatives.
//  5. picks the token: Temperature 0 is argmax (ties to the lowest id, no random
//     draw); otherwise logits are divided by the temperature and top-k, top-p and
//     min-p are applied in that order (Hugging Face's warper order) before one
//     draw from a PCG generator seeded from Params.Seed.
//
// # Cost
//
// A Sampler owns buffers the size of the vocabulary and allocates nothing per
// call once created. Nothing sorts the vocabulary: top-k and the top logprobs use
// a bounded heap or quickselect, and top-p sorts only a growing best-first prefix
// until it holds the requested mass.
//
// Who may import me: the engine's packages.
// I import only the standard library.
package sample
