// Package bench is what `mlx-manager bench` runs: for each precision (F32,
// BF16, F16 and MLX affine 8- and 4-bit with groups of 64) of a deterministic,
// randomly initialised ~0.5B-parameter Llama (hidden 1536, intermediate 4096,
// 16 layers, 24 heads, 8 KV heads, vocabulary 32000: the model of the
// llama.cpp reference figures), or for a given model directory, it reports
// load time, prefill speed on a 512-token prompt, time to first token,
// decode speed over 128 tokens, peak RSS, and the memory bandwidth decode
// sustains as a fraction of the machine's (STREAM triads measured between
// the runs, each run against the mean of the two around it).
//
// With concurrency levels (RunConcurrency, `bench --concurrency 1,2,4,8`) it
// starts N requests at once through engine/sched, the engine's continuous
// batching, and reports their aggregate decode speed and time to first token.
// Each level keeps one scheduler for all its runs, warmed up by a run that is
// not counted, as the server keeps one per loaded model.
//
// Generated models are written once, sharded, with engine/safetensors into a
// cache directory and reused while their stamp (bench.json) matches.
//
// Who may import me: app (the CLI). I import engine/cpu, engine/model,
// engine/sched and engine/safetensors.
package bench
